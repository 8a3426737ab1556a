"""Fairness of recognition, for HR: points and praise per person, team and role by
month, how concentrated the points are (the share the top 10% of people get), and the
teams that got no recognition at all — so a popularity effect shows and can be acted
on. Points count as earned when awarded (praise, suggestions, major issues, Golden
Ear); redemptions and reversals are not recognition."""

from dataclasses import dataclass
from math import ceil

from sqlalchemy import case, func
from sqlmodel import Session, select

from handlers.calendar import month_bounds, months_back
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
                    ) -> FairnessReport:
    """The month's recognition summed by the database: per team and role, the share of
    the top 10%, the `shown` most and least recognised people (None: everyone, most
    first, for a download); no query reads every person or every entry into Python, so
    the page keeps its size at any headcount."""
    tz = config.organisation.tz
    months = months_back(month, MONTHS)
    bounds = [month_bounds(m, tz) for m in months]
    awards = (LedgerEntry.reason.in_(AWARDS), LedgerEntry.amount > 0)
    earned = select(LedgerEntry.employee_id.label("id"),
                    func.sum(LedgerEntry.amount).label("points"),
                    func.sum(case((LedgerEntry.reason == LedgerReason.PRAISE, 1), else_=0))
                    .label("praise")).where(
        *awards, LedgerEntry.created_at >= bounds[-1][0],
        LedgerEntry.created_at < bounds[-1][1]).group_by(LedgerEntry.employee_id).subquery()
    points = func.coalesce(earned.c.points, 0)
    staff = select(Employee).outerjoin(earned, earned.c.id == Employee.id).where(Employee.active)

    def grouped(key) -> list[Row]:
        return [Row(name or "", int(people), int(total), int(praise), int(recognised))
                for name, people, total, praise, recognised in session.execute(
                    staff.with_only_columns(key, func.count(Employee.id), func.sum(points),
                                            func.sum(func.coalesce(earned.c.praise, 0)),
                                            func.count(earned.c.id))
                    .outerjoin(Team, Team.id == Employee.team_id).group_by(key)
                    .order_by(key))]

    def listed(order) -> list[tuple[Employee, str, int, int]]:
        return [(employee, team or "", int(total), int(praise)) for employee, team, total, praise
                in session.execute(staff.add_columns(Team.name, points,
                                                  func.coalesce(earned.c.praise, 0))
                                .outerjoin(Team, Team.id == Employee.team_id)
                                .order_by(*order, Employee.name, Employee.id).limit(shown))]

    teams, roles = grouped(Team.name), grouped(Employee.role)
    headcount = sum(row.people for row in teams)
    top = ceil(headcount * TOP_SHARE)
    ranked = session.exec(staff.with_only_columns(earned.c.points).where(
        earned.c.points.is_not(None)).order_by(earned.c.points.desc()).limit(top)).all()
    total = sum(row.points for row in teams)
    most = listed([points.desc()])
    least = [] if shown is None else \
        [row for row in listed([points.asc()]) if row not in most][::-1]
    bucket = case(*[(LedgerEntry.created_at < end, m) for m, (_start, end)
                    in zip(months, bounds, strict=True)])
    trend: dict[str, dict[str, int]] = {m: {} for m in months}
    for team, when, amount in session.execute(
            select(Team.name, bucket, func.sum(LedgerEntry.amount))
            .join(Employee, Employee.id == LedgerEntry.employee_id)
            .outerjoin(Team, Team.id == Employee.team_id)
            .where(*awards, LedgerEntry.created_at >= bounds[0][0],
                   LedgerEntry.created_at < bounds[-1][1]).group_by(Team.name, bucket)):
        trend[when][team or ""] = int(amount)
    return FairnessReport(
        month, most, least, teams, roles, top if total else 0,
        sum(int(p) for p in ranked) / total if total else None,
        [row.name for row in teams if row.points == 0 and row.name],
        [(m, trend[m]) for m in months])
