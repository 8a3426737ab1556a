"""The team cockpit: a team's month, the customers' voice beside the staff's, and the
mirror problems that hurt both (supervisors see their own team; HR every team)."""

from fastapi.responses import Response

from bot.webui import charts
from bot.webui.deps import ConfigDep, Locale, PageError, PageScope, PageViewer, SessionDep
from bot.webui.pages.base import Render, as_id, page_router
from bot.webui.pages.reports import Month
from handlers.calendar import month_bounds
from handlers.reports.mirror import cockpit
from handlers.scope import teams
from storage.models import Team

router = page_router(supervisors_only=True)


@router.get("/cockpit")
def cockpit_page(viewer: PageViewer, scope: PageScope, session: SessionDep, config: ConfigDep,
                 month: Month, locale: Locale, render: Render,
                 team: str | None = None) -> Response:
    visible = teams(session, scope)
    team_id = as_id(team)
    if team_id is None:
        team_id = viewer.employee.team_id or (visible[0].id if visible else None)
    shown = session.get(Team, team_id) if team_id is not None else None
    if shown is None or not scope.sees_team(shown.id):
        raise PageError(404, "error.not_found")
    since, until = month_bounds(month, config.organisation.tz)
    report = cockpit(session, config, shown.id, since, until)
    names = {theme.key: theme.name(locale) for theme in config.themes}
    return render("cockpit.html", team=shown, teams=visible, month=month, report=report,
                  names=names, minimum=config.rituals.pulse.min_answers,
                  chart=charts.bar_chart("cockpit.mirror_chart", [
                      (names[theme.key][:14], min(theme.customers, theme.staff))
                      for theme in report.mirror[:8]]))
