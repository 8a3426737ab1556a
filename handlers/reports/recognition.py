"""Recognition: credited praise letters per team over 12 months, the Golden Ear
history, and improvement cases per person against the career threshold."""

from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import func, union
from sqlmodel import Session, select

from handlers.calendar import month_bounds, month_of, months_back
from handlers.policy import Policy
from handlers.scope import Scope
from storage.enums import CaseStatus, PraiseStatus
from storage.models import Employee, GoldenEarAward, MajorIssue, Praise, Suggestion, Team


@dataclass
class RecognitionReport:
    months: list[str]
    praise: dict[str, Counter]  # team -> month -> credited praise letters
    totals: list[tuple[str, int]]  # month -> all teams
    golden_ears: list[tuple[GoldenEarAward, Employee | None]]
    cases: list[tuple[Employee, str, int]]  # person, team, improvement cases
    threshold: int


def recognition_report(session: Session, config: Policy, scope: Scope, month: str,
                       ) -> RecognitionReport:
    tz = config.organisation.tz
    months = months_back(month, 12)
    start, end = month_bounds(months[0], tz)[0], month_bounds(month, tz)[1]
    praise: dict[str, Counter] = defaultdict(Counter)
    for created_at, team in session.exec(
            select(Praise.created_at, Team.name)
            .join(Employee, Employee.id == Praise.employee_id)
            .outerjoin(Team, Team.id == Employee.team_id)
            .where(scope.where(Praise.employee_id), Praise.status == PraiseStatus.CREDITED,
                   Praise.created_at >= start, Praise.created_at < end)).all():
        praise[team or ""][month_of(created_at, tz)] += 1
    totals = [(m, sum(by_month[m] for by_month in praise.values())) for m in months]
    awards = session.exec(
        select(GoldenEarAward, Employee).outerjoin(
            Employee, Employee.id == GoldenEarAward.winner_id)
        .order_by(GoldenEarAward.month.desc()).limit(24)).all()
    cases: Counter = Counter()
    counted = [(model, model.status == status, scope.where(model.employee_id)) for model, status
               in ((Suggestion, CaseStatus.ACCEPTED), (MajorIssue, CaseStatus.CONFIRMED))]
    for model, *where in counted:
        for employee_id, count in session.exec(select(model.employee_id, func.count())
                                               .where(*where).group_by(model.employee_id)):
            cases[employee_id] += int(count)
    with_cases = union(*(select(model.employee_id).where(*where) for model, *where in counted))
    named = {employee.id: (employee, team or "") for employee, team in session.exec(
        select(Employee, Team.name).outerjoin(Team, Team.id == Employee.team_id)
        .where(Employee.id.in_(with_cases)))} if cases else {}
    return RecognitionReport(
        months, dict(sorted(praise.items())), totals, list(awards),
        sorted(((*named[i], n) for i, n in cases.items() if i in named),
               key=lambda row: (-row[2], row[0].name)),
        config.points.career_improvement_cases)
