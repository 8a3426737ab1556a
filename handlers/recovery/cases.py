"""What the recovery loop's steps share: finding a case, who may act on it and see it,
the parameters every message about it carries, its buttons, and the case shown with
its history and the goodwill given under it (`recover K3`, `history K3`)."""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, func, literal, or_
from sqlmodel import Session, select

from handlers.base import PRIVILEGED, Action, Context, Message, Refusal, Reply, money
from handlers.calendar import local_time
from handlers.registry import follows
from storage.enums import CompensationStatus, RecoveryStatus
from storage.models import Compensation, Employee, RecoveryCase, RequestEvent

LETTER = "K"
GOODWILL = (CompensationStatus.SELF_AUTHORISED, CompensationStatus.APPROVED,
            CompensationStatus.PENDING)
SCORED = {"nps": "NPS {score}", "csat": "CSAT {score}/5", "ces": "CES {score}/7"}


def ref_of(case: RecoveryCase) -> str:
    return f"{LETTER}{case.id}"


def params(case: RecoveryCase, tz) -> dict[str, Any]:
    """What every message about the case says: its reference, what the customer gave
    (a score, or `what_key` for a complaint), who they are, where, their words and the
    call-back deadline in the organisation's time."""
    what: dict[str, Any] = {"what": SCORED[case.kind].format(score=case.score)} \
        if case.kind in SCORED else {"what_key": f"recovery.kind.{case.kind}"}
    return {"ref": ref_of(case), **what, "customer": case.customer_ref or "-",
            "touchpoint": case.touchpoint or "-", "text": case.text or "-",
            "due": local_time(case.due_at, tz)}


def card_actions(case: RecoveryCase) -> list[Action]:
    """The buttons of a case that waits for its call-back (three: DingTalk's most)."""
    ref = ref_of(case)
    return [Action("action.reached", f"recover {ref} reached"),
            Action("action.unreached", f"recover {ref} unreached"),
            Action("action.case", f"recover {ref}")]


def closing_actions(case: RecoveryCase) -> list[Action]:
    ref = ref_of(case)
    return [Action("action.recovered", f"recover {ref} close recovered"),
            Action("action.not_recovered", f"recover {ref} close lost"),
            Action("action.customer_declined", f"recover {ref} close declined")]


def find(ctx: Context, case_id: int) -> RecoveryCase:
    found = ctx.session.get(RecoveryCase, case_id)
    if found is None:
        raise Refusal("refuse.not_found", ref=f"{LETTER}{case_id}")
    return found


def _events(session: Session, ref: str) -> list[RequestEvent]:
    return list(session.exec(select(RequestEvent).where(RequestEvent.ref == ref)
                             .order_by(RequestEvent.id)).all())


def may_act(ctx: Context, case: RecoveryCase) -> bool:
    """The holder, the holder's supervisor, whoever an overdue case was escalated to,
    and HR."""
    me = ctx.actor.id
    if me == case.holder_id or ctx.actor.role in PRIVILEGED:
        return True
    holder = ctx.session.get(Employee, case.holder_id)
    if holder is not None and holder.supervisor_id == me:
        return True
    return ctx.session.exec(select(RequestEvent.id).where(
        RequestEvent.ref == ref_of(case), RequestEvent.event == "case_escalated",
        RequestEvent.target_id == me)).first() is not None


def acting(ctx: Context, case_id: int) -> RecoveryCase:
    """The open case the sender may act on, or the refusal that says why not."""
    case = find(ctx, case_id)
    if not may_act(ctx, case):
        if ctx.actor.id != case.employee_id:  # someone with no part in it: no such case
            raise Refusal("refuse.not_found", ref=ref_of(case))
        holder = ctx.session.get(Employee, case.holder_id)
        raise Refusal("refuse.case_not_yours", ref=ref_of(case), holder=holder.name)
    if case.status != RecoveryStatus.OPEN:
        raise Refusal("refuse.case_closed", ref=ref_of(case),
                      outcome_key=f"recovery.outcome.{case.outcome}")
    return case


