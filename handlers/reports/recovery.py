"""Recovery yield: a compensation given to a customer with a reference, later followed
by praise or a promoter score (NPS 9-10) from the same customer, was a recovery (marked
as the good word arrives: handlers/recovery/goodwill.py). The month's compensations with
a reference, how many recovered, per team and per kind of goodwill — counted in the
database from an index, in one grouped pass."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from handlers.compensation import COUNTED
from handlers.pulse import percent
from handlers.scope import Scope
from storage.models import Compensation, Employee, Team


@dataclass(frozen=True)
class Yield:
    name: str  # a team's name, or a kind of goodwill
    given: int  # compensations with a customer reference
    recovered: int

    @property
    def percent(self) -> int | None:
        return percent(self.recovered, self.given) if self.given else None


def recovery_yield(session: Session, scope: Scope, since: datetime, until: datetime
                   ) -> tuple[list[Yield], list[Yield]]:
    """(per team, per kind) for the compensations given in [since, until): one pass
    over the month's index entries, grouped by the giver's team and the kind."""
    rows = session.exec(select(Employee.team_id, Compensation.kind, func.count(),
                               func.count(Compensation.recovered_at))
                        .select_from(Compensation)
                        .join(Employee, Employee.id == Compensation.employee_id)
                        .where(Compensation.customer_ref != "",
                               Compensation.status.in_(COUNTED),
                               Compensation.created_at >= since,
                               Compensation.created_at < until,
                               scope.where(Compensation.employee_id))
                        .group_by(Employee.team_id, Compensation.kind)).all()
    # Teams named once grouped: joining the name to every compensation costs a fifth more.
    names = dict(session.exec(select(Team.id, Team.name).where(
        Team.id.in_({team for team, *_ in rows if team is not None}))).all())
    teams: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # name -> [given, recovered]
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for team, kind, given, recovered in rows:
        for totals in (teams[names.get(team, "")], kinds[kind]):
            totals[0] += given
            totals[1] += recovered
    return ([Yield(name, *teams[name]) for name in sorted(teams)],
            [Yield(kind, *kinds[kind]) for kind in sorted(kinds)])
