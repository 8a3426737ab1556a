"""What HR and supervisors review: who a viewer may see, and the figures of each
report (spend, waivers, recognition, a team). Read-only; every query is narrowed
to the viewer's scope before it runs, so a page cannot show more than its reader
may see."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from statistics import median, quantiles
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_
from sqlmodel import Session, select

from handlers.base import PRIVILEGED, from_minor, money
from handlers.compensation import COUNTED
from handlers.policy import Policy
from handlers.registry import DECIDABLE
from points.history import LedgerFilter
from storage.models import (
    Compensation,
    Employee,
    GoldenEarAward,
    MajorIssue,
    PointsAccount,
    Praise,
    Redemption,
    Suggestion,
    Team,
    Waiver,
)


@dataclass(frozen=True)
class Scope:
    """Whose records a viewer may see. `employee_ids` None: everyone (HR, admins and
    integrations' API tokens); a supervisor sees their team, an employee themselves."""

    viewer: Employee | None
    employee_ids: frozenset[int] | None
    team_ids: frozenset[int] | None

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
    if viewer.role == "supervisor":
        team = Employee.team_id == viewer.team_id if viewer.team_id else False
        members = session.exec(select(Employee.id).where(
            or_(team, Employee.supervisor_id == viewer.id))).all()
        teams = frozenset({viewer.team_id} if viewer.team_id else ())
        return Scope(viewer, frozenset({viewer.id, *members}), teams)
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


OPEN_REDEMPTIONS = ("pending", "approved")
SETTLED_REDEMPTIONS = ("fulfilled", "rejected", "cancelled")


def redemption_queue(session: Session, scope: Scope, statuses: tuple[str, ...] = OPEN_REDEMPTIONS,
                     limit: int = 200) -> list[tuple[Redemption, Employee]]:
    """Open requests oldest first (the queue); settled ones newest first (the record)."""
    order = (Redemption.id.asc() if set(statuses) <= set(OPEN_REDEMPTIONS)
             else Redemption.id.desc())
    return list(session.exec(
        select(Redemption, Employee).join(Employee, Employee.id == Redemption.employee_id)
        .where(Redemption.status.in_(statuses), scope.where(Redemption.employee_id))
        .order_by(order).limit(limit)).all())


# --- periods ---------------------------------------------------------------
def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The instant a local day starts (report filters name local days)."""
    return datetime.combine(day, time(), tzinfo=tz)


def month_bounds(month: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a local month ("2026-11") starts and ends; ValueError if malformed."""
    first = date.fromisoformat(f"{month}-01")
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return local_midnight(first, tz), local_midnight(following, tz)


def months_back(month: str, count: int) -> list[str]:
    """`count` months ending with `month`, oldest first."""
    year, number = map(int, month.split("-"))
    index = year * 12 + number - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


def _local_month(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m")


# --- compensation ------------------------------------------------------------
@dataclass
class PersonSpend:
    employee: Employee
    team: str
    limit: Decimal
    monthly_budget: Decimal | None
    spent: Decimal = Decimal("0.00")
    count: int = 0
    by_kind: Counter = field(default_factory=Counter)  # kind -> minor units

    @property
    def budget_share(self) -> float | None:
        if not self.monthly_budget:
            return None
        return float(self.spent / self.monthly_budget)


@dataclass
class CompensationReport:
    month: str
    currency: str
    people: list[PersonSpend]
    teams: list[tuple[str, Decimal, Decimal | None]]  # team, spent, monthly team budget
    kinds: dict[str, Decimal]
    other_currencies: dict[str, Decimal]
    trend: list[tuple[str, Decimal]]  # month, spent
    decisions: Counter  # status -> count of requests above authority
    turnaround_hours: tuple[float, float] | None  # median, 90th percentile


def compensation(session: Session, config: Policy, scope: Scope, month: str,
                 ) -> CompensationReport:
    tz, currency = config.organisation.tz, config.organisation.currency
    months = months_back(month, 12)
    start, end = month_bounds(months[0], tz)[0], month_bounds(month, tz)[1]
    records = session.exec(
        select(Compensation, Employee, Team.name)
        .join(Employee, Employee.id == Compensation.employee_id)
        .outerjoin(Team, Team.id == Employee.team_id)
        .where(scope.where(Compensation.employee_id), Compensation.created_at >= start,
               Compensation.created_at < end)).all()
    spend: dict[int, PersonSpend] = {}
    team_spent: Counter = Counter()
    kinds: Counter = Counter()
    others: Counter = Counter()
    trend: Counter = Counter()
    decisions: Counter = Counter()
    waits: list[float] = []
    for record, employee, team in records:
        in_month = _local_month(record.created_at, tz) == month
        counted = record.status in COUNTED
        if counted and record.currency == currency:
            trend[_local_month(record.created_at, tz)] += record.amount_minor
        if not in_month:
            continue
        if record.status != "self_authorised":
            decisions[record.status] += 1
            if record.decided_at is not None:
                waits.append((record.decided_at - record.created_at).total_seconds() / 3600)
        if not counted:
            continue
        if record.currency != currency:
            others[record.currency] += record.amount_minor
            continue
        authority = config.roles.get(employee.role)
        person = spend.setdefault(employee.id, PersonSpend(
            employee, team or "", authority.per_incident_limit if authority else Decimal(0),
            authority.monthly_budget if authority else None))
        person.spent += from_minor(record.amount_minor)
        person.count += 1
        person.by_kind[record.kind] += record.amount_minor
        team_spent[team or ""] += record.amount_minor
        kinds[record.kind] += record.amount_minor
    turnaround = None
    if waits:
        ninetieth = quantiles(waits, n=10, method="inclusive")[-1] if len(waits) > 1 else waits[0]
        turnaround = (round(median(waits), 1), round(ninetieth, 1))
    return CompensationReport(
        month, currency, sorted(spend.values(), key=lambda p: -p.spent),
        [(team, from_minor(spent), config.team_budget.monthly)
         for team, spent in team_spent.most_common()],
        {kind: from_minor(minor) for kind, minor in kinds.most_common()},
        {code: from_minor(minor) for code, minor in others.items()},
        [(m, from_minor(trend[m])) for m in months], decisions, turnaround)


# --- waivers -------------------------------------------------------------------
@dataclass
class RuleFriction:
    rule: str
    waived: int = 0
    late: int = 0
    ratified: int = 0
    rejected: int = 0
    unreported: int = 0  # still open
    with_customer: int = 0
    cost: Decimal = Decimal("0.00")


@dataclass
class WaiverReport:
    since: datetime
    until: datetime
    rules: list[RuleFriction]
    waived: int
    reported: int
    late: int
    overdue: int  # open past their 24 h
    ratified: int
    rejected: int

    @property
    def late_rate(self) -> float | None:
        return self.late / self.reported if self.reported else None


def waivers(session: Session, config: Policy, scope: Scope, since: datetime, until: datetime,
            now: datetime) -> WaiverReport:
    """The friction report: which rules staff break for customers, how often, how
    promptly they say so, and what their supervisors made of it."""
    rules: dict[str, RuleFriction] = {}
    totals: Counter = Counter()
    for waiver in session.exec(select(Waiver).where(
            scope.where(Waiver.employee_id), Waiver.occurred_at >= since,
            Waiver.occurred_at < until)).all():
        rule = rules.setdefault(waiver.rule, RuleFriction(waiver.rule))
        rule.waived += 1
        rule.late += waiver.late
        rule.ratified += waiver.status == "ratified"
        rule.rejected += waiver.status == "rejected"
        rule.unreported += waiver.status == "open"
        rule.with_customer += bool(waiver.customer_ref)
        if waiver.cost_minor and waiver.currency == config.organisation.currency:
            rule.cost += from_minor(waiver.cost_minor)
        totals["reported"] += waiver.status != "open"
        totals["overdue"] += waiver.status == "open" and waiver.due_at < now
    ranked = sorted(rules.values(), key=lambda r: (-r.waived, r.rule))
    return WaiverReport(
        since, until, ranked, sum(r.waived for r in ranked), totals["reported"],
        sum(r.late for r in ranked), totals["overdue"], sum(r.ratified for r in ranked),
        sum(r.rejected for r in ranked))


# --- recognition ---------------------------------------------------------------
@dataclass
class RecognitionReport:
    months: list[str]
    praise: dict[str, Counter]  # team -> month -> credited praise letters
    totals: list[tuple[str, int]]  # month -> all teams
    golden_ears: list[tuple[GoldenEarAward, Employee | None]]
    cases: list[tuple[Employee, str, int]]  # person, team, improvement cases
    threshold: int


def recognition(session: Session, config: Policy, scope: Scope, month: str,
                ) -> RecognitionReport:
    tz = config.organisation.tz
    months = months_back(month, 12)
    start, end = month_bounds(months[0], tz)[0], month_bounds(month, tz)[1]
    praise: dict[str, Counter] = defaultdict(Counter)
    for created_at, team in session.exec(
            select(Praise.created_at, Team.name)
            .join(Employee, Employee.id == Praise.employee_id)
            .outerjoin(Team, Team.id == Employee.team_id)
            .where(scope.where(Praise.employee_id), Praise.status == "credited",
                   Praise.created_at >= start, Praise.created_at < end)).all():
        praise[team or ""][_local_month(created_at, tz)] += 1
    totals = [(m, sum(by_month[m] for by_month in praise.values())) for m in months]
    awards = session.exec(
        select(GoldenEarAward, Employee).outerjoin(
            Employee, Employee.id == GoldenEarAward.winner_id)
        .order_by(GoldenEarAward.month.desc()).limit(24)).all()
    cases: Counter = Counter()
    for model, status in ((Suggestion, "accepted"), (MajorIssue, "confirmed")):
        for employee_id, count in session.exec(
                select(model.employee_id, func.count()).where(
                    model.status == status, scope.where(model.employee_id))
                .group_by(model.employee_id)).all():
            cases[employee_id] += int(count)
    named = {employee.id: (employee, team) for employee, team in people(session, scope)}
    return RecognitionReport(
        months, dict(sorted(praise.items())), totals, list(awards),
        sorted(((*named[i], n) for i, n in cases.items() if i in named),
               key=lambda row: (-row[2], row[0].name)),
        config.points.career_improvement_cases)


@dataclass
class Member:
    employee: Employee
    balance: int
    spent_this_month: Decimal | None  # compensation given, organisation currency
    open_waivers: int


def team_members(session: Session, config: Policy, scope: Scope, team_id: int,
                 now: datetime) -> list[Member]:
    """A team's members with their points, this month's spend and unreported waivers."""
    members = balances(session, scope, team_id)
    ids = [employee.id for employee, _team, _points in members]
    month_start = month_bounds(_local_month(now, config.organisation.tz),
                               config.organisation.tz)[0]
    spent = dict(session.exec(
        select(Compensation.employee_id, func.sum(Compensation.amount_minor)).where(
            Compensation.employee_id.in_(ids), Compensation.status.in_(COUNTED),
            Compensation.currency == config.organisation.currency,
            Compensation.created_at >= month_start)
        .group_by(Compensation.employee_id)).all())
    open_waivers = dict(session.exec(
        select(Waiver.employee_id, func.count()).where(
            Waiver.employee_id.in_(ids), Waiver.status == "open")
        .group_by(Waiver.employee_id)).all())
    return [Member(employee, points,
                   from_minor(int(spent[employee.id])) if employee.id in spent else None,
                   int(open_waivers.get(employee.id, 0)))
            for employee, _team, points in members]


def pending_items(session: Session, refs: list[str]) -> list[tuple[str, str, str]]:
    """(reference, whose, what) for each record waiting for a decision."""
    items = []
    for ref in refs:
        record = session.get(DECIDABLE[ref[0]].model, int(ref[1:]))
        who = session.get(Employee, record.employee_id)
        if isinstance(record, Compensation):
            what = f"{money(record.amount_minor, record.currency)} {record.kind}: {record.reason}"
        elif isinstance(record, Waiver):
            what = f"{record.rule}: {record.done_instead} / {record.why}"
        elif isinstance(record, Redemption):
            what = f"{record.item_key} ({record.cost})"
        else:
            what = record.text
        items.append((ref, who.name if who else "?", what))
    return items


def default_window(now: datetime, tz: ZoneInfo, days: int = 90) -> tuple[datetime, datetime]:
    """The last `days` local days, today included."""
    until = local_midnight(now.astimezone(tz).date() + timedelta(days=1), tz)
    return until - timedelta(days=days), until
