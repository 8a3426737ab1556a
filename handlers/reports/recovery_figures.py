"""How a team wins its unhappy customers back, per team and month, counted in the
database: the cases opened, the share called back within the deadline, the median time
to call back, the share recovered, and the goodwill given under the cases (linked to a
case as the case shows it: `handlers.recovery.cases.linked`)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, extract, func, or_, text, union_all
from sqlmodel import Session, select

from handlers.pulse import percent
from handlers.recovery.cases import linked, references
from storage.enums import CompensationStatus, RecoveryOutcome, RecoveryStatus
from storage.models import Compensation, RecoveryCase


@dataclass(frozen=True)
class RecoveryFigures:
    opened: int = 0
    due: int = 0  # called back, or past their deadline: those that could be on time
    in_time: int = 0  # called back by the deadline
    closed: int = 0
    recovered: int = 0
    median_callback: timedelta | None = None  # opened to called back, of those called back
    goodwill: dict[str, int] = field(default_factory=dict)  # currency -> minor units

    @property
    def in_time_percent(self) -> int | None:
        return percent(self.in_time, self.due) if self.due else None

    @property
    def recovered_percent(self) -> int | None:
        """Of the cases closed, the share won back."""
        return percent(self.recovered, self.closed) if self.closed else None


def custom_plans(session: Session) -> None:
    """Until the transaction ends, PostgreSQL plans each query for its own values. Once
    psycopg prepares a query run often, PostgreSQL may switch to one generic plan for any
    values, and for these (a team's month of cases, the goodwill linked to them, the
    responses of a trend's split days) it picks one that reads far more: 1.5 s instead
    of 5 ms for the goodwill at 1,000,000 responses."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def seconds_between(session: Session, later, earlier) -> ColumnElement[float]:
    """`later - earlier` in seconds, in the store's own arithmetic."""
    if session.get_bind().dialect.name == "postgresql":
        return extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400


def _sum(condition) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def recovery_figures(session: Session, team_ids: list[int], since: datetime, until: datetime,
                     now: datetime) -> dict[int, RecoveryFigures]:
    """Team id -> the figures of its cases opened in [since, until); teams without a
    case are left out."""
    custom_plans(session)
    month = and_(RecoveryCase.team_id.in_(team_ids), RecoveryCase.opened_at >= since,
                 RecoveryCase.opened_at < until)
    called = RecoveryCase.called_back_at.is_not(None)
    counted = session.exec(select(
        RecoveryCase.team_id, func.count(), _sum(or_(called, RecoveryCase.due_at <= now)),
        _sum(and_(called, RecoveryCase.called_back_at <= RecoveryCase.due_at)),
        _sum(RecoveryCase.status == RecoveryStatus.CLOSED),
        _sum(RecoveryCase.outcome == RecoveryOutcome.RECOVERED), _sum(called))
        .where(month).group_by(RecoveryCase.team_id)).all()
    spent = _goodwill(session, month)
    wait = seconds_between(session, RecoveryCase.called_back_at, RecoveryCase.opened_at)
    figures = {}
    for team_id, opened, due, in_time, closed, recovered, calls in counted:
        median = None
        if calls:  # the middle one or two of the sorted waits, read by the database
            middle = session.exec(select(wait).where(month, called,
                                                     RecoveryCase.team_id == team_id)
                                  .order_by(wait).offset((calls - 1) // 2)
                                  .limit(2 - calls % 2)).all()
            median = timedelta(seconds=round(sum(float(s) for s in middle) / len(middle)))
        figures[team_id] = RecoveryFigures(int(opened), int(due), int(in_time), int(closed),
                                           int(recovered), median, spent.get(team_id, {}))
    return figures


def _goodwill(session: Session, month: ColumnElement[bool]) -> dict[int, dict[str, int]]:
    """Team id -> currency -> the goodwill given (not waiting for a decision) under the
    cases: each reference of a case once, from the first case it names, so a
    compensation under a customer with several cases counts once."""
    named = union_all(*(select(RecoveryCase.team_id.label("team_id"), ref.label("ref"),
                               RecoveryCase.opened_at.label("opened_at")).where(month)
                        for ref in references(RecoveryCase))).subquery()
    first = select(named.c.team_id, named.c.ref, func.min(named.c.opened_at).label("since")) \
        .where(named.c.ref != "").group_by(named.c.team_id, named.c.ref).subquery()
    spent: dict[int, dict[str, int]] = {}
    for team_id, currency, total in session.exec(
            select(first.c.team_id, Compensation.currency, func.sum(Compensation.amount_minor))
            .select_from(Compensation).join(first, linked(first.c.ref, first.c.since))
            .where(Compensation.status != CompensationStatus.PENDING)
            .group_by(first.c.team_id, Compensation.currency)).all():
        spent.setdefault(team_id, {})[currency] = int(total)
    return spent
