"""Goodwill compensation within authority: self-authorised up to the role's limit and
budgets, otherwise a request for the supervisor."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, case, func
from sqlmodel import select

from handlers import forms, words
from handlers.base import (
    Context,
    Reply,
    checked_money,
    decide_pending,
    decision_actions,
    from_minor,
    money,
    to_minor,
)
from handlers.calendar import day_start, month_start
from handlers.registry import Command, OpenForm, decides, handles, verb
from storage.enums import CompensationStatus as Status
from storage.models import Compensation, Employee
from storage.rows import connection, insert_values

COUNTED = (Status.SELF_AUTHORISED, Status.APPROVED)


@dataclass(frozen=True)
class Compensate(Command):
    """Goodwill the sender gave a customer: recorded, or a request above their authority."""

    amount: Decimal
    currency: str | None
    kind: str
    customer_ref: str
    reason: str


@verb("comp")
def parse_comp(rest: list[str]) -> Compensate | OpenForm:
    """`120 [USD] voucher [#A123] parcel two days late`; alone, it opens the form."""
    if not rest:
        return OpenForm("comp", "comp")
    words.require(len(rest) >= 3)
    parsed = words.parse_amount(rest[0])
    words.require(parsed is not None, "error.amount" if words.looks_like_amount(rest[0]) else "")
    amount, currency = parsed
    words.require(amount > 0, "error.amount")
    rest = rest[1:]
    kinds = words.kinds()
    if currency is None and words.CURRENCY.match(rest[0]) and rest[0].lower() not in kinds:
        currency, rest = rest[0].upper(), rest[1:]
    words.require(bool(rest) and rest[0].lower() in kinds, "error.kind")
    kind = kinds[rest[0].lower()]
    refs = [w for w in rest[1:] if w.startswith("#") and len(w) > 1]
    reason = " ".join(w for w in rest[1:] if w not in refs[:1])
    words.require(bool(reason), "error.reason")
    return Compensate(amount, currency, kind, refs[0][1:] if refs else "", reason)


@dataclass(frozen=True)
class Usage:
    """Compensation given (self-authorised or approved) in the organisation's currency."""

    today_minor: int
    month_minor: int


def _period_starts(ctx: Context) -> tuple[datetime, datetime]:
    tz = ctx.config.organisation.tz
    return day_start(ctx.now, tz), month_start(ctx.now, tz)


_COMP = Compensation.__table__.c  # Core columns: no ORM compilation on the command path
_LOCK_EMPLOYEE = select(Employee.__table__.c.id).where(
    Employee.__table__.c.id == bindparam("who")).with_for_update()

# Today's and this month's spend in one round trip (today lies inside the month);
# built once, since composing a statement costs more than running it.
_SPENT = select(
    func.coalesce(func.sum(case((_COMP.created_at >= bindparam("day"),
                                 _COMP.amount_minor), else_=0)), 0),
    func.coalesce(func.sum(_COMP.amount_minor), 0),
).where(_COMP.status.in_(COUNTED), _COMP.created_at >= bindparam("month"),
        _COMP.currency == bindparam("currency"))
_SPENT_BY_EMPLOYEE = _SPENT.where(_COMP.employee_id == bindparam("who"))
_PEOPLE = Employee.__table__.c
_SPENT_BY_TEAM = _SPENT.join(Employee.__table__, _PEOPLE.id == _COMP.employee_id).where(
    _PEOPLE.team_id == bindparam("who"))


def _spent(ctx: Context, query, who: int) -> Usage:
    today, this_month = ctx.session.execute(query, {**spent_parameters(ctx), "who": who}).one()
    return Usage(int(today), int(this_month))


def usage(ctx: Context, employee: Employee) -> Usage:
    return _spent(ctx, _SPENT_BY_EMPLOYEE, employee.id)


# today's and this month's spend of `who`, as scalar columns another statement reads
SPENT_COLUMNS = tuple(_SPENT_BY_EMPLOYEE.with_only_columns(column).scalar_subquery()
                      for column in _SPENT_BY_EMPLOYEE.selected_columns)


def spent_parameters(ctx: Context) -> dict:
    day, month = _period_starts(ctx)
    return {"day": day, "month": month, "currency": ctx.config.organisation.currency}


# The person's earlier compensation to one customer within the incident window, in one
# currency: given, waiting or approved (a declined part was never given).
_INCIDENT = select(_COMP.id, _COMP.amount_minor).where(
    _COMP.employee_id == bindparam("who"),
    func.lower(_COMP.customer_ref) == bindparam("ref"),
    _COMP.currency == bindparam("currency"),
    _COMP.status.in_((*COUNTED, Status.PENDING)),
    _COMP.created_at > bindparam("since")).order_by(_COMP.id)


