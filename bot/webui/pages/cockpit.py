"""The team cockpit: a team's month, the customers' voice beside the staff's, the
mirror problems that hurt both, and the team's experience-council items, opened and
moved on here as the same commands as in chat (supervisors see their own team; HR
every team)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from fastapi.responses import Response
from sqlmodel import Session, select

from bot.kit.config import Config
from bot.webui import charts
from bot.webui.deps import (
    CheckedForm,
    ConfigDep,
    Locale,
    PageError,
    PageScope,
    PageViewer,
    SessionDep,
)
from bot.webui.pages.base import Render, Run, as_id, chosen_team, done, page_router
from bot.webui.pages.reports import Month
from bot.webui.text import text
from handlers.base import money
from handlers.calendar import month_bounds
from handlers.council.commands import CouncilOpen
from handlers.council.workflow import STEPS, CouncilStep
from handlers.reports.mirror import cockpit
from handlers.reports.recovery_figures import RecoveryFigures, custom_plans, recovery_figures
from handlers.reports.trends import team_trend
from handlers.reports.voices import customer_voice
from handlers.words import HANDLE, REFERENCE
from storage.models import CouncilItem, Employee, Team

router = page_router(supervisors_only=True)


@router.get("/cockpit")
def cockpit_page(viewer: PageViewer, scope: PageScope, session: SessionDep, config: ConfigDep,
                 month: Month, locale: Locale, render: Render,
                 team: str | None = None) -> Response:
    shown, visible = chosen_team(session, scope, viewer, team)
    custom_plans(session)  # every query of the page, not only the recovery figures
    since, until = month_bounds(month, ZoneInfo(shown.timezone))  # the team's own days
    report = cockpit(session, config, shown.id, since, until)
    names = {theme.key: theme.name(locale) for theme in config.themes}
    named = customer_voice(session, since, until, [shown.id], by_employee=True)
    shown_ids = [employee_id for employee_id in named if scope.sees(employee_id)]
    people = [(person, named[person.id]) for person in session.exec(
        select(Employee).where(Employee.id.in_(shown_ids)).order_by(Employee.name))]
    items = session.exec(select(CouncilItem, Employee.name)
                         .join(Employee, Employee.id == CouncilItem.owner_id)
                         .where(CouncilItem.team_id == shown.id)
                         .order_by(CouncilItem.id.desc())).all()
    return render("cockpit.html", team=shown, teams=visible, month=month, report=report,
                  names=names, minimum=config.rituals.pulse.min_answers, items=items,
                  people=people,
                  steps={step: leaves for step, (leaves, _reaches) in STEPS.items()},
                  chart=charts.bar_chart("cockpit.mirror_chart", [
                      (names[theme.key][:14], min(theme.customers, theme.staff))
                      for theme in report.mirror[:8]]),
                  **_team_months(session, config, shown, month, locale))


def _team_months(session: Session, config: Config, team: Team, month: str,
                 locale: str) -> dict:
    """The team's recovery figures for the month and its trend lines over twelve, in the
    team's own months (a case opened at 23:30 on its last local day is the month's)."""
    tz, now = ZoneInfo(team.timezone), datetime.now(UTC)
    figures = recovery_figures(session, [team.id], *month_bounds(month, tz), now).get(
        team.id, RecoveryFigures())
    trend = team_trend(session, config, team.id, month, tz)
    labels = [text(f"month.short.{int(point.month[5:])}", locale) for point in trend]
    return {"recovery": figures, "goodwill": [money(amount, currency) for currency, amount
                                               in sorted(figures.goodwill.items())],
            "voices_trend": charts.line_chart("cockpit.trend_voices", labels, [
                ("cockpit.series.nps", [p.nps for p in trend]),
                ("cockpit.series.csat", [p.csat for p in trend]),
                ("cockpit.series.enps", [p.enps for p in trend])], low=-100, high=100),
            "waivers_trend": charts.line_chart("cockpit.trend_waivers", labels, [
                ("cockpit.series.waivers", [p.waivers for p in trend])], low=0)}


@router.post("/council/open")
def council_open(form: CheckedForm, run: Run) -> Response:
    """HR opens an item for a mirror theme (the command itself admits HR and admins
    only, who see every team; the team is named as in chat)."""
    team_id = as_id(form.get("team"))
    owner = form.get("owner", "").strip().removeprefix("@")
    if owner and not HANDLE.match(f"@{owner}"):
        raise PageError(400, "error.not_found")
    reply, locale = run(CouncilOpen(form.get("theme", "")[:100], owner.lower() or None,
                                    form.get("team_name", "")))
    return done(f"/cockpit?team={team_id or ''}", reply, locale)


@router.post("/council/step")
def council_step(form: CheckedForm, run: Run) -> Response:
    reference, step = REFERENCE.match(form.get("ref", "")), form.get("step")
    if reference is None or reference.group(1).upper() != "X" or step not in STEPS:
        raise PageError(400, "error.not_found")
    owner, due = form.get("owner", "").strip().removeprefix("@"), None
    if owner and not HANDLE.match(f"@{owner}"):
        raise PageError(400, "error.not_found")
    if step == "start":
        try:
            due = date.fromisoformat(form.get("due", ""))
        except ValueError:
            raise PageError(400, "error.council_due") from None
    reply, locale = run(CouncilStep(int(reference.group(2)), step, "", owner.lower() or None,
                                    due))
    return done(f"/cockpit?team={as_id(form.get('team')) or ''}", reply, locale)
