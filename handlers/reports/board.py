"""A person's experience board, month by month: NPS and CSAT of the customers who named
them, praise received, goodwill given within their own authority and above it (the
approved requests), and improvement cases so far against the career threshold."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, case, func
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


def _month(currency: str, n: int) -> list:
    """Month `n`'s figures as scalar subqueries, in BoardMonth's order (customers' first),
    for the person `who` between `since{n}` and `until{n}`."""
    who, since, until = bindparam("who"), bindparam(f"since{n}"), bindparam(f"until{n}")
    voice = [select(column).where(
        Feedback.employee_id == who, Feedback.received_at >= since,
        Feedback.received_at < until).scalar_subquery() for column in COLUMNS]
    praise = select(func.count()).select_from(Praise).where(
        Praise.employee_id == who, Praise.status == PraiseStatus.CREDITED,
        Praise.created_at >= since, Praise.created_at < until).scalar_subquery()
    given = [select(func.coalesce(func.sum(value), 0)).where(
        Compensation.employee_id == who, Compensation.created_at >= since,
        Compensation.created_at < until, Compensation.status.in_(
            (CompensationStatus.SELF_AUTHORISED, CompensationStatus.APPROVED))
        ).scalar_subquery() for value in (
            case((Compensation.status == CompensationStatus.SELF_AUTHORISED, 1), else_=0),
            case((Compensation.status == CompensationStatus.APPROVED, 1), else_=0),
            case((Compensation.currency == currency, Compensation.amount_minor), else_=0))]
    cases = [select(func.count()).select_from(model).where(
        model.employee_id == who, model.status == status,
        model.decided_at < until).scalar_subquery()
        for model, status in ((Suggestion, CaseStatus.ACCEPTED),
                              (MajorIssue, CaseStatus.CONFIRMED))]
    return [*voice, praise, *given, *cases]


WIDTH = len(_month("", 0))  # figures a month


@cache
def columns(currency: str, count: int) -> tuple:
    """`count` months' figures as scalar columns, built once: `me` reads them on every
    call (with its own, in one statement), and building (and keying) some forty
    subqueries cost more than running them. Their parameters: `parameters`."""
    return tuple(column for n in range(count) for column in _month(currency, n))


def parameters(config: Policy, employee_id: int, month: str, count: int) -> dict:
    params: dict = {"who": employee_id}
    for n, name in enumerate(months_back(month, count)):
        params[f"since{n}"], params[f"until{n}"] = month_bounds(name, config.organisation.tz)
    return params


def rows(month: str, values: list) -> list[BoardMonth]:
    """The months ending with `month`, oldest first, from the `columns`' values."""
    values = [int(value or 0) for value in values]
    shown = months_back(month, len(values) // WIDTH)
    voiced, found = len(COLUMNS), []
    for n, name in enumerate(shown):
        row = values[n * WIDTH:(n + 1) * WIDTH]
        praise, within, above, given, suggestions, issues = row[voiced:]
        found.append(BoardMonth(name, CustomerVoice(*row[:voiced]), praise, within, above,
                                given, suggestions + issues))
    return found


def board(session: Session, config: Policy, employee_id: int, month: str,
          count: int) -> list[BoardMonth]:
    """The `count` months ending with `month`, oldest first, in one round trip."""
    return rows(month, list(session.execute(_statement(config.organisation.currency, count),
                                            parameters(config, employee_id, month, count))
                            .one()))


@cache
def _statement(currency: str, count: int) -> Select:
    return select(*columns(currency, count))


def current_month(config: Policy, now: datetime) -> str:
    return now.astimezone(config.organisation.tz).strftime("%Y-%m")
