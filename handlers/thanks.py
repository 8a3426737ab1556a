"""`thanks @bob [+5] <why> [#team]`: a colleague thanked, told in their language, and
their team too when the sender adds `#team`. Thanks carry no points unless the
organisation gives the sender's role a monthly allowance; then `+5` credits the
colleague five new points through the ledger, within the allowance and the cap per
colleague. Pairs who trade thanks show as a signal (handlers/reports/signals.py)."""

import re
from dataclasses import dataclass

from sqlalchemy import bindparam, case, func, select

from handlers.base import Context, Refusal, Reply, queue
from handlers.calendar import month_start
from handlers.registry import Command, handles, verb
from handlers.words import is_word, leading_handle, require
from points import ledger
from storage.enums import LedgerReason
from storage.models import Employee, Thanks
from storage.rows import insert_values

POINTS = re.compile(r"^[+-]\d+$")  # `+5`; `-5` is refused, never taken as text


@dataclass(frozen=True)
class Thank(Command):
    """A colleague thanked in front of them (and of their team, when `public`)."""

    colleague: str
    why: str
    points: int = 0
    public: bool = False


@verb("thanks")
def parse_thanks(rest: list[str]) -> Thank:
    colleague, rest = leading_handle(rest)
    require(colleague is not None, "error.handle")
    points = 0
    if rest and POINTS.match(rest[0]):
        require(rest[0].startswith("+") and len(rest[0]) <= 10 and int(rest[0]) > 0,
                "error.points")
        points, rest = int(rest[0]), rest[1:]
    public = bool(rest) and is_word(rest[-1], "word.thanks.team")
    if public:
        rest = rest[:-1]
    require(bool(rest), "error.text")
    return Thank(colleague, " ".join(rest), points, public)


_T = Thanks.__table__.c
# What the sender gave with thanks since the month began: in all, and to this colleague.
_GIVEN = select(func.coalesce(func.sum(_T.points), 0), func.coalesce(func.sum(case(
    (_T.recipient_id == bindparam("to"), _T.points), else_=0)), 0)).where(
    _T.sender_id == bindparam("by"), _T.created_at >= bindparam("since"))
_LOCK_SENDER = select(Employee.__table__.c.id).where(
    Employee.__table__.c.id == bindparam("who")).with_for_update()


@handles(Thank)
def thank(ctx: Context, command: Thank) -> Reply:
    colleague = ctx.employee(command.colleague)
    if colleague.id == ctx.actor.id:
        raise Refusal("refuse.self_thanks")
    left = _check_points(ctx, colleague, command.points) if command.points else 0
    thanks_id = insert_values(ctx.session, Thanks, dict(
        sender_id=ctx.actor.id, recipient_id=colleague.id, why=command.why,
        points=command.points, public=command.public, created_at=ctx.now))
    if command.points:
        ledger.post(ctx.session, employee_id=colleague.id, amount=command.points,
                    reason=LedgerReason.THANKS, source_type="thanks", source_id=thanks_id,
                    actor_id=ctx.actor.id, idempotency_key=f"thanks:{thanks_id}:credit",
                    now=ctx.now)
        ctx.notify(colleague.id, "notify.thanks_points", who=ctx.actor.name, why=command.why,
                   points=command.points)
    else:
        ctx.notify(colleague.id, "notify.thanks", who=ctx.actor.name, why=command.why)
    if command.public and colleague.team_id is not None:
        queue(ctx.session, ctx.now, "team", "broadcast.thanks", {
            "who": colleague.name, "by": ctx.actor.name, "why": command.why},
            team_id=colleague.team_id)
    reply = Reply.of("thanks.sent_team" if command.public else "thanks.sent",
                     who=colleague.name)
    if command.points:
        reply.messages.extend(Reply.of("thanks.points", points=command.points,
                                       left=left).messages)
    return reply


def _check_points(ctx: Context, colleague: Employee, points: int) -> int:
    """Refuses points beyond the sender's monthly allowance or the cap per colleague;
    returns what the allowance has left after these."""
    rules = ctx.config.points.thanks
    allowance = rules.allowance.get(ctx.actor.role, 0)
    if not allowance:
        raise Refusal("refuse.thanks_no_points")
    # Two thanks of one sender at once must not both fit the same remainder: the
    # sender's row is locked (PostgreSQL; SQLite's writers take turns anyway).
    ctx.session.execute(_LOCK_SENDER, {"who": ctx.actor.id})
    given, to_them = ctx.session.execute(_GIVEN, {
        "by": ctx.actor.id, "to": colleague.id,
        "since": month_start(ctx.now, ctx.config.organisation.tz)}).one()
    if given + points > allowance:
        raise Refusal("refuse.thanks_allowance", allowance=allowance,
                      left=max(allowance - given, 0))
    if to_them + points > rules.per_recipient:
        raise Refusal("refuse.thanks_cap", who=colleague.name, cap=rules.per_recipient,
                      left=max(rules.per_recipient - to_them, 0))
    return allowance - given - points
