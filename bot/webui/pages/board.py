"""Everyone's own experience board: the last twelve months of the customers' scores of
them, praise, goodwill within and above their authority, and improvement cases against
the career threshold."""

from datetime import UTC, datetime

from fastapi.responses import Response

from bot.webui import charts
from bot.webui.deps import ConfigDep, PageViewer, SessionDep
from bot.webui.pages.base import Render, page_router
from handlers.reports.board import board, current_month

router = page_router()


@router.get("/me")
def board_page(viewer: PageViewer, session: SessionDep, config: ConfigDep,
               render: Render) -> Response:
    months = board(session, config, viewer.employee.id,
                   current_month(config, datetime.now(UTC)), 12)
    return render("me.html", months=months, needed=config.points.career_improvement_cases,
                  currency=config.organisation.currency,
                  praise=charts.bar_chart("me.praise_chart",
                                          [(row.month[2:], row.praise) for row in months]))
