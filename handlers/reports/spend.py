"""Compensation spend: a month per person against their authority and monthly
budget, per team against the team budget, by kind, the last 12 months, and how
quickly requests above authority were decided."""

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from statistics import median, quantiles

from sqlalchemy import func
from sqlmodel import Session, select

from handlers.base import from_minor
from handlers.calendar import month_bounds, months_back
from handlers.compensation import COUNTED
from handlers.policy import Policy
from handlers.scope import Scope
from storage.enums import CompensationStatus
from storage.models import Compensation, Employee, SpendMonth, Team
from storage.month_sums import keep_months


@dataclass
class PersonSpend:
    employee: Employee
    team: str
    limit: Decimal
    monthly_budget: Decimal | None
    spent: Decimal = Decimal("0.00")
    count: int = 0

    @property
    def budget_share(self) -> float | None:
        if not self.monthly_budget:
            return None
        return float(self.spent / self.monthly_budget)


@dataclass
class SpendReport:
    month: str
    currency: str
    people: list[PersonSpend]  # the largest spenders first, as many as shown
    teams: list[tuple[str, Decimal, Decimal | None]]  # team, spent, monthly team budget
    kinds: dict[str, Decimal]
    other_currencies: dict[str, Decimal]
    trend: list[tuple[str, Decimal]]  # month, spent
    decisions: Counter  # status -> count of requests above authority
    turnaround_hours: tuple[float, float] | None  # median, 90th percentile
    more_people: int = 0  # who spent, beyond those shown
    more_teams: int = 0


def spend_report(session: Session, config: Policy, scope: Scope, month: str,
                 shown: int | None = None) -> SpendReport:
    """The month's spend summed by the database: the `shown` largest spenders and teams
    (None: all) with how many more, and twelve months' trend, from the month's row a
    person (storage/month_sums.py); by kind and currency, and the decisions on requests
    above authority, from the month's records, of which only the decided ones' waits are
    read as rows."""
    tz, currency = config.organisation.tz, config.organisation.currency
    months = months_back(month, 12)
    keep_months(session, tz)
    start, end = month_bounds(month, tz)
    ours = (scope.where(SpendMonth.employee_id), SpendMonth.currency == currency,
            SpendMonth.counted_minor > 0)
    trend = dict(session.execute(
        select(SpendMonth.month, func.sum(SpendMonth.counted_minor))
        .where(*ours, SpendMonth.month.in_(months)).group_by(SpendMonth.month)).all())
    spent, everyone = func.sum(SpendMonth.counted_minor), func.count().over()
    spenders = session.execute(select(func.count()).where(
        *ours, SpendMonth.month == month)).scalar_one()
    largest = session.execute(  # by the (month, currency, spent) index, as far as shown
        select(Employee, Team.name, SpendMonth.counted_minor,
               SpendMonth.own_count + SpendMonth.approved_count)
        .join(Employee, SpendMonth.employee_id == Employee.id)
        .outerjoin(Team, Team.id == Employee.team_id).where(*ours, SpendMonth.month == month)
        .order_by(SpendMonth.counted_minor.desc(), SpendMonth.employee_id).limit(shown)).all()
    people = []
    for employee, team, minor, count in largest:
        authority = config.roles.get(employee.role)
        people.append(PersonSpend(
            employee, team or "", authority.per_incident_limit if authority else Decimal(0),
            authority.monthly_budget if authority else None, from_minor(int(minor)),
            int(count)))
    team_name = func.coalesce(Team.name, "")
    teams = session.execute(select(team_name, spent, everyone).select_from(SpendMonth)
                            .outerjoin(Team, Team.id == SpendMonth.team_id)  # as it gave
                            .where(*ours, SpendMonth.month == month)
                            .group_by(team_name).order_by(spent.desc(), team_name)
                            .limit(shown)).all()
    mine = scope.where(Compensation.employee_id)
    in_month = (mine, Compensation.created_at >= start, Compensation.created_at < end)
    kinds: Counter = Counter()
    others: Counter = Counter()
    decisions: Counter = Counter()
    for status, code, kind, count, minor in session.execute(  # one pass, a few rows
            select(Compensation.status, Compensation.currency, Compensation.kind,
                   func.count(), func.sum(Compensation.amount_minor)).where(*in_month)
            .group_by(Compensation.status, Compensation.currency, Compensation.kind)):
        if status != CompensationStatus.SELF_AUTHORISED:
            decisions[status] += int(count)
        if status in COUNTED:
            (kinds if code == currency else others)[kind if code == currency else code] += \
                int(minor)
    above = (*in_month, Compensation.status != CompensationStatus.SELF_AUTHORISED)
    waits = [(decided - created).total_seconds() / 3600 for created, decided in session.execute(
        select(Compensation.created_at, Compensation.decided_at).where(
            *above, Compensation.decided_at.is_not(None)))]
    turnaround = None
    if waits:
        ninetieth = quantiles(waits, n=10, method="inclusive")[-1] if len(waits) > 1 else waits[0]
        turnaround = (round(median(waits), 1), round(ninetieth, 1))
    return SpendReport(
        month, currency, people,
        [(team, from_minor(int(minor)), config.team_budget.monthly) for team, minor, _ in teams],
        {kind: from_minor(minor) for kind, minor in kinds.most_common()},
        {code: from_minor(minor) for code, minor in others.items()},
        [(m, from_minor(int(trend.get(m) or 0))) for m in months], decisions, turnaround,
        spenders - len(people), (teams[0][2] if teams else 0) - len(teams))
