"""The team cockpit: a team's month, the customers' voice beside the staff's, the
mirror problems that hurt both, and the team's experience-council items, opened and
moved on here as the same commands as in chat (supervisors see their own team; HR
every team)."""

from datetime import date

from fastapi.responses import Response
from sqlmodel import select

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
from handlers.calendar import month_bounds
from handlers.council.commands import CouncilOpen
from handlers.council.workflow import STEPS, CouncilStep
from handlers.reports.mirror import cockpit
from handlers.reports.voices import customer_voice
from handlers.words import HANDLE, REFERENCE
from storage.models import CouncilItem, Employee

router = page_router(supervisors_only=True)


@router.get("/cockpit")
def cockpit_page(viewer: PageViewer, scope: PageScope, session: SessionDep, config: ConfigDep,
                 month: Month, locale: Locale, render: Render,
                 team: str | None = None) -> Response:
    shown, visible = chosen_team(session, scope, viewer, team)
    since, until = month_bounds(month, config.organisation.tz)
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
                      for theme in report.mirror[:8]]))


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
