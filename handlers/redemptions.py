"""The catalog and redemptions: the employee redeems, HR fulfils or rejects."""

from dataclasses import asdict, dataclass

from sqlalchemy import JSON, bindparam, insert, literal, select
from sqlmodel import select as orm_select

from handlers.base import (
    PRIVILEGED,
    Action,
    Context,
    Message,
    Refusal,
    Reply,
    decision_actions,
    record_event,
)
from handlers.policy import Policy
from handlers.registry import Command, decides, handles, verb, verb_alone
from handlers.words import reference, require
from points import ledger, redemptions
from storage.enums import RedemptionStatus as Status
from storage.enums import Role
from storage.models import CatalogStock, Employee, Outbox, Redemption
from storage.rows import connection


@dataclass(frozen=True)
class Catalog(Command):
    """What points can buy, and the sender's balance."""


verb_alone("catalog", Catalog)


@dataclass(frozen=True)
class Redeem(Command):
    """Redeem points for a catalog item: debited now, settled by HR."""

    item_key: str


@verb("redeem")
def parse_redeem(rest: list[str]) -> Redeem:
    require(len(rest) == 1)
    return Redeem(rest[0].lower())


@dataclass(frozen=True)
class CancelRedemption(Command):
    """The sender cancels their own pending redemption (refunded)."""

    redemption_id: int


@verb("cancel")
def parse_cancel(rest: list[str]) -> CancelRedemption:
    require(len(rest) == 1)
    return CancelRedemption(reference(rest[0], "R")[1])


@dataclass(frozen=True)
class SettleRedemption(Command):
    """HR's decision on a redemption from the web console's queue."""

    redemption_id: int
    outcome: str  # a RedemptionStatus: approved | fulfilled | rejected
    comment: str = ""


@handles(Catalog)
def catalog(ctx: Context, command: Catalog) -> Reply:
    reply = Reply.of("catalog.header", balance=ledger.balance(ctx.session, ctx.actor.id))
    for item in ctx.config.catalog:
        reply.messages.append(Reply.of(
            "catalog.line", key=item.key, name=item.name(ctx.actor.locale), cost=item.cost,
            stock="∞" if item.stock is None else _remaining(ctx, item.key, item.stock)
        ).messages[0])
    reply.messages.extend(point_worth(ctx.config, ctx.actor.locale))
    return reply


def point_worth(config: Policy, locale: str) -> list[Message]:
    """What a point is worth in each category of the catalog: what it buys, and for
    cash equivalents its value in the organisation's currency."""
    by_category: dict[str, list] = {}
    for item in config.catalog:
        by_category.setdefault(item.category, []).append(item)
    lines = [Message("catalog.worth_header")] if by_category else []
    for category, items in by_category.items():
        examples = ", ".join(f"{item.cost} = {item.name(locale)}" for item in items)
        if category == "cash_equivalent":
            rates = sorted(item.value / item.cost for item in items)
            rate = f"{rates[0]:.2f}" if rates[0] == rates[-1] else \
                f"{rates[0]:.2f}–{rates[-1]:.2f}"
            lines.append(Message("catalog.worth_cash", {
                "rate": rate, "currency": config.organisation.currency,
                "examples": examples}))
        else:
            lines.append(Message("catalog.worth", {"category_key": f"category.{category}",
                                                   "examples": examples}))
    return lines


def _remaining(ctx: Context, key: str, configured: int) -> int:
    row = ctx.session.get(CatalogStock, key)
    return configured if row is None else row.remaining


# The request goes to every other active HR person: one outbox row each, written by
# one INSERT … SELECT instead of reading them and inserting row by row.
_PEOPLE = Employee.__table__.c
_REVIEW_COLUMNS = ("audience", "employee_id", "message_key", "params", "actions", "created_at",
                   "attempts", "last_error")
_ASK_OTHER_HR = insert(Outbox.__table__).from_select(_REVIEW_COLUMNS, select(
    literal("person"), _PEOPLE.id, literal("notify.redemption_review"),
    bindparam("params", type_=JSON), bindparam("actions", type_=JSON),
    bindparam("now", type_=Outbox.__table__.c.created_at.type), literal(0), literal(""),
).where(_PEOPLE.role == Role.HR, _PEOPLE.active, _PEOPLE.id != bindparam("actor"))
    .order_by(_PEOPLE.id))


@handles(Redeem)
def redeem(ctx: Context, command: Redeem) -> Reply:
    item = ctx.config.catalog_item(command.item_key)
    if item is None:
        raise Refusal("refuse.unknown_item", key=command.item_key,
                      keys=", ".join(i.key for i in ctx.config.catalog) or "-")
    try:
        requested = redemptions.request(
            ctx.session, employee_id=ctx.actor.id, item_key=item.key, cost=item.cost,
            limited_stock=item.stock, now=ctx.now)
    except redemptions.OutOfStock:
        raise Refusal("refuse.out_of_stock", item_names=item.all_names()) from None
    except ledger.InsufficientPoints as short:
        raise Refusal("refuse.insufficient_points", balance=short.balance,
                      cost=item.cost) from None
    ref = f"R{requested.id}"
    connection(ctx.session).execute(_ASK_OTHER_HR, {
        "actor": ctx.actor.id, "now": ctx.now,
        "params": {"ref": ref, "who": ctx.actor.name, "item_names": item.all_names(),
                   "cost": item.cost},
        "actions": [asdict(action) for action in decision_actions(ref)]})
    return Reply.of("redeem.requested", ref=ref, item=item.name(ctx.actor.locale), cost=item.cost,
                    balance=requested.balance, cancel_word="verb.cancel")


