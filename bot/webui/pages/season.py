"""A team's monthly board (`board` in chat): customer-earned points, ranked among those
who served the minimum of customers; a closed month as it stood when it closed."""

from datetime import UTC, datetime

from fastapi.responses import Response

from bot.webui.deps import ConfigDep, PageError, PageScope, PageViewer, SessionDep
from bot.webui.pages.base import Render, chosen_team, page_router
from handlers.seasons import board, valid_month
from storage.enums import Role

router = page_router()


@router.get("/season")
def season_page(viewer: PageViewer, scope: PageScope, session: SessionDep, config: ConfigDep,
                render: Render, month: str = "", team: str | None = None) -> Response:
    if month and not valid_month(month[:7]):
        raise PageError(404, "error.not_found")
    month = month[:7] or datetime.now(UTC).astimezone(config.organisation.tz).strftime("%Y-%m")
    if viewer.employee.role == Role.EMPLOYEE:  # their own team's board, as in chat
        if viewer.employee.team_id is None:
            raise PageError(404, "error.not_found")
        shown, visible = viewer.employee.team_id, []
    else:
        found, visible = chosen_team(session, scope, viewer, team)
        shown = found.id
    return render("season.html", season=board(session, config, shown, month), teams=visible,
                  minimum=config.seasons.min_customers)
