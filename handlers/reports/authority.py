"""Authority coaching: how much of their goodwill authority people actually use, per
team and role, in a month. People who never use theirs are usually afraid to; the
supervisor sees them next to peers (same team and role) who did, as a cue to coach."""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, select

from handlers.base import Message, from_minor
from handlers.calendar import month_bounds
from handlers.policy import Policy
from handlers.scope import Scope
from storage.enums import CompensationStatus as Status
from storage.models import Compensation, Employee, Team


@dataclass
class PersonUse:
    employee: Employee
    team: str
    limit: Decimal
    count: int = 0  # compensations given on their own authority
    total: Decimal = Decimal("0.00")
    largest: Decimal = Decimal("0.00")

    @property
    def largest_share(self) -> float:
        """The largest single compensation as a share of the per-incident limit."""
        return float(self.largest / self.limit) if self.limit else 0.0


@dataclass
class GroupUse:
    team: str
    role: str
    people: list[PersonUse]

    @property
    def users(self) -> list[PersonUse]:
        return [p for p in self.people if p.count]

    @property
    def never(self) -> list[PersonUse]:
        """Who never used their authority while a peer in the group did: coach them."""
        return [p for p in self.people if not p.count] if self.users else []


@dataclass
class AuthorityReport:
    month: str
    currency: str
    groups: list[GroupUse]

    @property
    def to_coach(self) -> list[tuple[PersonUse, GroupUse]]:
        return [(person, group) for group in self.groups for person in group.never]


def authority_report(session: Session, config: Policy, scope: Scope,
                     month: str) -> AuthorityReport:
    start, end = month_bounds(month, config.organisation.tz)
    currency = config.organisation.currency
    people: dict[int, PersonUse] = {}
    for employee, team in session.exec(
            select(Employee, Team.name).outerjoin(Team, Team.id == Employee.team_id)
            .where(Employee.active, scope.where(Employee.id)).order_by(Employee.name)).all():
        limit = config.authority(employee.role).per_incident_limit
        if limit > 0 and (scope.viewer is None or employee.id != scope.viewer.id):
            people[employee.id] = PersonUse(employee, team or "", limit)
    for employee_id, minor in session.exec(select(
            Compensation.employee_id, Compensation.amount_minor).where(
            Compensation.employee_id.in_(list(people)), Compensation.created_at >= start,
            Compensation.created_at < end, Compensation.currency == currency,
            Compensation.status == Status.SELF_AUTHORISED)).all():
        person, amount = people[employee_id], from_minor(minor)
        person.count += 1
        person.total += amount
        person.largest = max(person.largest, amount)
    groups: dict[tuple[str, str], list[PersonUse]] = defaultdict(list)
    for person in people.values():
        groups[(person.team, person.employee.role)].append(person)
    return AuthorityReport(month, currency, [GroupUse(team, role, members) for (team, role),
                                             members in sorted(groups.items())])


def coaching(report: AuthorityReport) -> list[Message]:
    """Under-use as a signal: each person who never used their authority this month
    while peers in the same team and role did, named with those peers, with a cue."""
    return [Message("signal.unused", {
        "who": person.employee.name, "team": group.team or "-",
        "role_key": f"role.{group.role}", "month": report.month,
        "users": len(group.users), "peers": len(group.people) - 1,
        "names": ", ".join(p.employee.name for p in group.users)})
        for person, group in report.to_coach]
