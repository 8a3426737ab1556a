"""Fairness of recognition, for HR: points and praise per person, team and role by
month, how concentrated the points are (the share the top 10% of people get), and the
teams that got no recognition at all — so a popularity effect shows and can be acted
on. Points count as earned when awarded (praise, suggestions, major issues, Golden
Ear); redemptions and reversals are not recognition."""

from dataclasses import dataclass
from math import ceil

from sqlalchemy import func
from sqlmodel import Session, select

from handlers.calendar import months_back
from handlers.policy import Policy
from storage.models import Employee, PointsMonth, Team
from storage.month_sums import keep_months

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
    people: list[tuple[Employee, str, int, int]]  # the most recognised (person, team,
    # points, praise)
    least: list[tuple[Employee, str, int, int]]  # the least recognised, after them
    teams: list[Row]
    roles: list[Row]
    top_people: int  # how many people the top 10% are
    top_share: float | None  # their share of the month's points; None: no points
    unrecognised_teams: list[str]
    trend: list[tuple[str, dict[str, int]]]  # month -> team -> points


def fairness_report(session: Session, config: Policy, month: str, shown: int | None = 20,
                    trend_teams: int | None = None) -> FairnessReport:
    """The month's recognition summed by the database: per team and role, the share of
    the top 10%, the `shown` most and least recognised people (None: everyone, most
    first, for a download), and the trend of the `trend_teams` teams with the most points
    this month (None: every team). No query reads a ledger entry or every person into
    Python: the month's row a person of points and praise (storage/month_sums.py) is
    summed once per team and role, once for the top 10%, once for each list of people
    named; the trend reads only its teams' people's rows."""
    months = months_back(month, MONTHS)
    keep_months(session, config.organisation.tz)
    earned = select(PointsMonth.employee_id.label("id"), PointsMonth.points,
                    PointsMonth.praise).where(PointsMonth.month == month).subquery()
    points, praise = func.coalesce(earned.c.points, 0), func.coalesce(earned.c.praise, 0)
    staff = select(Employee).outerjoin(earned, earned.c.id == Employee.id).where(Employee.active)
    by_team: dict[str, Row] = {}
    by_role: dict[str, Row] = {}
    for team, role, people, total, praised, recognised in session.execute(  # one pass
            staff.with_only_columns(Team.name, Employee.role, func.count(Employee.id),
                                    func.sum(points), func.sum(praise), func.count(earned.c.id))
            .outerjoin(Team, Team.id == Employee.team_id).group_by(Team.name, Employee.role)):
        for rows, name in ((by_team, team or ""), (by_role, role)):
            row = rows.setdefault(name, Row(name, 0, 0, 0, 0))
            row.people += int(people)
            row.points += int(total)
            row.praise += int(praised)
            row.recognised += int(recognised)
    teams = [by_team[name] for name in sorted(by_team)]
    roles = [by_role[name] for name in sorted(by_role)]
    headcount = sum(row.people for row in teams)
    top = ceil(headcount * TOP_SHARE)
    best = select(earned.c.points).join(Employee, Employee.id == earned.c.id).where(
        Employee.active).order_by(earned.c.points.desc()).limit(top).subquery()
    ranked = session.execute(select(func.sum(best.c.points))).scalar() or 0
    total = sum(row.points for row in teams)
    most, least = _most_and_least(session, staff, earned, shown)
    trend: dict[str, dict[str, int]] = {m: {} for m in months}
    followed = sorted(teams, key=lambda row: (-row.points, row.name))[:trend_teams]
    entries = select(Team.name, PointsMonth.month, func.sum(PointsMonth.points)) \
        .join(Employee, Employee.id == PointsMonth.employee_id) \
        .outerjoin(Team, Team.id == Employee.team_id).where(PointsMonth.month.in_(months))
    if trend_teams is not None:  # their people's rows, by the (month, person) key
        entries = entries.where(PointsMonth.employee_id.in_(select(Employee.id).where(
            Employee.team_id.in_(select(Team.id).where(
                Team.name.in_([row.name for row in followed if row.name])))).correlate(None)))
    for team, when, amount in session.execute(entries.group_by(Team.name,
                                                               PointsMonth.month)):
        trend[when][team or ""] = int(amount)
    return FairnessReport(
        month, most, least, teams, roles, top if total else 0,
        int(ranked) / total if total else None,
        [row.name for row in teams if row.points == 0 and row.name],
        [(m, trend[m]) for m in months])


def _most_and_least(session: Session, staff, earned, shown: int | None,
                    ) -> tuple[list[tuple[Employee, str, int, int]],
                               list[tuple[Employee, str, int, int]]]:
    """The `shown` most recognised, most first, and after them the `shown` least, least
    last (None: everyone, most first, and no least); each a top-N sort in the database."""
    points, praise = func.coalesce(earned.c.points, 0), func.coalesce(earned.c.praise, 0)

    def listed(order) -> list[tuple[Employee, str, int, int]]:
        return [(employee, team or "", int(total), int(praised))
                for employee, team, total, praised in session.execute(
                    staff.add_columns(Team.name, points, praise)
                    .outerjoin(Team, Team.id == Employee.team_id)
                    .order_by(order, Employee.name, Employee.id).limit(shown))]

    most = listed(points.desc())
    if shown is None:
        return most, []
    return most, [row for row in listed(points.asc()) if row not in most][::-1]
