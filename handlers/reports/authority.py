"""Authority coaching: how much of their goodwill authority people actually use, per
team and role, in a month. People who never use theirs are usually afraid to; the
supervisor sees them next to peers (same team and role) who did, as a cue to coach."""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import func
from sqlmodel import Session, select

from handlers.base import Message, from_minor
from handlers.calendar import month_bounds
from handlers.policy import Policy
from handlers.scope import Scope
from storage.enums import CompensationStatus as Status
from storage.models import Compensation, Employee, Team


class Person(NamedTuple):
    id: int
    handle: str
    name: str
    role: str


@dataclass
class PersonUse:
    employee: Person
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

    @property
    def spent(self) -> Decimal:
        return sum((p.total for p in self.people), Decimal("0.00"))


@dataclass
class AuthorityReport:
    month: str
    currency: str
    groups: list[GroupUse]

    @property
    def to_coach(self) -> list[tuple[PersonUse, GroupUse]]:
        return [(person, group) for group in self.groups for person in group.never]


def authority_report(session: Session, config: Policy, scope: Scope, month: str,
                     team: str | None = None) -> AuthorityReport:
    """Everyone in `scope` (or in one `team` of it) with authority, and their use of it.
    Read as rows and sums, not records: the whole organisation's is one pass of each."""
    start, end = month_bounds(month, config.organisation.tz)
    currency = config.organisation.currency
    staff = select(Employee.id, Employee.handle, Employee.name, Employee.role, Team.name) \
        .outerjoin(Team, Team.id == Employee.team_id) \
        .where(Employee.active, scope.where(Employee.id))
    if team is not None:
        staff = staff.where(Team.name == team) if team else staff.where(Team.id.is_(None))
    people: dict[int, PersonUse] = {}
    for employee_id, handle, name, role, team_name in session.exec(staff.order_by(Employee.name)):
        limit = config.authority(role).per_incident_limit
        if limit > 0 and (scope.viewer is None or employee_id != scope.viewer.id):
            people[employee_id] = PersonUse(Person(employee_id, handle, name, role),
                                            team_name or "", limit)
    used = select(Compensation.employee_id, func.count(), func.sum(Compensation.amount_minor),
                  func.max(Compensation.amount_minor)).where(
        Compensation.created_at >= start, Compensation.created_at < end,
        Compensation.currency == currency, Compensation.status == Status.SELF_AUTHORISED)
    if not scope.everyone or team is not None:
        used = used.where(Compensation.employee_id.in_(list(people)))
    for employee_id, count, total, largest in session.exec(
            used.group_by(Compensation.employee_id)):
        if employee_id in people:
            person = people[employee_id]
            person.count, person.total = int(count), from_minor(int(total))
            person.largest = from_minor(int(largest))
    groups: dict[tuple[str, str], list[PersonUse]] = defaultdict(list)
    for person in people.values():
        groups[(person.team, person.employee.role)].append(person)
    return AuthorityReport(month, currency, [GroupUse(team_name, role, members)
                                             for (team_name, role), members
                                             in sorted(groups.items())])


def coaching(report: AuthorityReport) -> list[Message]:
    """Under-use as a signal: each person who never used their authority this month
    while peers in the same team and role did, named with those peers, with a cue."""
    return [Message("signal.unused", {
        "who": person.employee.name, "team": group.team or "-",
        "role_key": f"role.{group.role}", "month": report.month,
        "users": len(group.users), "peers": len(group.people) - 1,
        "names": ", ".join(p.employee.name for p in group.users)})
        for person, group in report.to_coach]
