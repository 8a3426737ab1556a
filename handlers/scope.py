"""Who a viewer may see, and the lists narrowed to it: people, teams, ledger
filters, balances and the redemption queue. Every query of the web console starts
here, so a page cannot show more than its reader may see."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, select

from handlers.base import PRIVILEGED
from points.history import LedgerFilter
from storage.enums import RedemptionStatus, Role
from storage.models import Employee, PointsAccount, Redemption, Team


@dataclass(frozen=True)
class Scope:
    """Whose records a viewer may see. `employee_ids` None: everyone (HR, admins and
    integrations' API tokens); a supervisor sees their team, an employee themselves."""

    viewer: Employee | None
    employee_ids: frozenset[int] | None
    team_ids: frozenset[int] | None
    # Fellow supervisors and HR on the viewer's team who do not report to them: in scope
    # for the team's pages, but never shown signals about (signals go up, not across).
    peers: frozenset[int] = frozenset()

    @property
    def everyone(self) -> bool:
        return self.employee_ids is None

    def sees(self, employee_id: int) -> bool:
        return self.employee_ids is None or employee_id in self.employee_ids

    def sees_team(self, team_id: int) -> bool:
        return self.team_ids is None or team_id in self.team_ids

    def where(self, column):
        """A WHERE clause keeping rows whose `column` (an employee id) is in scope."""
        return True if self.employee_ids is None else column.in_(sorted(self.employee_ids))


def scope_of(session: Session, viewer: Employee | None) -> Scope:
    if viewer is None or viewer.role in PRIVILEGED:
        return Scope(viewer, None, None)
    if viewer.role == Role.SUPERVISOR:
        team = Employee.team_id == viewer.team_id if viewer.team_id else False
        members = session.exec(select(Employee.id, Employee.role, Employee.supervisor_id).where(
            or_(team, Employee.supervisor_id == viewer.id))).all()
        teams = frozenset({viewer.team_id} if viewer.team_id else ())
        peers = frozenset(person for person, role, supervisor in members
                          if person != viewer.id and role != Role.EMPLOYEE
                          and supervisor != viewer.id)
        return Scope(viewer, frozenset({viewer.id, *(m[0] for m in members)}), teams, peers)
    return Scope(viewer, frozenset({viewer.id}), frozenset())


def people(session: Session, scope: Scope, limit: int | None = None,
           ) -> list[tuple[Employee, str]]:
    """Everyone the viewer may see (up to `limit`), with their team's name, by name."""
    return [(employee, team or "") for employee, team in session.exec(
        select(Employee, Team.name).outerjoin(Team, Team.id == Employee.team_id)
        .where(scope.where(Employee.id)).order_by(Employee.name).limit(limit)).all()]


def teams(session: Session, scope: Scope) -> list[Team]:
    query = select(Team).order_by(Team.name)
    if scope.team_ids is not None:
        query = query.where(Team.id.in_(sorted(scope.team_ids)))
    return list(session.exec(query).all())


def ledger_filter(session: Session, scope: Scope, *, person: str | None = None,
                  team_id: int | None = None, reason: str | None = None,
                  since: datetime | None = None, until: datetime | None = None,
                  ) -> LedgerFilter | None:
    """The viewer's filter narrowed to their scope; None when they asked for a person
    or team they may not see (which must look exactly like one that does not exist)."""
    ids = scope.employee_ids
    if person:
        found = session.exec(select(Employee.id).where(Employee.handle == person.lower())).first()
        if found is None or not scope.sees(found):
            return None
        ids = frozenset({found})
    if team_id is not None:
        if not scope.sees_team(team_id) or session.get(Team, team_id) is None:
            return None
        members = frozenset(session.exec(select(Employee.id).where(
            Employee.team_id == team_id)).all())
        ids = members if ids is None else ids & members
    return LedgerFilter(ids, reason or None, since, until)


def balances(session: Session, scope: Scope, team_id: int | None = None,
             ) -> list[tuple[Employee, str, int]]:
    """(person, team, balance) for everyone in scope, optionally one team's members."""
    query = (select(Employee, Team.name, func.coalesce(PointsAccount.balance, 0))
             .outerjoin(Team, Team.id == Employee.team_id)
             .outerjoin(PointsAccount, PointsAccount.employee_id == Employee.id)
             .where(scope.where(Employee.id)).order_by(Employee.name))
    if team_id is not None:
        query = query.where(Employee.team_id == team_id)
    return [(employee, team or "", int(points))
            for employee, team, points in session.exec(query).all()]


OPEN_REDEMPTIONS = (RedemptionStatus.PENDING, RedemptionStatus.APPROVED)
SETTLED_REDEMPTIONS = (RedemptionStatus.FULFILLED, RedemptionStatus.REJECTED,
                       RedemptionStatus.CANCELLED)


def redemption_queue(session: Session, scope: Scope, statuses: tuple[str, ...] = OPEN_REDEMPTIONS,
                     limit: int = 200) -> list[tuple[Redemption, Employee]]:
    """Open requests oldest first (the queue); settled ones newest first (the record)."""
    order = (Redemption.id.asc() if set(statuses) <= set(OPEN_REDEMPTIONS)
             else Redemption.id.desc())
    return list(session.exec(
        select(Redemption, Employee).join(Employee, Employee.id == Redemption.employee_id)
        .where(Redemption.status.in_(statuses), scope.where(Redemption.employee_id))
        .order_by(order).limit(limit)).all())
