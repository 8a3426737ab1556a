"""The voice of the customer per team (or per employee named) over a period: NPS, CSAT,
CES and complaints, aggregated in the database."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_
from sqlmodel import Session, select

from handlers.feedback_days import COUNTS, counts, day_of, rows_of, start_of
from handlers.pulse import percent
from handlers.scores import DETRACTOR, PROMOTER, SATISFIED
from storage.models import Feedback, FeedbackDay


@dataclass(frozen=True)
class CustomerVoice:
    responses: int = 0  # scores and complaints together
    nps_responses: int = 0
    promoters: int = 0  # 9-10
    detractors: int = 0  # 0-6
    csat_responses: int = 0
    csat_satisfied: int = 0  # 4-5
    csat_total: int = 0  # the sum of the scores, for the average
    ces_responses: int = 0
    ces_total: int = 0
    complaints: int = 0
    csat_unhappy: int = 0  # 1-2

    @property
    def unhappy(self) -> int:
        """Complaints and detractors (NPS 0-6, CSAT 1-2)."""
        return self.complaints + self.detractors + self.csat_unhappy

    @property
    def nps(self) -> int | None:
        """% promoters − % detractors, -100..100; None without an NPS response."""
        if not self.nps_responses:
            return None
        return percent(self.promoters - self.detractors, self.nps_responses)

    @property
    def csat(self) -> int | None:
        """% of CSAT answers that were 4 or 5."""
        return percent(self.csat_satisfied, self.csat_responses) if self.csat_responses else None

    @property
    def csat_average(self) -> str | None:
        """The mean CSAT, 1.0-5.0, to one decimal (integers only: no float)."""
        return _mean(self.csat_total, self.csat_responses)

    @property
    def ces_average(self) -> str | None:
        return _mean(self.ces_total, self.ces_responses)


def _mean(total: int, count: int) -> str | None:
    if not count:
        return None
    tenths = (20 * total + count) // (2 * count)
    return f"{tenths // 10}.{tenths % 10}"


def _of(kind: str, condition=True):
    return func.coalesce(func.sum(case(((Feedback.kind == kind) & condition, 1), else_=0)), 0)


def _sum(kind: str):
    return func.coalesce(func.sum(case((Feedback.kind == kind, Feedback.score), else_=0)), 0)


COLUMNS = (func.count(), _of("nps"), _of("nps", Feedback.score >= PROMOTER),
           _of("nps", Feedback.score <= DETRACTOR), _of("csat"),
           _of("csat", Feedback.score >= SATISFIED),
           _sum("csat"), _of("ces"), _sum("ces"), _of("complaint"))


def customer_voice(session: Session, since: datetime, until: datetime, team_ids: list[int],
                   by_employee: bool = False) -> dict[int, CustomerVoice]:
    """Team id (or, `by_employee`, the employee id named) -> its figures, for feedback
    received in [since, until); teams with none are left out."""
    return _voices(session, since, until, team_ids, "employee" if by_employee else "team")


def theme_voice(session: Session, since: datetime, until: datetime,
                team_id: int) -> dict[str, CustomerVoice]:
    """Theme key -> the figures of the team's feedback tagged with it."""
    return _voices(session, since, until, [team_id], "theme")


def _voices(session: Session, since: datetime, until: datetime, team_ids: list[int],
            by: str) -> dict:
    """Whole UTC days are summed from the counts kept per day (a month is about thirty
    rows per team, whatever the volume); the part-days at either end of the window are
    counted from their responses, with the same arithmetic as the write path."""
    totals: dict = defaultdict(Counter)
    first, last = day_of(since) + (since > start_of(day_of(since))), day_of(until)
    if first < last:
        group = {"team": FeedbackDay.team_id, "employee": FeedbackDay.employee_id,
                 "theme": FeedbackDay.theme}[by]
        which = {"team": (FeedbackDay.employee_id == 0, FeedbackDay.theme == ""),
                 "employee": (FeedbackDay.employee_id != 0,),
                 "theme": (FeedbackDay.employee_id == 0, FeedbackDay.theme != "")}[by]
        for key, *values in session.execute(select(
                group, *(func.sum(getattr(FeedbackDay, name)) for name in COUNTS)).where(
                FeedbackDay.team_id.in_(team_ids), FeedbackDay.day >= first,
                FeedbackDay.day < last, *which).group_by(group)):
            totals[key].update(dict(zip(COUNTS, values, strict=True)))
        edges = [(since, start_of(first)), (start_of(last), until)]
    else:
        edges = [(since, until)]
    edges = [(start, end) for start, end in edges if start < end]
    # the teams inside each part-day's term: each is then a range of the (team, time)
    # index (outside the OR, SQLite without statistics read all the teams' responses)
    for team_id, employee_id, kind, score, themes in session.execute(select(
            Feedback.team_id, Feedback.employee_id, Feedback.kind, Feedback.score,
            Feedback.themes).where(or_(*(
                Feedback.team_id.in_(team_ids) & (Feedback.received_at >= start)
                & (Feedback.received_at < end) for start, end in edges)))) if edges else ():
        added = counts(kind, score)
        for employee, theme in rows_of(team_id, employee_id, themes):
            if by == "team" and not employee and not theme:
                totals[team_id].update(added)
            elif by == "employee" and employee:
                totals[employee].update(added)
            elif by == "theme" and theme:
                totals[theme].update(added)
    return {key: CustomerVoice(**{name: int(counted[name]) for name in COUNTS})
            for key, counted in totals.items() if counted["responses"]}
