"""`board [YYYY-MM]`: a team's monthly board. It counts only points customers earned
(praise, accepted suggestions, confirmed major issues, and their reversals), not thanks,
corrections, redemptions or awards, and ranks only those who served at least
`seasons.min_customers` customers that month. "Customers served" is measurable from the
records: the customer responses naming the person (feedback received that month) plus
the praise credited to them that month.

A month is frozen when it closes (`close_month`, run by the season_close ritual on the
1st): its lines are written to SeasonResult and shown from there ever after. The ledger
alone would not keep a past month as it stood: people change teams or leave, feedback
arrives late with an earlier date, and a revoked praise is reversed in a later month.
The month under way, and a past month that was never closed (before this existed, or
while Frontline was down), are computed from the records."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, select

from handlers.base import Context, Message, Refusal, Reply
from handlers.calendar import month_bounds
from handlers.policy import Policy
from handlers.registry import Command, handles, verb
from handlers.words import MONTH, require
from storage.enums import LedgerReason, PraiseStatus
from storage.models import Employee, Feedback, LedgerEntry, Praise, SeasonResult, Team

# The ledger sources whose points customers earned; a revoked one keeps its source.
CUSTOMER_EARNED = (LedgerReason.PRAISE, LedgerReason.SUGGESTION, LedgerReason.MAJOR_ISSUE)


@dataclass(frozen=True)
class Line:
    employee_id: int
    name: str
    points: int
    customers: int
    rank: int | None  # None: below the minimum of customers served


@dataclass(frozen=True)
class Board:
    """A team's board for a month, which may be `month` closed and frozen."""

    month: str
    team_id: int
    lines: list[Line]
    frozen: bool


@dataclass(frozen=True)
class ShowBoard(Command):
    """The sender's team's board for a month (None: this month)."""

    month: str | None = None


def valid_month(month: str) -> bool:
    """YYYY-MM, a month the calendar can bound."""
    try:
        return bool(MONTH.match(month)) and bool(month_bounds(month, UTC))
    except ValueError:
        return False


@verb("board")
def parse_board(rest: list[str]) -> ShowBoard:
    require(len(rest) <= 1, "error.month")
    require(not rest or valid_month(rest[0]), "error.month")
    return ShowBoard(rest[0] if rest else None)


def computed(session: Session, config: Policy, team_id: int, month: str) -> list[Line]:
    """The month's lines from the records, as they stand now: best first, ranked."""
    since, until = month_bounds(month, config.organisation.tz)
    members = select(Employee.id).where(Employee.team_id == team_id)
    points = dict(session.exec(select(LedgerEntry.employee_id, func.sum(LedgerEntry.amount))
                               .where(LedgerEntry.employee_id.in_(members),
                                      LedgerEntry.source_type.in_(CUSTOMER_EARNED),
                                      LedgerEntry.created_at >= since,
                                      LedgerEntry.created_at < until)
                               .group_by(LedgerEntry.employee_id)).all())
    customers: dict[int, int] = {}
    for model, moment, extra in (
            (Feedback, Feedback.received_at, ()),
            (Praise, Praise.created_at, (Praise.status == PraiseStatus.CREDITED,))):
        for person, served in session.exec(
                select(model.employee_id, func.count()).where(
                    model.employee_id.in_(members), moment >= since, moment < until, *extra)
                .group_by(model.employee_id)).all():
            customers[person] = customers.get(person, 0) + served
    ids = set(points) | set(customers)
    names = dict(session.exec(select(Employee.id, Employee.name).where(
        Employee.id.in_(ids))).all()) if ids else {}
    return ranked([(i, names[i], int(points.get(i) or 0), customers.get(i, 0)) for i in ids],
                  config.seasons.min_customers)


def ranked(found: list[tuple[int, str, int, int]], minimum: int) -> list[Line]:
    """Most points first; those who served the minimum ranked (equal points, equal rank),
    the others after them, unranked."""
    order = sorted(found, key=lambda f: (f[3] < minimum, -f[2], f[1], f[0]))
    lines, previous, rank = [], None, 0
    for n, (person, name, points, served) in enumerate(order, start=1):
        if served < minimum:
            lines.append(Line(person, name, points, served, None))
            continue
        if points != previous:
            rank, previous = n, points
        lines.append(Line(person, name, points, served, rank))
    return lines


def board(session: Session, config: Policy, team_id: int, month: str) -> Board:
    """The frozen lines of a closed month, else the month computed from the records."""
    frozen = session.exec(select(SeasonResult, Employee.name).join(
        Employee, Employee.id == SeasonResult.employee_id).where(
        SeasonResult.team_id == team_id, SeasonResult.month == month)
        .order_by(SeasonResult.id)).all()
    if frozen:
        return Board(month, team_id, [Line(r.employee_id, name, r.points, r.customers, r.rank)
                                      for r, name in frozen], True)
    return Board(month, team_id, computed(session, config, team_id, month), False)


def close_month(session: Session, config: Policy, month: str, now: datetime) -> int:
    """Freeze every team's board of `month` (a team frozen already is left as it is);
    returns the lines written."""
    written = 0
    for team_id in session.exec(select(Team.id).order_by(Team.id)).all():
        if session.exec(select(SeasonResult.id).where(
                SeasonResult.team_id == team_id, SeasonResult.month == month)).first():
            continue
        lines = computed(session, config, team_id, month)
        session.add_all(SeasonResult(team_id=team_id, month=month, employee_id=line.employee_id,
                                     points=line.points, customers=line.customers,
                                     rank=line.rank, created_at=now) for line in lines)
        written += len(lines)
    session.flush()
    return written


@handles(ShowBoard)
def show_board(ctx: Context, command: ShowBoard) -> Reply:
    if ctx.actor.team_id is None:
        raise Refusal("refuse.board_no_team")
    team = ctx.session.get(Team, ctx.actor.team_id)
    shown = board(ctx.session, ctx.config, team.id, command.month or ctx.month())
    minimum = ctx.config.seasons.min_customers
    if not shown.lines:
        return Reply.of("board.empty", team=team.name, month=shown.month)
    reply = Reply.of("board.header", team=team.name, month=shown.month, minimum=minimum)
    for line in shown.lines:
        key = "board.line" if line.rank is not None else "board.unranked"
        reply.messages.append(Message(key, {"rank": line.rank or "", "who": line.name,
                                            "points": line.points,
                                            "customers": line.customers}))
    if shown.frozen:
        reply.messages.append(Message("board.frozen", {"month": shown.month}))
    return reply
