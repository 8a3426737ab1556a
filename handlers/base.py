"""What every use case shares: the reply types, refusals, and the per-command context."""

from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import bindparam, insert
from sqlmodel import Session, select

from handlers.calendar import local_time, month_of
from handlers.policy import Policy
from handlers.registry import DECIDABLE
from storage.enums import PRIVILEGED
from storage.errors import FrontlineError
from storage.models import Delegation, Employee, Outbox, RequestEvent
from storage.rows import connection, transition


@dataclass(frozen=True)
class Message:
    """A message key and its parameters; rendered in the reader's language."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    """A button where the platform has them; otherwise shown as the command to type."""

    label: str  # message key
    command: str  # e.g. "approve C12"


@dataclass
class Reply:
    messages: list[Message]
    actions: list[Action] = field(default_factory=list)
    ok: bool = True

    @classmethod
    def of(cls, message_key: str, /, actions: list[Action] | None = None,
           **params: Any) -> "Reply":
        return cls([Message(message_key, params)], actions or [])

    def failed(self) -> "Reply":
        self.ok = False
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Reply":
        return cls([Message(**m) for m in data["messages"]],
                   [Action(**a) for a in data["actions"]], data["ok"])


class Refusal(FrontlineError):
    """The command is refused; the transaction is rolled back and nothing changes."""

    def __init__(self, message_key: str, /, **params: Any) -> None:
        super().__init__(message_key)
        self.key = message_key
        self.params = params


def decision_actions(reference: str) -> list[Action]:
    return [Action("action.approve", f"approve {reference}"),
            Action("action.decline", f"decline {reference}"),
            Action("action.ask", f"ask {reference}")]


ACTIVE_BY_HANDLE = select(Employee).where(Employee.handle == bindparam("handle"), Employee.active)


def find_approver(session: Session, employee: Employee,
                  exclude: frozenset[int] = frozenset()) -> Employee | None:
    """The person's supervisor, else an HR colleague, else an admin: never the person
    themselves nor anyone in `exclude`."""
    barred = {employee.id, *exclude}
    if employee.supervisor_id and employee.supervisor_id not in barred:
        supervisor = session.get(Employee, employee.supervisor_id)
        if supervisor is not None and supervisor.active:
            return supervisor
    for role in PRIVILEGED:
        other = session.exec(select(Employee).where(
            Employee.role == role, Employee.active, Employee.id.not_in(barred))
            .order_by(Employee.id)).first()
        if other is not None:
            return other
    return None


def away(session: Session, employee_id: int, now: datetime) -> Delegation | None:
    """The person's delegation in force at `now`, if they are away."""
    return session.exec(select(Delegation).where(
        Delegation.employee_id == employee_id, Delegation.starts_at <= now,
        Delegation.ends_at > now, Delegation.cleared_at.is_(None))
        .order_by(Delegation.id.desc())).first()


def on_duty(session: Session, approver: Employee, requester_id: int, now: datetime,
            seen: frozenset[int] = frozenset()) -> Employee:
    """Who decides in `approver`'s place: themselves, or while they are away their
    delegate; when the delegate is the requester, away too or gone, the away person's
    own supervisor (or HR), by the same rule. Never the requester."""
    delegation = away(session, approver.id, now)
    if delegation is None:
        return approver
    seen = seen | {approver.id}
    delegate = session.get(Employee, delegation.delegate_id)
    if delegate is not None and delegate.active and delegate.id != requester_id and \
            delegate.id not in seen and away(session, delegate.id, now) is None:
        return delegate
    fallback = find_approver(session, approver, exclude=seen | {requester_id})
    return approver if fallback is None else on_duty(session, fallback, requester_id, now,
                                                     seen)


def record_event(session: Session, now: datetime, ref: str, event: str,
                 actor_id: int | None, target_id: int | None = None, detail: str = "") -> None:
    """A line of a request's history."""
    session.add(RequestEvent(ref=ref, event=event, actor_id=actor_id, target_id=target_id,
                             detail=detail, created_at=now))


