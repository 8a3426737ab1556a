"""Process waivers: break a rule for the customer, report it within 24 hours."""

import math
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from functools import cache

from sqlalchemy import update
from sqlmodel import Session, select

from handlers import forms, words
from handlers.base import (
    Action,
    Context,
    Refusal,
    Reply,
    checked_money,
    decide_pending,
    decision_actions,
    money,
)
from handlers.i18n import accepted_words
from handlers.policy import Policy
from handlers.registry import Command, OpenForm, decides, handles, verb, verb_alone
from handlers.themes import tags
from storage.enums import WaiverStatus
from storage.models import Employee, Waiver
from storage.rows import insert_row, transition

REPORT_WINDOW = timedelta(hours=24)
CLOCK_SKEW = timedelta(minutes=1)
CLOCK = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)$")


@dataclass(frozen=True)
class Occurred:
    """When a waived rule was broken, as the employee said it (resolved in the org timezone)."""

    ago: timedelta | None = None
    today_at: time | None = None
    local: datetime | None = None  # naive, in the organisation's timezone


@dataclass(frozen=True)
class WaiverOpen(Command):
    """A rule broken for a customer, now or at a time given; report due in 24 h."""

    rule: str
    occurred: Occurred = Occurred()


@dataclass(frozen=True)
class WaiverReport(Command):
    """The report of an open waiver: what was done instead and why."""

    waiver_id: int
    done_instead: str
    why: str
    customer_ref: str = ""
    cost: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True)
class WaiverList(Command):
    """The sender's open waivers, and those waiting for their review."""


@verb("waiver")
def parse_waiver(rest: list[str]) -> Command:
    """`<rule> [@ when]`, `report W3 …`, or `list`."""
    words.require(bool(rest))
    if words.is_word(rest[0], "word.waiver.list"):
        return WaiverList()
    if words.is_word(rest[0], "word.waiver.report"):
        return _parse_report(rest[1:])
    occurred = Occurred()
    if "@" in rest:
        at = rest.index("@")
        occurred, rest = _parse_occurred(rest[at + 1:]), rest[:at]
    rule = " ".join(rest)
    words.require(bool(rule), "error.rule")
    return WaiverOpen(rule, occurred)


verb_alone("waivers", WaiverList)


FORM = forms.declare(forms.Form("waiver", (
    forms.Field("waiver", "form.waiver.which", forms.read_waiver),
    forms.Field("done_instead", "form.waiver.done_instead", forms.read_text("error.text")),
    forms.Field("why", "form.waiver.why", forms.read_text("error.text")),
    forms.Field("customer_ref", "form.customer_ref", forms.read_reference, optional=True),
    forms.Field("cost", "form.waiver.cost", forms.read_cost, optional=True),
), lambda v: WaiverReport(v["waiver"], v["done_instead"], v["why"], v["customer_ref"],
                          *v["cost"])))


@cache
def _ago() -> re.Pattern[str]:
    def alternatives(key: str) -> str:
        return "|".join(map(re.escape, sorted(accepted_words(key), key=len, reverse=True)))
    return re.compile(rf"^-?(\d{{1,3}})(?:({alternatives('word.unit.minutes')})"
                      rf"|({alternatives('word.unit.hours')}))$")


def _parse_occurred(typed: list[str]) -> Occurred:
    """`now`, `2h` / `-2h` / `30m` ago, `14:30` (the last 14:30: today, or yesterday
    when it is not 14:30 yet), or `2026-11-23 14:30`."""
    joined = " ".join(typed)
    if words.is_word(joined, "word.when.now"):
        return Occurred()
    if match := _ago().match(joined.lower()):
        amount = int(match.group(1))
        return Occurred(ago=timedelta(minutes=amount if match.group(2) else amount * 60))
    if match := CLOCK.match(joined):
        return Occurred(today_at=time(int(match.group(1)), int(match.group(2))))
    try:
        return Occurred(local=datetime.strptime(joined.replace("：", ":"), "%Y-%m-%d %H:%M"))
    except ValueError:
        raise words.Usage("error.when") from None


