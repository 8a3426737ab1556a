"""Authority coaching: how much of their goodwill authority people actually use, per
team and role, in a month. People who never use theirs are usually afraid to; the
supervisor sees them next to peers (same team and role) who did, as a cue to coach."""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import case, func, or_
from sqlmodel import Session, select

from handlers.base import Message, from_minor
from handlers.policy import Policy
from handlers.scope import Scope
from storage.enums import Role
from storage.models import Employee, SpendMonth, Team
from storage.month_sums import keep_months


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
    used = select(SpendMonth.employee_id, SpendMonth.own_count, SpendMonth.own_minor,
                  SpendMonth.own_largest).where(*_given(session, config, month))
    if not scope.everyone or team is not None:
        used = used.where(SpendMonth.employee_id.in_(list(people)))
    for employee_id, count, total, largest in session.exec(used):
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


@dataclass(frozen=True)
class GroupSummary:
    team: str
    role: str
    people: int
    users: int  # who used their authority this month
    spent: Decimal


@dataclass(frozen=True)
class Coaching:
    """Who to coach, as far as `limit` names them, and how many there are in all."""

    lines: list[Message]
    total: int


def _with_authority(session: Session, config: Policy, scope: Scope, month: str,
                    teams: set[int | None] | None = None):
    """The people in `scope` who have authority (not the viewer), each with this month's
    use of it, as a subquery: id, handle, name, role, team (name), team_id, uses, spent;
    with `teams`, only those of these teams (None among them: of no team)."""
    roles = [role for role in Role if config.authority(role).per_incident_limit > 0]
    given = (*_given(session, config, month), scope.where(SpendMonth.employee_id))
    if teams is not None and None not in teams:  # their people's rows, by the key
        given = (*given, SpendMonth.employee_id.in_(
            select(Employee.id).where(Employee.team_id.in_(teams)).correlate(None)))
    used = select(SpendMonth.employee_id.label("id"), SpendMonth.own_count.label("uses"),
                  SpendMonth.own_minor.label("spent")).where(*given).subquery()
    people = select(Employee.id, Employee.handle, Employee.name, Employee.role,
                    func.coalesce(Team.name, "").label("team"), Employee.team_id,
                    func.coalesce(used.c.uses, 0).label("uses"),
                    func.coalesce(used.c.spent, 0).label("spent")) \
        .outerjoin(Team, Team.id == Employee.team_id) \
        .outerjoin(used, used.c.id == Employee.id) \
        .where(Employee.active, Employee.role.in_(roles), scope.where(Employee.id))
    if scope.viewer is not None:
        people = people.where(Employee.id != scope.viewer.id)
    if teams is not None:  # by the team index; an OR only when the teamless are wanted
        people = people.where(or_(Employee.team_id.in_(teams - {None}), *(
            [Employee.team_id.is_(None)] if None in teams else [])))
    return people.subquery()


def _given(session: Session, config: Policy, month: str) -> tuple:
    """The month's rows of those who gave goodwill on their own authority, in the
    organisation currency (storage/month_sums.py)."""
    keep_months(session, config.organisation.tz)
    return (SpendMonth.month == month, SpendMonth.currency == config.organisation.currency,
            SpendMonth.own_count > 0)


def authority_summary(session: Session, config: Policy, scope: Scope, month: str,
                      ) -> list[GroupSummary]:
    """One row a team and role, summed by the database (HR's view of the organisation)."""
    people = _with_authority(session, config, scope, month)
    return [GroupSummary(team, role, int(count), int(users), from_minor(int(spent)))
            for team, role, count, users, spent in session.execute(
                select(people.c.team, people.c.role, func.count(),
                       func.sum(case((people.c.uses > 0, 1), else_=0)), func.sum(people.c.spent))
                .group_by(people.c.team, people.c.role).order_by(people.c.team, people.c.role))]


def coaching_for(session: Session, config: Policy, scope: Scope, month: str,
                 limit: int = 50) -> Coaching:
    """`coaching`, found by the database: who never used their authority this month while
    peers in the same team and role did, the first `limit` named with those peers. A
    quiet month reads nobody; otherwise one pass counts each team and role, then the
    people of the first groups with someone to coach are read by team, as many groups as
    fill the `limit` lines."""
    if session.execute(select(SpendMonth.employee_id).where(
            *_given(session, config, month), scope.where(SpendMonth.employee_id))
            .limit(1)).first() is None:
        return Coaching([], 0)
    people = _with_authority(session, config, scope, month)
    groups = [(team_id, role, int(count), int(used)) for team_id, role, count, used
              in session.execute(  # one row a team and role, in the order coached
                  select(people.c.team_id, people.c.role, func.count(),
                         func.sum(case((people.c.uses > 0, 1), else_=0)))
                  .group_by(people.c.team, people.c.team_id, people.c.role)
                  .order_by(people.c.team, people.c.role))
              if 0 < used < count]
    first, named = {}, 0  # the groups whose people fill the first `limit` lines
    for team_id, role, count, used in groups:
        if named >= limit:
            break
        first[(team_id, role)], named = (count, used), named + count - used
    lines: list[Message] = []
    users: dict[tuple, list[str]] = defaultdict(list)
    if first:
        theirs = _with_authority(session, config, scope, month, {t for t, _r in first})
        found = session.execute(select(theirs.c.name, theirs.c.team, theirs.c.role,
                                       theirs.c.team_id, theirs.c.uses)
                                .order_by(theirs.c.team, theirs.c.role, theirs.c.name)).all()
        for name, _team, role, team_id, uses in found:
            if uses and (team_id, role) in first:
                users[(team_id, role)].append(name)
        unused = [row for row in found if not row.uses and (row.team_id, row.role) in first]
        for name, team, role, team_id, _uses in unused[:limit]:
            count, used = first[(team_id, role)]
            lines.append(Message("signal.unused", {
                "who": name, "team": team or "-", "role_key": f"role.{role}", "month": month,
                "users": used, "peers": count - 1, "names": ", ".join(users[(team_id, role)])}))
    return Coaching(lines, sum(count - used for _t, _r, count, used in groups))


def coaching_lines(session: Session, config: Policy, scope: Scope, month: str,
                   limit: int = 50) -> list[Message]:
    """The coaching a reader is told (chat, digest, signals page): the first `limit`
    people, and a line with how many more and where the rest are."""
    found = coaching_for(session, config, scope, month, limit)
    more = found.total - len(found.lines)
    return [*found.lines, *([Message("signal.unused_more", {
        "count": more, "month": month, "url": config.web.public_url})] if more else [])]
