"""Fairness of recognition, for HR: points and praise per person, team and role by
month, how concentrated the points are (the share the top 10% of people get), and the
teams that got no recognition at all — so a popularity effect shows and can be acted
on. Points count as earned when awarded (praise, suggestions, major issues, Golden
Ear); redemptions and reversals are not recognition."""

from collections import Counter
from dataclasses import dataclass
from math import ceil

from sqlmodel import Session, select

from handlers.calendar import month_bounds, month_of, months_back
from handlers.policy import Policy
from storage.enums import LedgerReason
from storage.models import Employee, LedgerEntry, Team

AWARDS = (LedgerReason.PRAISE, LedgerReason.SUGGESTION, LedgerReason.MAJOR_ISSUE,
          LedgerReason.GOLDEN_EAR)
TOP_SHARE = 0.10
MONTHS = 6


@dataclass
class Row:
    name: str  # a person, a team or a role
    people: int
    points: int
    praise: int
    recognised: int  # people who got any points


@dataclass
class FairnessReport:
    month: str
    people: list[tuple[Employee, str, int, int]]  # person, team, points, praise
    teams: list[Row]
    roles: list[Row]
    top_people: int  # how many people the top 10% are
    top_share: float | None  # their share of the month's points; None: no points
    unrecognised_teams: list[str]
    trend: list[tuple[str, dict[str, int]]]  # month -> team -> points


def _group(people, key) -> list[Row]:
    rows: dict[str, Row] = {}
    for employee, team, points, praise in people:
        row = rows.setdefault(key(employee, team), Row(key(employee, team), 0, 0, 0, 0))
        row.people += 1
        row.points += points
        row.praise += praise
        row.recognised += points > 0
    return sorted(rows.values(), key=lambda r: r.name)


def fairness_report(session: Session, config: Policy, month: str) -> FairnessReport:
    tz = config.organisation.tz
    months = months_back(month, MONTHS)
    start, end = month_bounds(months[0], tz)[0], month_bounds(month, tz)[1]
    staff = session.exec(select(Employee, Team.name).outerjoin(Team, Team.id == Employee.team_id)
                         .where(Employee.active).order_by(Employee.name)).all()
    team_of = {employee.id: team or "" for employee, team in staff}
    points: Counter = Counter()
    praise: Counter = Counter()
    trend: dict[str, Counter] = {m: Counter() for m in months}
    for employee_id, amount, reason, created_at in session.exec(select(
            LedgerEntry.employee_id, LedgerEntry.amount, LedgerEntry.reason,
            LedgerEntry.created_at).where(
            LedgerEntry.reason.in_(AWARDS), LedgerEntry.amount > 0,
            LedgerEntry.created_at >= start, LedgerEntry.created_at < end)).all():
        when = month_of(created_at, tz)
        trend[when][team_of.get(employee_id, "")] += amount
        if when == month:
            points[employee_id] += amount
            praise[employee_id] += reason == LedgerReason.PRAISE
    people = [(employee, team or "", points[employee.id], praise[employee.id])
              for employee, team in staff]
    ranked = sorted((p for _e, _t, p, _n in people), reverse=True)
    top = ceil(len(ranked) * TOP_SHARE) if ranked else 0
    total = sum(ranked)
    teams = _group(people, lambda _e, team: team)
    return FairnessReport(
        month, sorted(people, key=lambda p: (-p[2], p[0].name)), teams,
        _group(people, lambda employee, _t: employee.role), top,
        sum(ranked[:top]) / total if total else None,
        [row.name for row in teams if row.points == 0 and row.name],
        [(m, dict(trend[m])) for m in months])
