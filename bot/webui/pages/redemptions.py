"""The redemption queue and record; HR approves, fulfils or rejects (a rejection
refunds through a reversal entry)."""

from fastapi.responses import Response

from bot.webui.deps import (
    CheckedForm,
    ConfigDep,
    EngineDep,
    Locale,
    PageError,
    PageScope,
    PageViewer,
    SessionDep,
)
from bot.webui.pages.base import SMALL_ID, Render, Run, done, page_router
from handlers.base import PRIVILEGED
from handlers.i18n import render_message
from handlers.redemptions import SettleRedemption, point_worth
from handlers.scope import OPEN_REDEMPTIONS, SETTLED_REDEMPTIONS, redemption_queue, scope_of
from storage.engine import transaction
from storage.enums import RedemptionStatus as Status
from storage.models import Redemption

router = page_router()


@router.get("/redemptions")
def redemptions_page(render: Render, viewer: PageViewer, session: SessionDep,
                     scope: PageScope, config: ConfigDep, locale: Locale,
                     show: str | None = None) -> Response:
    settled = show == "settled"
    return render("redemptions.html", settled=settled,
                  worth=[render_message(m, locale) for m in point_worth(config, locale)],
                  queue=redemption_queue(session, scope,
                                         SETTLED_REDEMPTIONS if settled else OPEN_REDEMPTIONS),
                  catalog={item.key: item for item in config.catalog},
                  decides=viewer.employee.role in PRIVILEGED)


@router.post("/redemptions/{redemption_id}")
def settle_redemption(redemption_id: int, viewer: PageViewer, form: CheckedForm,
                      engine: EngineDep, run: Run) -> Response:
    # A look in a transaction of its own, closed before the command runs in another.
    with transaction(engine) as session:
        redemption = session.get(Redemption, redemption_id) \
            if 0 < redemption_id <= SMALL_ID else None
        if redemption is None or not scope_of(session, viewer.employee).sees(
                redemption.employee_id):
            raise PageError(404, "error.not_found")
    if viewer.employee.role not in PRIVILEGED:
        raise PageError(403, "error.hr_decide_redemptions")
    outcome = form.get("outcome", "")
    if outcome not in (Status.APPROVED, Status.FULFILLED, Status.REJECTED):
        raise PageError(400, "error.not_found")
    reply, locale = run(SettleRedemption(redemption_id, outcome,
                                           form.get("comment", "").strip()))
    return done("/redemptions", reply, locale)
