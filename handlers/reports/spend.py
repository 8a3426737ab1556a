"""Compensation spend: a month per person against their authority and monthly
budget, per team against the team budget, by kind, the last 12 months, and how
quickly requests above authority were decided."""

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median, quantiles

from sqlmodel import Session, select

from handlers.base import from_minor
from handlers.calendar import month_bounds, month_of, months_back
from handlers.compensation import COUNTED
from handlers.policy import Policy
from handlers.scope import Scope
from storage.enums import CompensationStatus
from storage.models import Compensation, Employee, Team


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
class SpendReport:
    month: str
    currency: str
    people: list[PersonSpend]
    teams: list[tuple[str, Decimal, Decimal | None]]  # team, spent, monthly team budget
    kinds: dict[str, Decimal]
    other_currencies: dict[str, Decimal]
    trend: list[tuple[str, Decimal]]  # month, spent
    decisions: Counter  # status -> count of requests above authority
    turnaround_hours: tuple[float, float] | None  # median, 90th percentile


def spend_report(session: Session, config: Policy, scope: Scope, month: str) -> SpendReport:
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
        in_month = month_of(record.created_at, tz) == month
        counted = record.status in COUNTED
        if counted and record.currency == currency:
            trend[month_of(record.created_at, tz)] += record.amount_minor
        if not in_month:
            continue
        if record.status != CompensationStatus.SELF_AUTHORISED:
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
    return SpendReport(
        month, currency, sorted(spend.values(), key=lambda p: -p.spent),
        [(team, from_minor(spent), config.team_budget.monthly)
         for team, spent in team_spent.most_common()],
        {kind: from_minor(minor) for kind, minor in kinds.most_common()},
        {code: from_minor(minor) for code, minor in others.items()},
        [(m, from_minor(trend[m])) for m in months], decisions, turnaround)
