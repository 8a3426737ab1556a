"""A person's experience board, month by month: NPS and CSAT of the customers who named
them, praise received, goodwill given within their own authority and above it (the
approved requests), and improvement cases so far against the career threshold."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import Session, select

from handlers.calendar import month_bounds, months_back
from handlers.policy import Policy
from handlers.reports.voices import COLUMNS, CustomerVoice
from storage.enums import CaseStatus, CompensationStatus, PraiseStatus
from storage.models import Compensation, Feedback, MajorIssue, Praise, Suggestion


@dataclass(frozen=True)
class BoardMonth:
    month: str
    customers: CustomerVoice
    praise: int
    within: int  # goodwill given on their own authority
    above: int  # goodwill above it, approved
    given_minor: int  # both, in the organisation currency
    cases: int  # improvement cases accepted or confirmed by the end of the month


def board(session: Session, config: Policy, employee_id: int, month: str,
          count: int) -> list[BoardMonth]:
    """The `count` months ending with `month`, oldest first."""
    tz, currency = config.organisation.tz, config.organisation.currency
    rows = []
    for shown in months_back(month, count):
        since, until = month_bounds(shown, tz)
        voice = CustomerVoice(*(int(v) for v in session.exec(select(*COLUMNS).where(
            Feedback.employee_id == employee_id, Feedback.received_at >= since,
            Feedback.received_at < until)).one()))
        praise = session.exec(select(func.count()).select_from(Praise).where(
            Praise.employee_id == employee_id, Praise.status == PraiseStatus.CREDITED,
            Praise.created_at >= since, Praise.created_at < until)).one()
        within, above, given = session.exec(select(
            func.coalesce(func.sum(case((Compensation.status == CompensationStatus.SELF_AUTHORISED,
                                         1), else_=0)), 0),
            func.coalesce(func.sum(case((Compensation.status == CompensationStatus.APPROVED,
                                         1), else_=0)), 0),
            func.coalesce(func.sum(case((Compensation.currency == currency,
                                         Compensation.amount_minor), else_=0)), 0)).where(
            Compensation.employee_id == employee_id, Compensation.created_at >= since,
            Compensation.created_at < until, Compensation.status.in_(
                (CompensationStatus.SELF_AUTHORISED, CompensationStatus.APPROVED)))).one()
        cases = sum(int(session.exec(select(func.count()).select_from(model).where(
            model.employee_id == employee_id, model.status == status,
            model.decided_at < until)).one())
            for model, status in ((Suggestion, CaseStatus.ACCEPTED),
                                  (MajorIssue, CaseStatus.CONFIRMED)))
        rows.append(BoardMonth(shown, voice, int(praise), int(within), int(above), int(given),
                               cases))
    return rows


def current_month(config: Policy, now: datetime) -> str:
    return now.astimezone(config.organisation.tz).strftime("%Y-%m")
