"""The signals page: patterns in goodwill worth a look, with the records behind each,
and who never used their authority while peers did, for the people's supervisors and
HR; HR dismisses a signal with a note (kept, shown)."""

from fastapi.responses import Response
from sqlmodel import select

from bot.webui.deps import CheckedForm, ConfigDep, PageError, PageScope, PageViewer, SessionDep
from bot.webui.pages.base import Render, Run, done, page_router
from bot.webui.pages.reports import Month, Page
from handlers.base import PRIVILEGED
from handlers.reports.authority import coaching_lines
from handlers.reports.signals import month_signals, visible
from handlers.signals import NOTE_LIMIT, DismissSignal
from storage.models import Employee

router = page_router(supervisors_only=True)
SIGNALS_SHOWN = 50  # open signals on a page


@router.get("/signals")
def signals_page(scope: PageScope, session: SessionDep, month: Month, config: ConfigDep,
                 viewer: PageViewer, render: Render, page: Page = 1) -> Response:
    """The open signals a page at a time (a busy month of a large organisation finds
    hundreds), the coaching and the dismissed ones on the first."""
    found = visible(month_signals(session, config, month, scope), scope)
    waiting = [s for s in found if s.dismissal is None]
    first = page == 1
    shown = waiting[(page - 1) * SIGNALS_SHOWN:page * SIGNALS_SHOWN] + (
        [s for s in found if s.dismissal is not None] if first else [])
    coach = coaching_lines(session, config, scope, month) if first else []
    named = {record.employee_id for signal in shown for record in signal.records} | {
        signal.dismissal.dismissed_by_id for signal in shown if signal.dismissal}
    names = dict(session.exec(select(Employee.id, Employee.name).where(
        Employee.id.in_(named))).all()) if named else {}
    return render("signals.html", month=month, names=names, note_limit=NOTE_LIMIT,
                  open=[s for s in shown if s.dismissal is None],
                  dismissed=[s for s in shown if s.dismissal is not None], coach=coach,
                  currency=config.organisation.currency,
                  dismisses=viewer.employee.role in PRIVILEGED, page=page,
                  last=page * SIGNALS_SHOWN >= len(waiting))


@router.post("/signals/dismiss")
def dismiss_signal(form: CheckedForm, run: Run, viewer: PageViewer) -> Response:
    if viewer.employee.role not in PRIVILEGED:
        raise PageError(403, "error.hr_dismiss_signals")
    key = form.get("key", "")[:200]
    reply, locale = run(DismissSignal(key, form.get("note", "").strip()[:NOTE_LIMIT + 1]))
    month = key.rsplit(":", 1)[-1]
    return done(f"/signals?month={month}" if reply.ok else "/signals", reply, locale)
