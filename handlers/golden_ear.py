"""Golden Ear (金耳朵奖): monthly nominations for the colleague who best captured the
customer's voice, one vote each, closed once per month."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from handlers.base import PRIVILEGED, Context, Refusal, Reply, queue
from handlers.policy import Policy
from handlers.registry import Command, handles, verb
from handlers.words import MONTH, handle, is_word, require
from points import ledger
from storage.enums import LedgerReason
from storage.models import Employee, GoldenEarAward, Nomination, Vote


@dataclass(frozen=True)
class Nominate(Command):
    """A Golden Ear nomination for this month, with what the nominee heard."""

    employee: str
    reason: str


@verb("nominate")
def parse_nominate(rest: list[str]) -> Nominate:
    require(len(rest) >= 2)
    return Nominate(handle(rest[0]), " ".join(rest[1:]))


@dataclass(frozen=True)
class CastVote(Command):
    """The sender's one Golden Ear vote this month."""

    employee: str


@verb("vote")
def parse_vote(rest: list[str]) -> CastVote:
    require(len(rest) == 1)
    return CastVote(handle(rest[0]))


@dataclass(frozen=True)
class GoldenEar(Command):
    """This month's standings."""


@dataclass(frozen=True)
class CloseGoldenEar(Command):
    """HR closes a month: the winner is announced and credited, once."""

    month: str | None = None  # YYYY-MM; None: this month


@verb("goldenear")
def parse_goldenear(rest: list[str]) -> GoldenEar | CloseGoldenEar:
    """Alone: the standings; `close [YYYY-MM]`: HR closes a month."""
    if not rest:
        return GoldenEar()
    require(is_word(rest[0], "word.goldenear.close") and len(rest) <= 2)
    month = rest[1] if len(rest) == 2 else None
    require(month is None or MONTH.match(month) is not None, "error.month")
    return CloseGoldenEar(month)


def _nominee_this_month(ctx: Context, handle: str, self_refusal: str) -> tuple[Employee, str]:
    """The colleague named, never the sender, and this month, while it is still open."""
    nominee = ctx.employee(handle)
    if nominee.id == ctx.actor.id:
        raise Refusal(self_refusal)
    month = ctx.month()
    if ctx.session.get(GoldenEarAward, month) is not None:
        raise Refusal("refuse.month_closed", month=month)
    return nominee, month


@handles(Nominate)
def nominate(ctx: Context, command: Nominate) -> Reply:
    nominee, month = _nominee_this_month(ctx, command.employee, "refuse.self_nominate")
    exists = ctx.session.exec(select(Nomination).where(
        Nomination.month == month, Nomination.nominator_id == ctx.actor.id,
        Nomination.nominee_id == nominee.id)).first()
    if exists is not None:
        raise Refusal("refuse.already_nominated", who=nominee.name, month=month)
    ctx.session.add(Nomination(month=month, nominator_id=ctx.actor.id, nominee_id=nominee.id,
                               reason=command.reason, created_at=ctx.now))
    return Reply.of("goldenear.nominated", who=nominee.name, month=month,
                    vote_word="verb.vote", handle=nominee.handle)


@handles(CastVote)
def vote(ctx: Context, command: CastVote) -> Reply:
    nominee, month = _nominee_this_month(ctx, command.employee, "refuse.self_vote")
    nominated = ctx.session.exec(select(Nomination).where(
        Nomination.month == month, Nomination.nominee_id == nominee.id)).first()
    if nominated is None:
        raise Refusal("refuse.not_nominated", who=nominee.name, month=month)
    if ctx.session.get(Vote, (month, ctx.actor.id)) is not None:
        raise Refusal("refuse.already_voted", month=month)
    ctx.session.add(Vote(month=month, voter_id=ctx.actor.id, nominee_id=nominee.id,
                         created_at=ctx.now))
    return Reply.of("goldenear.voted", who=nominee.name, month=month)


def standings(session: Session, month: str) -> list[tuple[int, int, int, datetime]]:
    """(nominee_id, votes, nominations, first nomination) best first: most votes,
    then most nominations, then the earliest nomination."""
    nominations = session.exec(select(
        Nomination.nominee_id, func.count(), func.min(Nomination.created_at))
        .where(Nomination.month == month).group_by(Nomination.nominee_id)).all()
    votes = dict(session.exec(select(Vote.nominee_id, func.count())
                              .where(Vote.month == month).group_by(Vote.nominee_id)).all())
    rows = [(nominee, votes.get(nominee, 0), count, first)
            for nominee, count, first in nominations]
    return sorted(rows, key=lambda row: (-row[1], -row[2], row[3], row[0]))


@handles(CloseGoldenEar, roles=PRIVILEGED)
def close(ctx: Context, command: CloseGoldenEar) -> Reply:
    month = command.month or ctx.month()
    if month > ctx.month():  # the current month may close: HR does so on its last day
        raise Refusal("refuse.month_future", month=month)
    if close_month(ctx.session, ctx.config, month, ctx.now, actor_id=ctx.actor.id) is None:
        raise Refusal("refuse.month_closed", month=month)
    return Reply.of("goldenear.closed", month=month)


@handles(GoldenEar)
def show(ctx: Context, command: GoldenEar) -> Reply:
    month = ctx.month()
    ranked = standings(ctx.session, month)
    reply = Reply.of("goldenear.header" if ranked else "goldenear.header_empty", month=month,
                     nominate_word="verb.nominate")
    for nominee_id, votes, nominations, _first in ranked:
        reply.messages.append(Reply.of(
            "goldenear.line", who=ctx.session.get(Employee, nominee_id).name, votes=votes,
            nominations=nominations).messages[0])
    return reply


def close_month(session: Session, config: Policy, month: str, now: datetime,
                actor_id: int | None = None) -> GoldenEarAward | None:
    """Pick, record, credit and announce the month's winner. Returns None when the
    month was closed already (a second close changes nothing)."""
    if session.get(GoldenEarAward, month) is not None:
        return None
    ranked = standings(session, month)
    winner_id, votes, nominations = (ranked[0][:3] if ranked else (None, 0, 0))
    award = GoldenEarAward(month=month, winner_id=winner_id, votes=votes,
                           nominations=nominations, created_at=now)
    try:
        with session.begin_nested():
            session.add(award)
    except IntegrityError:  # another worker closed it at the same moment
        return None
    if winner_id is None:
        queue(session, now, "all", "broadcast.goldenear_none", {"month": month})
        return award
    ledger.post(session, employee_id=winner_id, amount=config.points.golden_ear,
                reason=LedgerReason.GOLDEN_EAR, source_type="golden_ear", source_id=None,
                actor_id=actor_id, idempotency_key=f"golden_ear:{month}", now=now)
    winner = session.get(Employee, winner_id)
    queue(session, now, "all", "broadcast.goldenear_winner", {
        "month": month, "who": winner.name, "votes": votes, "points": config.points.golden_ear})
    return award