def _parse_report(rest: list[str]) -> Command:
    """`W3 <what was done instead> / <why> [#customer-ref] [cost [currency]]`: the
    customer reference and the cost are the trailing words of the line. `report`
    alone, or with only the waiver, opens the form where there is one."""
    if len(rest) <= 1:
        waiver = rest[0] if rest and words.REFERENCE.match(rest[0]) else ""
        words.require(len(rest) == 0 or bool(waiver))
        return OpenForm("waiver", "waiver", waiver.lstrip("#").upper())
    waiver_id = words.number(rest[0][1:] if rest[0][:1] in "Ww" else rest[0])
    parts = [p for p in words.FIELD_SEPARATOR.split(" ".join(rest[1:])) if p]
    words.require(len(parts) >= 2, "error.report_fields")
    trailing = " ".join(parts[1:]).split()
    customer_ref, cost, currency = "", None, None
    while trailing:
        word = trailing[-1]
        if word.startswith("#") and len(word) > 1 and not customer_ref:
            customer_ref = word[1:]
        elif words.CURRENCY.match(word) and currency is None and cost is None \
                and len(trailing) > 1 and words.NUMERIC.match(trailing[-2]):
            currency = word.upper()
        elif cost is None and (parsed := words.trailing_amount(word)) is not None:
            cost, currency = parsed[0], parsed[1] or currency
        else:
            break
        trailing.pop()
    words.require(bool(trailing), "error.report_fields")
    return WaiverReport(waiver_id, parts[0], " ".join(trailing), customer_ref, cost, currency)


def _occurred_at(ctx: Context, occurred: Occurred) -> datetime:
    tz = ctx.config.organisation.tz
    if occurred.ago is not None:
        return ctx.now - occurred.ago
    if occurred.today_at is not None:  # the last time the clock showed it: a time still
        local_now = ctx.now.astimezone(tz)  # to come today was yesterday's (23:59 at 01:14)
        day = local_now.date() if occurred.today_at <= local_now.time() else \
            local_now.date() - timedelta(days=1)
        return datetime.combine(day, occurred.today_at, tzinfo=tz)
    if occurred.local is not None:
        return occurred.local.replace(tzinfo=tz)
    return ctx.now


def _hours(span: timedelta) -> str:
    """A span in hours with one decimal, rounded up: a few minutes show as 0.1, never 0.0."""
    return f"{math.ceil(abs(span.total_seconds()) / 360) / 10:.1f}"


def _deadline(ctx: Context, due_at: datetime) -> tuple[bool, str]:
    """(overdue?, hours left or hours overdue) of a report due at `due_at`."""
    return due_at < ctx.now, _hours(due_at - ctx.now)


@handles(WaiverOpen)
def open_waiver(ctx: Context, command: WaiverOpen) -> Reply:
    occurred_at = _occurred_at(ctx, command.occurred)
    if occurred_at > ctx.now + CLOCK_SKEW:
        raise Refusal("refuse.future", when=ctx.local(occurred_at))
    waiver = Waiver(employee_id=ctx.actor.id, rule=command.rule, occurred_at=occurred_at,
                    due_at=occurred_at + REPORT_WINDOW, opened_at=ctx.now, status=WaiverStatus.OPEN,
                    themes=tags(command.rule, ctx.config.themes))
    insert_row(ctx.session, waiver)
    overdue, hours = _deadline(ctx, waiver.due_at)
    return Reply.of("waiver.opened_overdue" if overdue else "waiver.opened", ref=f"W{waiver.id}",
                    rule=waiver.rule, due=ctx.local(waiver.due_at), hours=hours)


@handles(WaiverReport)
def report(ctx: Context, command: WaiverReport) -> Reply:
    waiver = ctx.session.get(Waiver, command.waiver_id)
    if waiver is None or waiver.employee_id != ctx.actor.id:
        raise Refusal("refuse.not_found", ref=f"W{command.waiver_id}")
    cost_minor, currency = None, None
    if command.cost is not None:
        cost_minor, currency = checked_money(ctx, command.cost, command.currency)
    approver = ctx.approver_for(ctx.actor)
    late = ctx.now > waiver.due_at
    if not transition(ctx.session, Waiver, waiver.id, WaiverStatus.OPEN, dict(
            status=WaiverStatus.REPORTED, done_instead=command.done_instead, why=command.why,
            customer_ref=command.customer_ref, cost_minor=cost_minor, currency=currency,
            reported_at=ctx.now, late=late, approver_id=approver.id,
            themes=tags(" ".join((waiver.rule, command.done_instead, command.why)),
                        ctx.config.themes))):
        raise Refusal("refuse.already_reported", ref=f"W{waiver.id}")
    cost = money(cost_minor, currency) if cost_minor is not None else "-"
    ctx.notify(approver.id, "notify.waiver_review", decision_actions(f"W{waiver.id}"),
               ref=f"W{waiver.id}", who=ctx.actor.name, rule=waiver.rule,
               done_instead=command.done_instead, why=command.why,
               occurred=ctx.local(waiver.occurred_at), customer_ref=command.customer_ref or "-",
               cost=cost, late_key="waiver.late" if late else "waiver.on_time")
    return Reply.of("waiver.reported", ref=f"W{waiver.id}", approver=approver.name,
                    late_key="waiver.late" if late else "waiver.on_time")


