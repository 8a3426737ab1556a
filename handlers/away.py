"""Out of office: `away until 2026-12-03 @bob` hands an approver's requests and
escalations to a delegate for a period, so that nothing waits on one person;
`away off` ends it early. Requests already waiting move to the delegate at once."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import update
from sqlmodel import select

from handlers.base import (
    PRIVILEGED,
    Context,
    Refusal,
    Reply,
    away,
    decision_actions,
    on_duty,
    record_event,
)
from handlers.calendar import local_midnight
from handlers.registry import Command, handles, verb, with_approver
from handlers.words import is_word, leading_handle, require
from storage.enums import Role
from storage.models import Delegation, Employee

APPROVERS = (Role.SUPERVISOR, *PRIVILEGED)
LONGEST = timedelta(days=366)


@dataclass(frozen=True)
class Away(Command):
    """Set (until, delegate), clear (`off`), or with neither show the sender's absence."""

    until: date | None = None
    delegate: str | None = None
    off: bool = False


@verb("away")
def parse_away(rest: list[str]) -> Away:
    if not rest:
        return Away()
    if len(rest) == 1 and is_word(rest[0], "word.away.off"):
        return Away(off=True)
    rest = [w for w in rest if not is_word(w, "word.away.until")]
    delegate, rest = leading_handle(rest)
    if delegate is None and len(rest) == 2:  # the date first, then the handle
        delegate, rest = leading_handle(rest[1:])[0], rest[:1]
    require(delegate is not None and len(rest) == 1, "error.away")
    try:
        until = date.fromisoformat(rest[0])
    except ValueError:
        require(False, "error.away")
    return Away(until, delegate)


@handles(Away, roles=APPROVERS)
def set_away(ctx: Context, command: Away) -> Reply:
    current = away(ctx.session, ctx.actor.id, ctx.now)
    if command.off or command.until is None:
        if current is None:
            return Reply.of("away.none")
        if not command.off:
            delegate = ctx.session.get(Employee, current.delegate_id)
            return Reply.of("away.status", until=_last_day(ctx, current), delegate=delegate.name)
        current.cleared_at = ctx.now
        ctx.session.add(current)
        return Reply.of("away.cleared")
    delegate = ctx.employee(command.delegate)
    if delegate.id == ctx.actor.id:
        raise Refusal("refuse.away_self")
    tz = ctx.config.organisation.tz
    ends = local_midnight(command.until + timedelta(days=1), tz)  # through that day
    if ends <= ctx.now or ends - ctx.now > LONGEST:
        raise Refusal("refuse.away_dates")
    if current is not None:
        current.cleared_at = ctx.now  # a new period replaces the one in force
        ctx.session.add(current)
    delegation = Delegation(employee_id=ctx.actor.id, delegate_id=delegate.id,
                            starts_at=ctx.now, ends_at=ends)
    ctx.session.add(delegation)
    ctx.session.flush()
    moved = _hand_over(ctx, command.until.isoformat())
    ctx.notify(delegate.id, "notify.away_delegate", who=ctx.actor.name,
               until=command.until.isoformat(), count=moved)
    return Reply.of("away.set", until=command.until.isoformat(), delegate=delegate.name,
                    count=moved)


def _last_day(ctx: Context, delegation: Delegation) -> str:
    end = delegation.ends_at.astimezone(ctx.config.organisation.tz) - timedelta(days=1)
    return end.date().isoformat()


def _hand_over(ctx: Context, until: str) -> int:
    """Move what waits for the sender to whoever decides in their place, each on its
    history; returns how many moved."""
    moved = 0
    for kind in with_approver():
        model, column = kind.model, getattr(kind.model, kind.approver_column)
        for record in ctx.session.exec(select(model).where(
                model.status == kind.awaiting, column == ctx.actor.id)).all():
            target = on_duty(ctx.session, ctx.actor, record.employee_id, ctx.now)
            if target.id == ctx.actor.id:
                continue
            ref = f"{kind.letter}{record.id}"
            ctx.session.execute(update(model).where(model.id == record.id)
                                .values({kind.approver_column: target.id}))
            record_event(ctx.session, ctx.now, ref, "delegated", ctx.actor.id, target.id, until)
            ctx.notify(target.id, "notify.approval_delegated", decision_actions(ref), ref=ref,
                       who=ctx.actor.name, until=until)
            moved += 1
    return moved