def item_names(ctx: Context, key: str) -> dict[str, str]:
    """An item's name in every language, for a notice read in its reader's; an item
    since taken out of the catalog is named by its key."""
    item = ctx.config.catalog_item(key)
    return item.all_names() if item is not None else {"en": key}


def _load(ctx: Context, redemption_id: int) -> Redemption:
    redemption = ctx.session.get(Redemption, redemption_id)
    if redemption is None:
        raise Refusal("refuse.not_found", ref=f"R{redemption_id}")
    return redemption


def describe(ctx: Context, redemption: Redemption) -> dict[str, object]:
    item = ctx.config.catalog_item(redemption.item_key)
    return {"item": item.name(ctx.actor.locale) if item else redemption.item_key,
            "cost": redemption.cost}


@decides("R", Redemption, describe=describe, approver_column=None)
def decide(ctx: Context, redemption_id: int, approve: bool, comment: str) -> Reply:
    """`approve R7` in chat: the one-step path, approved and fulfilled at once."""
    outcome = Status.FULFILLED if approve else Status.REJECTED
    return settle(ctx, SettleRedemption(redemption_id, outcome, comment))


_SETTLE = {Status.APPROVED: redemptions.approve, Status.FULFILLED: redemptions.fulfil}


@handles(SettleRedemption)
def settle(ctx: Context, command: SettleRedemption) -> Reply:
    """HR approves, fulfils or rejects (refunding the points) a redemption."""
    redemption = _load(ctx, command.redemption_id)
    if redemption.employee_id == ctx.actor.id:
        raise Refusal("refuse.self_approve")
    if ctx.actor.role not in PRIVILEGED:
        raise Refusal("refuse.not_approver")
    ref, comment = f"R{redemption.id}", command.comment
    try:
        if command.outcome in _SETTLE:
            _SETTLE[command.outcome](ctx.session, redemption, actor_id=ctx.actor.id,
                                     comment=comment, now=ctx.now)
        else:
            redemptions.refund(ctx.session, redemption, status=Status.REJECTED,
                               actor_id=ctx.actor.id, comment=comment, now=ctx.now)
    except redemptions.NotPending:
        raise Refusal("refuse.already_decided", ref=ref) from None
    status = redemption.status
    record_event(ctx.session, ctx.now, ref, status, ctx.actor.id, detail=comment)
    ctx.notify(redemption.employee_id, f"notify.redemption_{status}" if comment
               else f"notify.redemption_{status}_no_comment",
               ref=ref, item_names=item_names(ctx, redemption.item_key), cost=redemption.cost,
               comment=comment)
    return Reply.of(f"redeem.{status}", ref=ref, cost=redemption.cost)


@handles(CancelRedemption)
def cancel(ctx: Context, command: CancelRedemption) -> Reply:
    redemption = _load(ctx, command.redemption_id)
    if redemption.employee_id != ctx.actor.id:
        raise Refusal("refuse.not_found", ref=f"R{command.redemption_id}")
    try:
        redemptions.refund(ctx.session, redemption, status=Status.CANCELLED, actor_id=ctx.actor.id,
                           comment="", now=ctx.now)
    except redemptions.NotPending:
        raise Refusal("refuse.already_decided", ref=f"R{redemption.id}") from None
    record_event(ctx.session, ctx.now, f"R{redemption.id}", Status.CANCELLED, ctx.actor.id)
    return Reply.of("redeem.cancelled", ref=f"R{redemption.id}", cost=redemption.cost,
                    balance=ledger.balance(ctx.session, ctx.actor.id))


def mine(ctx: Context, limit: int = 10) -> Reply:
    """The person's latest redemptions; a pending one can still be cancelled."""
    latest = ctx.session.exec(orm_select(Redemption).where(Redemption.employee_id == ctx.actor.id)
                              .order_by(Redemption.id.desc()).limit(limit)).all()
    reply = Reply.of("redeem.mine_header", count=len(latest))
    for redemption in latest:
        item = ctx.config.catalog_item(redemption.item_key)
        reply.messages.append(Reply.of(
            "redeem.mine_line", ref=f"R{redemption.id}", cost=redemption.cost,
            item=item.name(ctx.actor.locale) if item else redemption.item_key,
            status_key=f"status.{redemption.status}").messages[0])
        if redemption.status == Status.PENDING:
            reply.actions.append(Action("action.cancel", f"cancel R{redemption.id}"))
    return reply
