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
from handlers.calendar import month_bounds
from handlers.policy import Policy
from handlers.scope import Scope
from storage.enums import CompensationStatus as Status
from storage.enums import Role
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
    given = _given(config, scope, month)
    if teams is not None and None not in teams:  # their people's goodwill, by its index
        given = (*given, Compensation.employee_id.in_(
            select(Employee.id).where(Employee.team_id.in_(teams)).correlate(None)))
    used = select(Compensation.employee_id.label("id"), func.count().label("uses"),
                  func.sum(Compensation.amount_minor).label("spent")).where(
        *given).group_by(Compensation.employee_id).subquery()
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


def _given(config: Policy, scope: Scope, month: str) -> tuple:
    """Goodwill given on one's own authority this month, in the organisation currency."""
    start, end = month_bounds(month, config.organisation.tz)
    return (Compensation.created_at >= start, Compensation.created_at < end,
            Compensation.currency == config.organisation.currency,
            Compensation.status == Status.SELF_AUTHORISED,
            scope.where(Compensation.employee_id))  # a supervisor's: their people's, by index


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
    peers in the same team and role did, the first `limit` named with those peers. Only
    the teams where someone used it are read (a quiet month reads nobody), in one pass
    that counts each group and everyone to coach; the peers named are read by team."""
    busy = set(session.exec(select(Employee.team_id).join(
        Compensation, Compensation.employee_id == Employee.id).where(
        *_given(config, scope, month)).distinct()))
    if not busy:
        return Coaching([], 0)
    people = _with_authority(session, config, scope, month, busy)
    group = (people.c.team_id, people.c.role)
    counted = select(people.c.name, people.c.team, people.c.role, people.c.team_id,
                     people.c.uses, func.count().over(partition_by=group).label("people"),
                     func.sum(case((people.c.uses > 0, 1), else_=0)).over(
                         partition_by=group).label("users")).subquery()
    shown = session.execute(select(
        counted.c.name, counted.c.team, counted.c.role, counted.c.team_id, counted.c.people,
        counted.c.users, func.count().over()).where(counted.c.uses == 0, counted.c.users > 0)
        .order_by(counted.c.team, counted.c.role, counted.c.name).limit(limit)).all()
    users: dict[tuple, list[str]] = defaultdict(list)
    wanted = {(team_id, role) for _n, _t, role, team_id, _p, _u, _all in shown}
    if wanted:
        theirs = _with_authority(session, config, scope, month, {t for t, _r in wanted})
        for name, team_id, role in session.execute(
                select(theirs.c.name, theirs.c.team_id, theirs.c.role)
                .where(theirs.c.uses > 0).order_by(theirs.c.name)):
            users[(team_id, role)].append(name)
    return Coaching([Message("signal.unused", {
        "who": name, "team": team or "-", "role_key": f"role.{role}", "month": month,
        "users": int(used), "peers": int(count) - 1,
        "names": ", ".join(users[(team_id, role)])})
        for name, team, role, team_id, count, used, _all in shown],
        int(shown[0][6]) if shown else 0)


def coaching_lines(session: Session, config: Policy, scope: Scope, month: str,
                   limit: int = 50) -> list[Message]:
    """The coaching a reader is told (chat, digest, signals page): the first `limit`
    people, and a line with how many more and where the rest are."""
    found = coaching_for(session, config, scope, month, limit)
    more = found.total - len(found.lines)
    return [*found.lines, *([Message("signal.unused_more", {
        "count": more, "month": month, "url": config.web.public_url})] if more else [])]
