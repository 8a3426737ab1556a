"""Redemptions: points are debited when requested and refunded by a reversal if
the request is rejected or cancelled. HR may approve first (leave to be taken on
a date, a training to be booked) and mark it fulfilled once given. Limited stock
is taken the same way, with a conditional update, so neither points nor stock can
be over-spent."""

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import update
from sqlmodel import Session, select

from points import ledger
from storage.enums import LedgerReason
from storage.enums import RedemptionStatus as Status
from storage.errors import FrontlineError
from storage.models import CatalogStock, LedgerEntry, Redemption
from storage.rows import dialect_insert, insert_values, transition


class OutOfStock(FrontlineError):
    pass


class NotPending(FrontlineError):
    def __init__(self, redemption: Redemption) -> None:
        super().__init__(f"redemption {redemption.id} is {redemption.status}")
        self.redemption = redemption


def sync_stock(session: Session, stock_by_key: dict[str, int]) -> None:
    """Seed stock rows for catalog items with a limited stock (existing counts are kept).

    One upsert, not check-then-insert: of several requests seeding the same item at
    once, one inserts and the others find its row, instead of failing on the key."""
    if not stock_by_key:
        return
    insert = dialect_insert(session.get_bind().dialect.name)
    session.execute(insert(CatalogStock.__table__).on_conflict_do_nothing(
        index_elements=["item_key"]),
        [{"item_key": key, "remaining": stock} for key, stock in stock_by_key.items()])


def _debit_key(redemption_id: int) -> str:
    return f"redemption:{redemption_id}:debit"


class Requested(NamedTuple):
    id: int  # the redemption's
    balance: int  # the points left after the debit


def request(session: Session, *, employee_id: int, item_key: str, cost: int,
            limited_stock: int | None, now: datetime) -> Requested:
    if limited_stock is not None:
        sync_stock(session, {item_key: limited_stock})
        taken = session.execute(
            update(CatalogStock)
            .where(CatalogStock.item_key == item_key, CatalogStock.remaining > 0)
            .values(remaining=CatalogStock.remaining - 1)).rowcount
        if taken != 1:
            raise OutOfStock(item_key)
    redemption_id = insert_values(session, Redemption, dict(
        employee_id=employee_id, item_key=item_key, cost=cost, status=Status.PENDING,
        created_at=now))
    posted = ledger.post_with_balance(
        session, employee_id=employee_id, amount=-cost, reason=LedgerReason.REDEMPTION,
        source_type="redemption", source_id=redemption_id, actor_id=employee_id,
        idempotency_key=_debit_key(redemption_id), now=now)
    return Requested(redemption_id, posted.balance)


# What each outcome may follow: only a request still pending can be cancelled.
SETTLES_FROM = {Status.APPROVED: (Status.PENDING,),
                Status.FULFILLED: (Status.PENDING, Status.APPROVED),
                Status.REJECTED: (Status.PENDING, Status.APPROVED),
                Status.CANCELLED: (Status.PENDING,)}


def _settle(session: Session, redemption: Redemption, status: str, actor_id: int,
            comment: str, now: datetime) -> None:
    settled = transition(session, Redemption, redemption.id, SETTLES_FROM[status], dict(
        status=status, decided_by_id=actor_id, decision_comment=comment, decided_at=now))
    session.refresh(redemption)
    if not settled:
        raise NotPending(redemption)


def approve(session: Session, redemption: Redemption, *, actor_id: int, comment: str,
            now: datetime) -> None:
    _settle(session, redemption, Status.APPROVED, actor_id, comment, now)


def fulfil(session: Session, redemption: Redemption, *, actor_id: int, comment: str,
           now: datetime) -> None:
    _settle(session, redemption, Status.FULFILLED, actor_id, comment, now)


def refund(session: Session, redemption: Redemption, *, status: str, actor_id: int,
           comment: str, now: datetime) -> None:
    """Reject (HR) or cancel (the employee): the points come back, and the stock."""
    _settle(session, redemption, status, actor_id, comment, now)
    debit = session.exec(select(LedgerEntry.id).where(
        LedgerEntry.idempotency_key == _debit_key(redemption.id))).one()
    ledger.reverse(session, debit, actor_id=actor_id, now=now,
                   idempotency_key=f"redemption:{redemption.id}:refund", note=status)
    session.execute(
        update(CatalogStock).where(CatalogStock.item_key == redemption.item_key)
        .values(remaining=CatalogStock.remaining + 1))
