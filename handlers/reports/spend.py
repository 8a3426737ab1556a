"""Compensation spend: a month per person against their authority and monthly
budget, per team against the team budget, by kind, the last 12 months, and how
quickly requests above authority were decided."""

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from statistics import median, quantiles

from sqlalchemy import case, func
from sqlmodel import Session, select

from handlers.base import from_minor
from handlers.calendar import month_bounds, months_back
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
    (None: all) with how many more, by kind and currency, twelve months' trend, and the
    decisions on requests above authority; no query reads the month's records as rows
    beyond the waits of the decided ones."""
    tz, currency = config.organisation.tz, config.organisation.currency
    months = months_back(month, 12)
    bounds = [month_bounds(m, tz) for m in months]
    start, end = bounds[-1]
    mine = scope.where(Compensation.employee_id)
    in_month = (mine, Compensation.created_at >= start, Compensation.created_at < end)
    counted = (*in_month, Compensation.status.in_(COUNTED))
    ours = (*counted, Compensation.currency == currency)
    bucket = case(*[(Compensation.created_at < until, m) for m, (_since, until)
                    in zip(months, bounds, strict=True)])
    trend = dict(session.execute(
        select(bucket, func.sum(Compensation.amount_minor)).where(
            mine, Compensation.status.in_(COUNTED), Compensation.currency == currency,
            Compensation.created_at >= bounds[0][0], Compensation.created_at < end)
        .group_by(bucket)).all())
    spent, everyone = func.sum(Compensation.amount_minor), func.count().over()
    by_person = select(Compensation.employee_id.label("id"), spent.label("spent"),
                       func.count().label("count")).where(*ours) \
        .group_by(Compensation.employee_id).subquery()
    largest = session.execute(
        select(Employee, Team.name, by_person.c.spent, by_person.c.count, everyone)
        .join(by_person, by_person.c.id == Employee.id)
        .outerjoin(Team, Team.id == Employee.team_id)
        .order_by(by_person.c.spent.desc(), Employee.id).limit(shown)).all()
    people = []
    for employee, team, minor, count, _spenders in largest:
        authority = config.roles.get(employee.role)
        people.append(PersonSpend(
            employee, team or "", authority.per_incident_limit if authority else Decimal(0),
            authority.monthly_budget if authority else None, from_minor(int(minor)),
            int(count)))
    team_name = func.coalesce(Team.name, "")
    teams = session.execute(select(team_name, spent, everyone).join(
        Employee, Employee.id == Compensation.employee_id).outerjoin(
        Team, Team.id == Employee.team_id).where(*ours).group_by(team_name)
        .order_by(spent.desc(), team_name).limit(shown)).all()
    kinds: Counter = Counter()
    others: Counter = Counter()
    decisions: Counter = Counter()
    for status, code, kind, count, minor in session.execute(  # one pass, a few rows
            select(Compensation.status, Compensation.currency, Compensation.kind,
                   func.count(), spent).where(*in_month)
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
        (largest[0][4] if largest else 0) - len(people), (teams[0][2] if teams else 0) - len(teams))