def incident_parts(ctx: Context, employee: Employee, customer_ref: str,
                   currency: str) -> list[tuple[int, int]]:
    """(id, minor units) of the earlier parts of this incident, oldest first."""
    if not customer_ref:
        return []
    hours = ctx.config.compensation.incident_window_hours
    return [(int(i), int(m)) for i, m in ctx.session.execute(_INCIDENT, {
        "who": employee.id, "ref": customer_ref.lower(), "currency": currency,
        "since": ctx.now - timedelta(hours=hours)}).all()]


# The person's spend today and this month and their earlier compensation of the same
# incident, in one round trip over their rows since the earlier of the month's start
# and the incident window's: what a compensation within authority needs to know.
_GIVEN = _COMP.status.in_(COUNTED)
_BUDGETS_AND_INCIDENT = select(
    func.coalesce(func.sum(case((_GIVEN & (_COMP.created_at >= bindparam("day")),
                                 _COMP.amount_minor), else_=0)), 0),
    func.coalesce(func.sum(case((_GIVEN & (_COMP.created_at >= bindparam("month")),
                                 _COMP.amount_minor), else_=0)), 0),
    func.coalesce(func.sum(case(((func.lower(_COMP.customer_ref) == bindparam("ref"))
                                 & (_COMP.created_at > bindparam("since")),
                                 _COMP.amount_minor), else_=0)), 0),
).where(_COMP.employee_id == bindparam("who"), _COMP.currency == bindparam("currency"),
        _COMP.status.in_((*COUNTED, Status.PENDING)),
        _COMP.created_at >= bindparam("earliest"))


def budgets_and_incident(ctx: Context, employee: Employee,
                         customer_ref: str) -> tuple[Usage, int]:
    """What the person has given today and this month (in the organisation's currency),
    and what the earlier parts of this incident came to (minor units)."""
    day, month = _period_starts(ctx)
    since = ctx.now - timedelta(hours=ctx.config.compensation.incident_window_hours)
    today, this_month, earlier = connection(ctx.session).execute(_BUDGETS_AND_INCIDENT, {
        "day": day, "month": month, "since": since, "earliest": min(month, since),
        "ref": customer_ref.lower() if customer_ref else None,
        "currency": ctx.config.organisation.currency, "who": employee.id}).one()
    return Usage(int(today), int(this_month)), int(earlier)


def summarise(parts: list[tuple[int, int]], currency: str) -> str:
    """`2 × 180.00 CNY (C1, C2)`: the earlier parts, counted by amount."""
    counted = Counter(minor for _id, minor in parts)
    amounts = " + ".join(f"{n} × {money(minor, currency)}" for minor, n in counted.items())
    return f"{amounts} ({', '.join(f'C{i}' for i, _m in parts)})"


def _over_authority(ctx: Context, employee: Employee, amount_minor: int,
                    earlier_minor: int = 0, spent: Usage | None = None) -> str | None:
    """The first rule the amount breaks (`limit`, `incident`, `daily_budget`, … as in the
    message keys `comp.why.<rule>`, said to the requester, and `comp.why_theirs.<rule>`,
    said to the approver), or None when within authority. `earlier_minor` is what the
    same incident has had already; `spent`, the person's usage when already read."""
    authority = ctx.config.authority(employee.role)
    limit = to_minor(authority.per_incident_limit)
    if amount_minor > limit:
        return "limit"
    if earlier_minor + amount_minor > limit:
        return "incident"
    if authority.daily_budget is None and authority.monthly_budget is None:
        spent = Usage(0, 0)
    elif spent is None:
        spent = usage(ctx, employee)
    if authority.daily_budget is not None and \
            spent.today_minor + amount_minor > to_minor(authority.daily_budget):
        return "daily_budget"
    if authority.monthly_budget is not None and \
            spent.month_minor + amount_minor > to_minor(authority.monthly_budget):
        return "monthly_budget"
    team_budget = ctx.config.team_budget
    if employee.team_id is not None and (team_budget.daily or team_budget.monthly):
        team = _spent(ctx, _SPENT_BY_TEAM, employee.team_id)
        for limit, spent_minor, why in (
                (team_budget.daily, team.today_minor, "team_daily_budget"),
                (team_budget.monthly, team.month_minor, "team_monthly_budget")):
            if limit is not None and spent_minor + amount_minor > to_minor(limit):
                return why
    return None


