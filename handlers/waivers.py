"""Process waivers: break a rule for the customer, report it within 24 hours."""

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from handlers.base import (
    Action,
    Context,
    Refusal,
    Reply,
    check_decider,
    checked_money,
    decision_actions,
    money,
)
from handlers.commands import Occurred, WaiverOpen, WaiverReport
from handlers.policy import Policy
from storage.models import Employee, Waiver
from storage.rows import insert_row, transition

REPORT_WINDOW = timedelta(hours=24)
CLOCK_SKEW = timedelta(minutes=1)


def _occurred_at(ctx: Context, occurred: Occurred) -> datetime:
    tz = ctx.config.organisation.tz
    if occurred.ago is not None:
        return ctx.now - occurred.ago
    if occurred.today_at is not None:
        local_today = ctx.now.astimezone(tz).date()
        return datetime.combine(local_today, occurred.today_at, tzinfo=tz)
    if occurred.local is not None:
        return occurred.local.replace(tzinfo=tz)
    return ctx.now


def _hours_left(ctx: Context, due_at: datetime) -> str:
    left = due_at - ctx.now
    return f"{max(left.total_seconds(), 0) / 3600:.1f}"


def open_waiver(ctx: Context, command: WaiverOpen) -> Reply:
    occurred_at = _occurred_at(ctx, command.occurred)
    if occurred_at > ctx.now + CLOCK_SKEW:
        raise Refusal("refuse.future", when=ctx.local(occurred_at))
    waiver = Waiver(employee_id=ctx.actor.id, rule=command.rule, occurred_at=occurred_at,
                    due_at=occurred_at + REPORT_WINDOW, opened_at=ctx.now, status="open")
    insert_row(ctx.session, waiver)
    return Reply.of("waiver.opened", ref=f"W{waiver.id}", rule=waiver.rule,
                    due=ctx.local(waiver.due_at), hours=_hours_left(ctx, waiver.due_at))


def report(ctx: Context, command: WaiverReport) -> Reply:
    waiver = ctx.session.get(Waiver, command.waiver_id)
    if waiver is None or waiver.employee_id != ctx.actor.id:
        raise Refusal("refuse.not_found", ref=f"W{command.waiver_id}")
    cost_minor, currency = None, None
    if command.cost is not None:
        cost_minor, currency = checked_money(ctx, command.cost, command.currency)
    approver = ctx.approver_for(ctx.actor)
    late = ctx.now > waiver.due_at
    if not transition(ctx.session, Waiver, waiver.id, "open", dict(
            status="reported", done_instead=command.done_instead, why=command.why,
            customer_ref=command.customer_ref, cost_minor=cost_minor, currency=currency,
            reported_at=ctx.now, late=late, approver_id=approver.id)):
        raise Refusal("refuse.already_reported", ref=f"W{waiver.id}")
    cost = money(cost_minor, currency) if cost_minor is not None else "-"
    ctx.notify(approver.id, "notify.waiver_review", decision_actions(f"W{waiver.id}"),
               ref=f"W{waiver.id}", who=ctx.actor.name, rule=waiver.rule,
               done_instead=command.done_instead, why=command.why,
               occurred=ctx.local(waiver.occurred_at), customer_ref=command.customer_ref or "-",
               cost=cost, late_key="waiver.late" if late else "waiver.on_time")
    return Reply.of("waiver.reported", ref=f"W{waiver.id}", approver=approver.name,
                    late_key="waiver.late" if late else "waiver.on_time")


