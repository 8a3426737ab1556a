"""Waiver friction: which rules staff break for customers, how often, how promptly
they say so, whether a customer was involved and at what cost, and what their
supervisors made of it."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, select

from handlers.base import from_minor
from handlers.policy import Policy
from handlers.scope import Scope
from storage.enums import WaiverStatus
from storage.models import Waiver

DEFAULT_DAYS = 90  # the window shown when the reader names none


@dataclass
class RuleFriction:
    rule: str
    waived: int = 0
    late: int = 0
    ratified: int = 0
    rejected: int = 0
    unreported: int = 0  # still open
    with_customer: int = 0
    cost: Decimal = Decimal("0.00")


@dataclass
class FrictionReport:
    since: datetime
    until: datetime
    rules: list[RuleFriction]
    waived: int
    reported: int
    late: int
    overdue: int  # open past their 24 h
    ratified: int
    rejected: int

    @property
    def late_rate(self) -> float | None:
        return self.late / self.reported if self.reported else None


def friction_report(session: Session, config: Policy, scope: Scope, since: datetime,
                    until: datetime, now: datetime) -> FrictionReport:
    """The waivers that occurred in [since, until), ranked by rule."""
    rules: dict[str, RuleFriction] = {}
    totals: Counter = Counter()
    for waiver in session.exec(select(Waiver).where(
            scope.where(Waiver.employee_id), Waiver.occurred_at >= since,
            Waiver.occurred_at < until)).all():
        rule = rules.setdefault(waiver.rule, RuleFriction(waiver.rule))
        rule.waived += 1
        rule.late += waiver.late
        rule.ratified += waiver.status == WaiverStatus.RATIFIED
        rule.rejected += waiver.status == WaiverStatus.REJECTED
        rule.unreported += waiver.status == WaiverStatus.OPEN
        rule.with_customer += bool(waiver.customer_ref)
        if waiver.cost_minor and waiver.currency == config.organisation.currency:
            rule.cost += from_minor(waiver.cost_minor)
        totals["reported"] += waiver.status != WaiverStatus.OPEN
        totals["overdue"] += waiver.status == WaiverStatus.OPEN and waiver.due_at < now
    ranked = sorted(rules.values(), key=lambda r: (-r.waived, r.rule))
    return FrictionReport(
        since, until, ranked, sum(r.waived for r in ranked), totals["reported"],
        sum(r.late for r in ranked), totals["overdue"], sum(r.ratified for r in ranked),
        sum(r.rejected for r in ranked))