def state_key(case: RecoveryCase, now: datetime) -> str:
    if case.status == RecoveryStatus.CLOSED:
        return f"recovery.outcome.{case.outcome}"
    if case.called_back_at is not None:
        return "recovery.state.called_back"
    return "recovery.state.overdue" if case.due_at < now else "recovery.state.open"


def references(case: RecoveryCase | type[RecoveryCase]) -> list[ColumnElement[str]]:
    """The references goodwill names a case by, lowered: its own (`comp … #K3`) and its
    customer's (`comp … #A17`). Of one case, or of the table's columns (the cockpit's
    figures link the goodwill of many cases the same way)."""
    return [func.lower(literal(LETTER) + cast(case.id, String)), func.lower(case.customer_ref)]


def linked(reference: ColumnElement[str], opened_at: Any) -> ColumnElement[bool]:
    """A compensation given as goodwill under a case: named by one of its `references`,
    given since the case opened (a pending one too; the case marks it)."""
    return and_(Compensation.customer_ref != "",
                func.lower(Compensation.customer_ref) == reference,
                Compensation.status.in_(GOODWILL), Compensation.created_at >= opened_at)


def goodwill(ctx: Context, case: RecoveryCase) -> list[Message]:
    """Goodwill given under the case, a line each."""
    rows = ctx.session.exec(select(Compensation, Employee.name).join(
        Employee, Employee.id == Compensation.employee_id).where(
        or_(*(linked(ref, case.opened_at) for ref in references(case))))
        .order_by(Compensation.id)).all()
    return [Message("recovery.goodwill_pending" if given.status == CompensationStatus.PENDING
                    else "recovery.goodwill", {
                        "ref": f"C{given.id}", "who": name,
                        "amount": money(given.amount_minor, given.currency),
                        "kind_key": f"kind.{given.kind}", "reason": given.reason})
            for given, name in rows]


def held(ctx: Context) -> Reply | None:
    """The sender's open cases, oldest deadline first, for `pending` and `recover`."""
    cases = ctx.session.exec(select(RecoveryCase).where(
        RecoveryCase.holder_id == ctx.actor.id, RecoveryCase.status == RecoveryStatus.OPEN)
        .order_by(RecoveryCase.due_at, RecoveryCase.id)).all()
    if not cases:
        return None
    reply = Reply.of("recovery.held_header", count=len(cases))
    tz = ctx.config.organisation.tz
    for case in cases:
        reply.messages.append(Message("recovery.held_line", {
            **params(case, tz), "state_key": state_key(case, ctx.now)}))
    return reply


@follows(LETTER, held=held, model=RecoveryCase, holder_column="holder_id",
         open_status=RecoveryStatus.OPEN, since="due_at")
def show(ctx: Context, case_id: int) -> Reply:
    """The case, the goodwill given under it and everything that happened to it: for
    whoever may act on it, the person the customer named and anyone who took part."""
    case = find(ctx, case_id)
    ref = ref_of(case)
    events = _events(ctx.session, ref)
    me = ctx.actor.id
    if not (may_act(ctx, case) or me == case.employee_id
            or any(me in (e.actor_id, e.target_id) for e in events)):
        raise Refusal("refuse.not_found", ref=ref)
    ids = {case.holder_id, *(i for e in events for i in (e.actor_id, e.target_id) if i)}
    names = {e.id: e.name for e in ctx.session.exec(
        select(Employee).where(Employee.id.in_(sorted(ids)))).all()}
    reply = Reply.of("recovery.header", **params(case, ctx.config.organisation.tz),
                     holder=names.get(case.holder_id, "?"),
                     state_key=state_key(case, ctx.now))
    reply.messages.extend(goodwill(ctx, case))
    for event in events:
        reply.messages.append(Message(f"history.{event.event}", {
            "when": ctx.local(event.created_at), "actor": names.get(event.actor_id, "Frontline"),
            "target": names.get(event.target_id, "-"), "detail": event.detail or "-"}))
    if case.status == RecoveryStatus.OPEN and may_act(ctx, case):
        reply.actions.extend(card_actions(case)[:2] if case.called_back_at is None
                             else closing_actions(case))
    return reply
