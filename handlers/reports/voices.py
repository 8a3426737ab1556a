"""The voice of the customer per team (or per employee named) over a period: NPS, CSAT,
CES and complaints, aggregated in the database."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import Session, select

from handlers.pulse import percent
from storage.models import Feedback


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


COLUMNS = (func.count(), _of("nps"), _of("nps", Feedback.score >= 9),
           _of("nps", Feedback.score <= 6), _of("csat"), _of("csat", Feedback.score >= 4),
           _sum("csat"), _of("ces"), _sum("ces"), _of("complaint"))


def customer_voice(session: Session, since: datetime, until: datetime,
                   team_ids: list[int] | None = None, by_employee: bool = False,
                   ) -> dict[int, CustomerVoice]:
    """Team id (or, `by_employee`, the employee id named) -> its figures, for feedback
    received in [since, until); teams with none are left out."""
    group = Feedback.employee_id if by_employee else Feedback.team_id
    query = select(group, *COLUMNS).where(Feedback.received_at >= since,
                                          Feedback.received_at < until)
    if team_ids is not None:
        query = query.where(Feedback.team_id.in_(team_ids))
    if by_employee:
        query = query.where(Feedback.employee_id.is_not(None))
    return {row[0]: CustomerVoice(*(int(v) for v in row[1:]))
            for row in session.exec(query.group_by(group)).all()}
