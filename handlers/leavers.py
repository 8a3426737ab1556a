"""`leaver @bob [reason]`: HR marks someone as left (the directory import does the same
for a row whose `active` turns to no). In the one transaction: the person is made
inactive, so the bot refuses them from then on; what waits for their decision (and the
recovery cases they hold) moves to whoever decides in their place, on each record's
history; their half-filled forms close; and the organisation's rule (`leavers.balance`)
is applied to their balance: kept, paid out (a ledger entry taking it to 0, which the
payroll export lists) or forfeited (the same entry, nothing paid)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, update
from sqlmodel import Session, select

from handlers.base import (
    PRIVILEGED,
    Context,
    Refusal,
    Reply,
    decision_actions,
    find_approver,
    on_duty,
    queue,
    record_event,
)
from handlers.policy import Policy
from handlers.registry import DECIDABLE, FOLLOWED, Command, handles, verb, with_approver
from handlers.words import leading_handle, require
from points import ledger
from storage.enums import LedgerReason
from storage.models import ChatIdentity, Departure, Employee, FormState, PointsAccount

RULES = {"paid_out": LedgerReason.PAID_OUT, "forfeited": LedgerReason.FORFEITED}


@dataclass(frozen=True)
class Leave(Command):
    """A person marked as left."""

    employee: str
    reason: str = ""


@verb("leaver")
def parse_leaver(rest: list[str]) -> Leave:
    employee, rest = leading_handle(rest)
    require(employee is not None, "error.handle")
    return Leave(employee, " ".join(rest))


@handles(Leave, roles=PRIVILEGED)
def leave(ctx: Context, command: Leave) -> Reply:
    person = ctx.session.exec(select(Employee).where(
        Employee.handle == command.employee.lower())).first()
    if person is None:
        raise Refusal("refuse.unknown_handle", handle=command.employee)
    if not person.active:
        raise Refusal("refuse.already_left", who=person.name)
    if person.id == ctx.actor.id:
        raise Refusal("refuse.self_leaver")
    gone = depart(ctx.session, ctx.config, person, ctx.now, ctx.actor.id, command.reason)
    return Reply.of("leaver.done", who=person.name, moved=gone.moved, forms=gone.forms,
                    balance=gone.balance, rule_key=f"leaver.rule.{gone.rule}")


def depart(session: Session, config: Policy, person: Employee, now: datetime,
           by_id: int | None, reason: str = "") -> Departure:
    """Everything leaving does, in the caller's transaction; the person must be active."""
    person.active = False
    session.add(person)
    session.flush()  # inactive before anyone is chosen in their place
    balance = _lock_balance(session, person.id)
    gone = Departure(employee_id=person.id, reason=reason, rule=config.leavers.balance,
                     balance=balance, by_id=by_id, left_at=now)
    session.add(gone)
    session.flush()
    gone.moved = _move_waiting(session, person, now, by_id)
    gone.forms = _close_forms(session, person.id)
    if gone.rule in RULES and balance > 0:
        ledger.post(session, employee_id=person.id, amount=-balance, reason=RULES[gone.rule],
                    source_type="departure", source_id=gone.id, actor_id=by_id,
                    idempotency_key=f"departure:{gone.id}:{gone.rule}", now=now, note=reason)
    session.add(gone)
    return gone


def _lock_balance(session: Session, person_id: int) -> int:
    """The balance, its row locked (PostgreSQL) so nothing moves it before the rule."""
    found = session.exec(select(PointsAccount.balance).where(
        PointsAccount.employee_id == person_id).with_for_update()).first()
    return found or 0


def _move_waiting(session: Session, person: Employee, now: datetime, by_id: int | None) -> int:
    """What waits for the leaver's decision, and the cases they hold, to whoever decides
    in their place (their supervisor, else HR; a delegate while that one is away), never
    to the requester; each on its history. Returns how many moved."""
    moved = 0
    for kind in with_approver():
        moved += _hand(session, person, now, by_id, kind.letter, kind.model,
                       kind.approver_column, kind.awaiting, decision_actions)
    for letter, held in FOLLOWED.items():
        moved += _hand(session, person, now, by_id, letter, held.model, held.holder_column,
                       held.open_status, lambda ref: [])
    return moved


def _hand(session: Session, person: Employee, now: datetime, by_id: int | None, letter: str,
          model: type, column: str, status: str, actions) -> int:
    moved = 0
    for record in session.exec(select(model).where(
            model.status == status, getattr(model, column) == person.id)).all():
        requester = record.employee_id or 0
        approver = find_approver(session, person, exclude=frozenset({requester}))
        if approver is None:
            raise Refusal("refuse.no_approver")
        target = on_duty(session, approver, requester, now)
        ref = f"{letter}{record.id}"
        session.execute(update(model).where(model.id == record.id).values({column: target.id}))
        record_event(session, now, ref, "left", by_id, target.id, person.name)
        queue(session, now, "person", "notify.moved_left", {"ref": ref, "who": person.name},
              actions(ref) if letter in DECIDABLE else None, employee_id=target.id)
        moved += 1
    return moved


def _close_forms(session: Session, person_id: int) -> int:
    """Half-filled forms in the leaver's chats, on every platform they are linked on."""
    linked = session.exec(select(ChatIdentity.platform, ChatIdentity.platform_user_id).where(
        ChatIdentity.employee_id == person_id)).all()
    if not linked:
        return 0
    return session.execute(delete(FormState).where(or_(*(
        (FormState.platform == platform) & FormState.conversation.endswith(f":{user}")
        for platform, user in linked)))).rowcount


def has_left(session: Session, person_id: int) -> bool:
    return session.exec(select(Departure.id).where(
        Departure.employee_id == person_id)).first() is not None