def decide(ctx: Context, record_id: int, approve: bool, comment: str) -> Reply:
    waiver = ctx.session.get(Waiver, record_id)
    if waiver is None:
        raise Refusal("refuse.not_found", ref=f"W{record_id}")
    if waiver.status == "open":
        raise Refusal("refuse.not_reported", ref=f"W{record_id}")
    check_decider(ctx, waiver.employee_id, waiver.approver_id)
    if not approve and not comment:
        raise Refusal("refuse.comment_required", command=f"decline W{record_id}")
    status = "ratified" if approve else "rejected"
    if not transition(ctx.session, Waiver, record_id, "reported", dict(
            status=status, reviewer_id=ctx.actor.id, review_comment=comment,
            reviewed_at=ctx.now)):
        raise Refusal("refuse.already_decided", ref=f"W{record_id}")
    ctx.notify(waiver.employee_id, f"notify.waiver_{status}", ref=f"W{record_id}",
               rule=waiver.rule, decider=ctx.actor.name, comment=comment or "-")
    return Reply.of(f"waiver.{status}", ref=f"W{record_id}")


def list_waivers(ctx: Context) -> Reply:
    mine = ctx.session.exec(select(Waiver).where(
        Waiver.employee_id == ctx.actor.id, Waiver.status.in_(("open", "reported")))
        .order_by(Waiver.due_at)).all()
    to_review = ctx.session.exec(select(Waiver).where(
        Waiver.approver_id == ctx.actor.id, Waiver.status == "reported")
        .order_by(Waiver.reported_at)).all()
    reply = Reply.of("waiver.list_header", count=len(mine))
    for waiver in mine:
        key = "waiver.line_open" if waiver.status == "open" else "waiver.line_reported"
        reply.messages.append(Reply.of(key, ref=f"W{waiver.id}", rule=waiver.rule,
                                       due=ctx.local(waiver.due_at),
                                       hours=_hours_left(ctx, waiver.due_at)).messages[0])
        if waiver.status == "open":
            reply.actions.append(Action("action.report", f"waiver report W{waiver.id}"))
    if to_review:
        reply.messages.append(Reply.of("waiver.review_header", count=len(to_review)).messages[0])
        for waiver in to_review:
            reply.messages.append(Reply.of("waiver.line_review", ref=f"W{waiver.id}",
                                           rule=waiver.rule).messages[0])
    return reply


def remind_due(session: Session, config: Policy, now: datetime, within: timedelta) -> int:
    """Remind employees whose open waivers are due within `within`; once per waiver."""
    due = session.exec(select(Waiver).where(
        Waiver.status == "open", Waiver.reminded_at.is_(None),
        Waiver.due_at > now, Waiver.due_at <= now + within)).all()
    reminded = 0
    for waiver in due:
        claimed = session.execute(update(Waiver).where(
            Waiver.id == waiver.id, Waiver.reminded_at.is_(None)).values(reminded_at=now)).rowcount
        if claimed:
            reminded += 1
            ctx = Context(session, config, session.get(Employee, waiver.employee_id), now)
            ctx.notify(waiver.employee_id, "notify.waiver_due_soon", ref=f"W{waiver.id}",
                       rule=waiver.rule, hours=_hours_left(ctx, waiver.due_at))
    return reminded


def escalate_overdue(session: Session, config: Policy, now: datetime) -> int:
    """Escalate every waiver past its 24 h deadline without a report, once each:
    the supervisor (or HR) is told and so is the employee."""
    overdue = session.exec(select(Waiver).where(
        Waiver.status == "open", Waiver.escalated_at.is_(None), Waiver.due_at < now)).all()
    escalated = 0
    for waiver in overdue:
        employee = session.get(Employee, waiver.employee_id)
        ctx = Context(session, config, employee, now)
        try:
            approver = ctx.approver_for(employee)
        except Refusal:
            continue
        claimed = session.execute(update(Waiver).where(
            Waiver.id == waiver.id, Waiver.escalated_at.is_(None)).values(
            escalated_at=now)).rowcount
        if not claimed:
            continue
        escalated += 1
        params = {"ref": f"W{waiver.id}", "rule": waiver.rule, "who": employee.name,
                  "due": ctx.local(waiver.due_at)}
        ctx.notify(approver.id, "notify.waiver_overdue_supervisor", **params)
        ctx.notify(employee.id, "notify.waiver_overdue_employee", **params)
    return escalated

