"""A team at a glance: its members with their points, this month's compensation and
unreported waivers, and what waits for the reader's decision."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from handlers.approvals import described
from handlers.base import Context, Message, from_minor
from handlers.calendar import month_start
from handlers.compensation import COUNTED
from handlers.i18n import render_message
from handlers.policy import Policy
from handlers.scope import Scope, balances
from storage.enums import WaiverStatus
from storage.models import Compensation, Employee, Waiver


@dataclass
class Member:
    employee: Employee
    balance: int
    spent_this_month: Decimal | None  # compensation given, organisation currency
    open_waivers: int


def team_members(session: Session, config: Policy, scope: Scope, team_id: int,
                 now: datetime) -> list[Member]:
    """A team's members with their points, this month's spend and unreported waivers."""
    members = balances(session, scope, team_id)
    ids = [employee.id for employee, _team, _points in members]
    spent = dict(session.exec(
        select(Compensation.employee_id, func.sum(Compensation.amount_minor)).where(
            Compensation.employee_id.in_(ids), Compensation.status.in_(COUNTED),
            Compensation.currency == config.organisation.currency,
            Compensation.created_at >= month_start(now, config.organisation.tz))
        .group_by(Compensation.employee_id)).all())
    open_waivers = dict(session.exec(
        select(Waiver.employee_id, func.count()).where(
            Waiver.employee_id.in_(ids), Waiver.status == WaiverStatus.OPEN)
        .group_by(Waiver.employee_id)).all())
    return [Member(employee, points,
                   from_minor(int(spent[employee.id])) if employee.id in spent else None,
                   int(open_waivers.get(employee.id, 0)))
            for employee, _team, points in members]


def pending_items(ctx: Context, refs: list[str]) -> list[tuple[str, str, str]]:
    """(reference, whose, what) for each record waiting for the reader's decision, what
    it asks for said as chat's `pending` says it, in the reader's language."""
    items = []
    for ref in refs:
        params = described(ctx, ref)
        items.append((ref, params["who"], render_message(
            Message(f"pending.what.{ref[0]}", params), ctx.actor.locale)))
    return items