def describe(ctx: Context, waiver: Waiver) -> dict[str, str]:
    return {"rule": waiver.rule, "done_instead": waiver.done_instead, "why": waiver.why}


@decides("W", Waiver, describe=describe, awaiting=WaiverStatus.REPORTED, since="reported_at")
def decide(ctx: Context, record_id: int, approve: bool, comment: str) -> Reply:
    waiver = ctx.session.get(Waiver, record_id)
    if waiver is not None and waiver.status == WaiverStatus.OPEN:
        raise Refusal("refuse.not_reported", ref=f"W{record_id}")
    waiver, status = decide_pending(
        ctx, "W", record_id, approve, comment, approved=WaiverStatus.RATIFIED,
        declined=WaiverStatus.REJECTED, reason_required=True,
        columns=("reviewer_id", "review_comment", "reviewed_at"))
    # a rejection always has its reason; a ratification may come without a comment
    key = f"notify.waiver_{status}" if comment else "notify.waiver_ratified_no_comment"
    ctx.notify(waiver.employee_id, key,
               ref=f"W{record_id}", rule=waiver.rule, decider=ctx.actor.name, comment=comment)
    return Reply.of(f"waiver.{status}", ref=f"W{record_id}")


@handles(WaiverList)
def list_waivers(ctx: Context, command: WaiverList | None = None) -> Reply:
    mine = ctx.session.exec(select(Waiver).where(
        Waiver.employee_id == ctx.actor.id,
        Waiver.status.in_((WaiverStatus.OPEN, WaiverStatus.REPORTED)))
        .order_by(Waiver.due_at)).all()
    to_review = ctx.session.exec(select(Waiver).where(
        Waiver.approver_id == ctx.actor.id, Waiver.status == WaiverStatus.REPORTED)
        .order_by(Waiver.reported_at)).all()
    reply = Reply.of("waiver.list_header", count=len(mine))
    for waiver in mine:
        overdue, hours = _deadline(ctx, waiver.due_at)
        key = "waiver.line_reported" if waiver.status != WaiverStatus.OPEN else \
            "waiver.line_overdue" if overdue else "waiver.line_open"
        reply.messages.append(Reply.of(key, ref=f"W{waiver.id}", rule=waiver.rule,
                                       due=ctx.local(waiver.due_at), hours=hours).messages[0])
        if waiver.status == WaiverStatus.OPEN:
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
        Waiver.status == WaiverStatus.OPEN, Waiver.reminded_at.is_(None),
        Waiver.due_at > now, Waiver.due_at <= now + within)).all()
    reminded = 0
    for waiver in due:
        claimed = session.execute(update(Waiver).where(
            Waiver.id == waiver.id, Waiver.reminded_at.is_(None)).values(reminded_at=now)).rowcount
        if claimed:
            reminded += 1
            ctx = Context(session, config, session.get(Employee, waiver.employee_id), now)
            ctx.notify(waiver.employee_id, "notify.waiver_due_soon", ref=f"W{waiver.id}",
                       rule=waiver.rule, hours=_hours(waiver.due_at - now))
    return reminded


def escalate_overdue(session: Session, config: Policy, now: datetime) -> int:
    """Escalate every waiver past its 24 h deadline without a report, once each:
    the supervisor (or HR) is told and so is the employee."""
    overdue = session.exec(select(Waiver).where(
        Waiver.status == WaiverStatus.OPEN, Waiver.escalated_at.is_(None),
        Waiver.due_at < now)).all()
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