@dataclass
class Context:
    session: Session
    config: Policy
    actor: Employee
    now: datetime

    # --- directory -------------------------------------------------------
    def employee(self, handle: str) -> Employee:
        found = self.session.exec(ACTIVE_BY_HANDLE, params={"handle": handle.lower()}).first()
        if found is None:
            raise Refusal("refuse.unknown_handle", handle=handle)
        return found

    def approver_for(self, employee: Employee) -> Employee:
        approver = find_approver(self.session, employee)
        if approver is None:
            raise Refusal("refuse.no_other_approver" if employee.role in PRIVILEGED
                          else "refuse.no_approver")
        return on_duty(self.session, approver, employee.id, self.now)

    def require_role(self, *roles: str) -> None:
        if self.actor.role not in roles:
            raise Refusal("refuse.role")

    # --- outbox ----------------------------------------------------------
    def notify(self, employee_id: int, key: str, actions: list[Action] | None = None,
               **params: Any) -> None:
        self._queue("person", key, params, actions, employee_id=employee_id)

    def notify_all(self, key: str, **params: Any) -> None:
        self._queue("all", key, params, None)

    def _queue(self, audience: str, key: str, params: dict, actions: list[Action] | None,
               employee_id: int | None = None) -> None:
        queue(self.session, self.now, audience, key, params, actions, employee_id)

    # --- formatting ------------------------------------------------------
    def local(self, moment: datetime) -> str:
        return local_time(moment, self.config.organisation.tz)

    def month(self, moment: datetime | None = None) -> str:
        return month_of(moment or self.now, self.config.organisation.tz)


_INSERT_OUTBOX = insert(Outbox.__table__)


def queue(session: Session, now: datetime, audience: str, key: str, params: dict,
          actions: list[Action] | None = None, employee_id: int | None = None,
          team_id: int | None = None) -> None:
    """Write a notification to the outbox, in the caller's transaction."""
    queue_all(session, [outbox_row(now, audience, key, params, actions, employee_id, team_id)])


def outbox_row(now: datetime, audience: str, key: str, params: dict,
               actions: list[Action] | None = None, employee_id: int | None = None,
               team_id: int | None = None) -> dict:
    """A notification as `queue_all` writes it."""
    # vars, not asdict, which deep-copies: a survey import queues thousands of cards
    return {"audience": audience, "employee_id": employee_id, "team_id": team_id,
            "message_key": key, "params": params,
            "actions": [dict(vars(a)) for a in actions or []], "created_at": now, "attempts": 0,
            "last_error": ""}


def queue_all(session: Session, rows: list[dict]) -> None:
    """Write several notifications (`outbox_row`s) with one statement, in order."""
    connection(session).execute(_INSERT_OUTBOX, rows[0] if len(rows) == 1 else rows)


def check_decider(ctx: Context, requester_id: int, approver_id: int | None) -> None:
    if ctx.actor.id == requester_id:
        raise Refusal("refuse.self_approve")
    if ctx.actor.id != approver_id:
        raise Refusal("refuse.not_approver")


DECIDED = ("decided_by_id", "decision_comment", "decided_at")  # who, why, when


def decide_pending(ctx: Context, letter: str, record_id: int, approve: bool, comment: str, *,
                   approved: str, declined: str = "declined", reason_required: bool = False,
                   columns: tuple[str, str, str] = DECIDED) -> tuple[Any, str]:
    """Decide a record that waits for this person: it must exist, be theirs to decide
    and still wait (of two clicks exactly one wins). Returns the record and its new
    status; refuses, changing nothing, otherwise."""
    kind, ref = DECIDABLE[letter], f"{letter}{record_id}"
    record = ctx.session.get(kind.model, record_id)
    if record is None:
        raise Refusal("refuse.not_found", ref=ref)
    if getattr(record, kind.approver_column) is None:  # e.g. self-authorised: never waited
        raise Refusal("refuse.not_awaiting", ref=ref)
    check_decider(ctx, record.employee_id, getattr(record, kind.approver_column))
    if reason_required and not approve and not comment:
        raise Refusal("refuse.comment_required", decline_word="verb.decline", ref=ref)
    status = approved if approve else declined
    who, why, when = columns
    if not transition(ctx.session, kind.model, record_id, kind.awaiting,
                      {"status": status, who: ctx.actor.id, why: comment, when: ctx.now}):
        raise Refusal("refuse.already_decided", ref=ref)
    record_event(ctx.session, ctx.now, ref, status, ctx.actor.id, detail=comment)
    return record, status


MINOR_UNITS = Decimal("0.01")


def to_minor(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def from_minor(minor: int) -> Decimal:
    return (Decimal(minor) / 100).quantize(MINOR_UNITS)


def money(minor: int, currency: str) -> str:
    return f"{from_minor(minor)} {currency}"


def valid_amount(amount: Decimal) -> bool:
    return amount.is_finite() and amount > 0 and amount == amount.quantize(
        MINOR_UNITS, rounding=ROUND_HALF_UP)


def checked_money(ctx: Context, amount: Decimal, currency: str | None) -> tuple[int, str]:
    """(minor units, currency) of an amount someone typed, or a refusal saying why not."""
    currency = currency or ctx.config.organisation.currency
    if currency not in ctx.config.currencies:
        raise Refusal("refuse.currency", currency=currency,
                      allowed=", ".join(ctx.config.currencies))
    if not valid_amount(amount):
        raise Refusal("error.amount")
    return to_minor(amount), currency