FORM = forms.declare(forms.Form("comp", (
    forms.Field("amount", "form.comp.amount", forms.read_money),
    forms.Field("kind", "form.comp.kind", forms.read_kind),
    forms.Field("customer_ref", "form.customer_ref", forms.read_reference, optional=True),
    forms.Field("reason", "form.comp.reason", forms.read_text("error.reason")),
), lambda v: Compensate(v["amount"][0], v["amount"][1], v["kind"], v["customer_ref"],
                        v["reason"])))


@handles(Compensate)
def compensate(ctx: Context, command: Compensate) -> Reply:
    amount_minor, currency = checked_money(ctx, command.amount, command.currency)
    # Lock the employee's row so two compensations at once cannot both fit the budget
    # (PostgreSQL; SQLite transactions are serialised already). The sender is loaded.
    employee = ctx.actor
    core = connection(ctx.session)
    if core.dialect.name != "sqlite":
        core.execute(_LOCK_EMPLOYEE, {"who": employee.id})
    parts: list[tuple[int, int]] = []
    if currency != ctx.config.organisation.currency:
        why = "currency"
    else:
        spent, earlier = budgets_and_incident(ctx, employee, command.customer_ref)
        why = _over_authority(ctx, employee, amount_minor, earlier, spent)
        if why == "incident":  # the approver is shown each earlier part
            parts = incident_parts(ctx, employee, command.customer_ref, currency)
    record = dict(
        employee_id=employee.id, amount_minor=amount_minor, currency=currency,
        kind=command.kind, customer_ref=command.customer_ref, reason=command.reason,
        status=Status.SELF_AUTHORISED if why is None else Status.PENDING, created_at=ctx.now)
    org_currency = ctx.config.organisation.currency
    limit = money(to_minor(ctx.config.authority(employee.role).per_incident_limit), org_currency)
    if why is None:
        ref = f"C{insert_values(ctx.session, Compensation, record)}"
        return Reply.of("comp.recorded", ref=ref, amount=money(amount_minor, currency),
                        kind_key=f"kind.{command.kind}", limit=limit)
    approver = ctx.approver_for(employee)
    ref = f"C{insert_values(ctx.session, Compensation, {**record, 'approver_id': approver.id})}"
    spent = usage(ctx, employee)
    details = dict(
        ref=ref, who=employee.name, amount=money(amount_minor, currency),
        kind_key=f"kind.{command.kind}", reason=command.reason,
        customer_ref=command.customer_ref or "-", why_key=f"comp.why_theirs.{why}",
        limit=limit, month_used=money(spent.month_minor, org_currency))
    if why == "incident":  # the approver sees the parts that came before
        details.update(earlier=summarise(parts, currency), total=money(
            amount_minor + sum(m for _i, m in parts), currency),
            hours=ctx.config.compensation.incident_window_hours)
        ctx.notify(approver.id, "notify.comp_request_incident", decision_actions(ref),
                   **details)
    else:
        ctx.notify(approver.id, "notify.comp_request", decision_actions(ref), **details)
    return Reply.of("comp.pending", ref=ref, amount=money(amount_minor, currency),
                    approver=approver.name, why_key=f"comp.why.{why}")


def describe(ctx: Context, record: Compensation) -> dict[str, str]:
    return {"amount": money(record.amount_minor, record.currency),
            "kind_key": f"kind.{record.kind}", "reason": record.reason}


@decides("C", Compensation, describe=describe)
def decide(ctx: Context, record_id: int, approve: bool, comment: str) -> Reply:
    record, status = decide_pending(ctx, "C", record_id, approve, comment, approved=Status.APPROVED)
    amount = money(record.amount_minor, record.currency)
    key = f"notify.comp_{status}" if comment else f"notify.comp_{status}_no_comment"
    ctx.notify(record.employee_id, key,
               ref=f"C{record_id}", amount=amount, decider=ctx.actor.name, comment=comment)
    return Reply.of(f"comp.{status}", ref=f"C{record_id}", amount=amount)


def authority_summary(ctx: Context, employee: Employee,
                      spent: Usage | None = None) -> dict[str, str]:
    """Their limit and budgets used (`spent`, when read already)."""
    authority = ctx.config.authority(employee.role)
    currency = ctx.config.organisation.currency
    spent = spent or usage(ctx, employee)

    def budget(limit: Decimal | None, used: int) -> str:
        shown = money(used, currency)
        return shown if limit is None else f"{shown} / {from_minor(to_minor(limit))} {currency}"

    return {
        "limit": money(to_minor(authority.per_incident_limit), currency),
        "today": budget(authority.daily_budget, spent.today_minor),
        "month": budget(authority.monthly_budget, spent.month_minor),
    }

