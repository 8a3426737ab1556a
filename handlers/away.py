"""Out of office: `away until 2026-12-03 @bob` hands an approver's requests and
escalations to a delegate for a period, so that nothing waits on one person;
`away from 2026-12-01 until 2026-12-03 @bob` sets one ahead; `away off` ends it early
(and cancels one set ahead). Requests already waiting move to the delegate when the
period starts."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import update
from sqlmodel import Session, select

from handlers.base import (
    PRIVILEGED,
    Context,
    Refusal,
    Reply,
    away,
    decision_actions,
    on_duty,
    queue,
    record_event,
)
from handlers.calendar import local_midnight
from handlers.policy import Policy
from handlers.registry import Command, handles, verb, with_approver
from handlers.words import Usage, is_word, leading_handle, require
from storage.enums import Role
from storage.models import Delegation, Employee

APPROVERS = (Role.SUPERVISOR, *PRIVILEGED)
LONGEST = timedelta(days=366)


@dataclass(frozen=True)
class Away(Command):
    """Set (until, delegate, optionally a later first day), clear (`off`), or with
    neither show the sender's absence."""

    until: date | None = None
    delegate: str | None = None
    off: bool = False
    start: date | None = None  # the first day away; None: from now


def _date(word: str) -> date:
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise Usage("error.away") from None


@verb("away")
def parse_away(rest: list[str]) -> Away:
    if not rest:
        return Away()
    if len(rest) == 1 and is_word(rest[0], "word.away.off"):
        return Away(off=True)
    rest = [w for w in rest if not is_word(w, "word.away.until")]
    starts = [i for i, w in enumerate(rest) if is_word(w, "word.away.from")]
    start = None
    if starts:  # `from 2026-12-01`
        i = starts[0]
        require(len(starts) == 1 and i + 1 < len(rest), "error.away")
        start, rest = _date(rest[i + 1]), rest[:i] + rest[i + 2:]
    delegate, rest = leading_handle(rest)
    if delegate is None and len(rest) == 2:  # the date first, then the handle
        delegate, rest = leading_handle(rest[1:])[0], rest[:1]
    require(delegate is not None and len(rest) == 1, "error.away")
    return Away(_date(rest[0]), delegate, start=start)


@handles(Away, roles=APPROVERS)
def set_away(ctx: Context, command: Away) -> Reply:
    current = away(ctx.session, ctx.actor.id, ctx.now)
    if command.off or command.until is None:
        return _clear(ctx) if command.off else _status(ctx, current)
    delegate = ctx.employee(command.delegate)
    if delegate.id == ctx.actor.id:
        raise Refusal("refuse.away_self")
    tz = ctx.config.organisation.tz
    ends = local_midnight(command.until + timedelta(days=1), tz)  # through that day
    starts = max(local_midnight(command.start, tz), ctx.now) if command.start else ctx.now
    if ends <= starts or ends - ctx.now > LONGEST:
        raise Refusal("refuse.away_dates")
    for overlapping in ctx.session.exec(select(Delegation).where(
            Delegation.employee_id == ctx.actor.id, Delegation.cleared_at.is_(None),
            Delegation.ends_at > starts, Delegation.starts_at < ends)).all():
        overlapping.cleared_at = ctx.now  # a new period replaces the ones it overlaps
        ctx.session.add(overlapping)
    ctx.session.add(Delegation(employee_id=ctx.actor.id, delegate_id=delegate.id,
                               starts_at=starts, ends_at=ends))
    ctx.session.flush()
    until = command.until.isoformat()
    if starts > ctx.now:  # later: what waits then moves when it starts (reminders run)
        first = starts.astimezone(tz).date().isoformat()
        ctx.notify(delegate.id, "notify.away_scheduled", who=ctx.actor.name, start=first,
                   until=until)
        return Reply.of("away.scheduled", start=first, until=until, delegate=delegate.name)
    moved = hand_over(ctx.session, ctx.actor, ctx.now, until)
    ctx.notify(delegate.id, "notify.away_delegate", who=ctx.actor.name, until=until,
               count=moved)
    return Reply.of("away.set", until=until, delegate=delegate.name, count=moved)


def upcoming(session: Session, employee_id: int, now: datetime) -> Delegation | None:
    """The person's next absence set ahead, if any."""
    return session.exec(select(Delegation).where(
        Delegation.employee_id == employee_id, Delegation.starts_at > now,
        Delegation.cleared_at.is_(None)).order_by(Delegation.starts_at)).first()


def _status(ctx: Context, current: Delegation | None) -> Reply:
    shown = current or upcoming(ctx.session, ctx.actor.id, ctx.now)
    if shown is None:
        return Reply.of("away.none")
    delegate = ctx.session.get(Employee, shown.delegate_id)
    until = last_day(shown, ctx.config.organisation.tz)
    if current is not None:
        return Reply.of("away.status", until=until, delegate=delegate.name)
    first = shown.starts_at.astimezone(ctx.config.organisation.tz).date().isoformat()
    return Reply.of("away.upcoming", start=first, until=until, delegate=delegate.name)


def _clear(ctx: Context) -> Reply:
    """`away off`: back now, and any absence set ahead is cancelled too."""
    open_ = ctx.session.exec(select(Delegation).where(
        Delegation.employee_id == ctx.actor.id, Delegation.cleared_at.is_(None),
        Delegation.ends_at > ctx.now)).all()
    if not open_:
        return Reply.of("away.none")
    for delegation in open_:
        delegation.cleared_at = ctx.now
        ctx.session.add(delegation)
    return Reply.of("away.cleared")


def last_day(delegation: Delegation, tz: tzinfo) -> str:
    end = delegation.ends_at.astimezone(tz) - timedelta(days=1)
    return end.date().isoformat()


def hand_over(session: Session, person: Employee, now: datetime, until: str) -> int:
    """Move what waits for an away person to whoever decides in their place, each on
    its history; returns how many moved."""
    moved = 0
    for kind in with_approver():
        model, column = kind.model, getattr(kind.model, kind.approver_column)
        for record in session.exec(select(model).where(
                model.status == kind.awaiting, column == person.id)).all():
            target = on_duty(session, person, record.employee_id, now)
            if target.id == person.id:
                continue
            ref = f"{kind.letter}{record.id}"
            session.execute(update(model).where(model.id == record.id)
                            .values({kind.approver_column: target.id}))
            record_event(session, now, ref, "delegated", person.id, target.id, until)
            queue(session, now, "person", "notify.approval_delegated",
                  {"ref": ref, "who": person.name, "until": until}, decision_actions(ref),
                  employee_id=target.id)
            moved += 1
    return moved


def start_due(session: Session, config: Policy, now: datetime) -> int:
    """Absences set ahead that have begun: what still waits for the away person moves
    to whoever decides in their place (nothing moves twice: once moved, it no longer
    waits for them)."""
    moved = 0
    for delegation in session.exec(select(Delegation).where(
            Delegation.starts_at <= now, Delegation.ends_at > now,
            Delegation.cleared_at.is_(None))).all():
        person = session.get(Employee, delegation.employee_id)
        if person is not None:
            moved += hand_over(session, person, now,
                               last_day(delegation, config.organisation.tz))
    return moved
