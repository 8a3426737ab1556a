"""Recovery yield: a compensation given to a customer with a reference, later followed
by praise or a promoter score (NPS 9-10) from the same customer, was a recovery. The
month's compensations with a reference, how many recovered, per team and per kind of
goodwill — counted in the database."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, exists, func, or_
from sqlmodel import Session, select

from handlers.compensation import COUNTED
from handlers.pulse import percent
from handlers.scope import Scope
from handlers.scores import PROMOTER
from storage.enums import PraiseStatus
from storage.models import Compensation, Employee, Feedback, Praise, Team


@dataclass(frozen=True)
class Yield:
    name: str  # a team's name, or a kind of goodwill
    given: int  # compensations with a customer reference
    recovered: int

    @property
    def percent(self) -> int | None:
        return percent(self.recovered, self.given) if self.given else None


def recovered() -> ColumnElement:
    """Is the compensation followed by praise or a promoter score of its customer?"""
    ref, given = Compensation.customer_ref, Compensation.created_at
    return or_(
        exists().where(Feedback.customer_ref == ref, Feedback.received_at > given,
                       Feedback.kind == "nps", Feedback.score >= PROMOTER),
        exists().where(Praise.customer_ref == ref, Praise.created_at > given,
                       Praise.status == PraiseStatus.CREDITED))


def recovery_yield(session: Session, scope: Scope, since: datetime, until: datetime
                   ) -> tuple[list[Yield], list[Yield]]:
    """(per team, per kind) for the compensations given in [since, until)."""
    counted = and_(Compensation.customer_ref != "", Compensation.status.in_(COUNTED),
                   Compensation.created_at >= since, Compensation.created_at < until,
                   scope.where(Compensation.employee_id))
    figures = (func.count(), func.coalesce(func.sum(case((recovered(), 1), else_=0)), 0))
    teams = session.exec(select(func.coalesce(Team.name, ""), *figures)
                         .select_from(Compensation)
                         .join(Employee, Employee.id == Compensation.employee_id)
                         .outerjoin(Team, Team.id == Employee.team_id)
                         .where(counted).group_by(Team.name).order_by(Team.name)).all()
    kinds = session.exec(select(Compensation.kind, *figures).where(counted)
                         .group_by(Compensation.kind).order_by(Compensation.kind)).all()
    return ([Yield(name, int(n), int(r)) for name, n, r in teams],
            [Yield(kind, int(n), int(r)) for kind, n, r in kinds])
