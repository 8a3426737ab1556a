"""The append-only points ledger and its constant-time balances.

Every movement of points is one LedgerEntry plus a change to PointsAccount in
the same transaction; the entry records the balance it left behind, so a
person's history shows its running balance without summing anything. Entries
are never updated or deleted; a mistake is corrected by a reversal. Debits are
conditional updates (`balance >= amount`), so a balance cannot go below zero
however many debits arrive at once; the CHECK constraint is the backstop.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import bindparam, event, func, literal, select, union_all, update
from sqlmodel import Session

from storage.enums import LedgerReason
from storage.errors import FrontlineError
from storage.models import Employee, LedgerEntry, PointsAccount
from storage.rows import connection, dialect_insert


class InsufficientPoints(FrontlineError):
    def __init__(self, balance: int, needed: int) -> None:
        super().__init__(f"balance {balance} is less than {needed}")
        self.balance = balance
        self.needed = needed


class LedgerIsAppendOnly(FrontlineError):
    pass


@event.listens_for(LedgerEntry, "before_update")
@event.listens_for(LedgerEntry, "before_delete")
def _refuse_rewrite(*_args) -> None:
    raise LedgerIsAppendOnly("ledger entries are never changed; post a reversal instead")


@dataclass(frozen=True)
class _Statements:
    """Built once per dialect: composing statements costs more than running them."""

    add_entry: Any
    credit: Any
    debit: Any
    undo: Any


@cache
def _statements(dialect: str) -> _Statements:
    insert = dialect_insert(dialect)
    entries, accounts = LedgerEntry.__table__, PointsAccount.__table__
    add_entry = insert(entries).on_conflict_do_nothing(
        index_elements=["idempotency_key"]).returning(entries.c.id)
    open_account = insert(accounts).values(
        employee_id=bindparam("account"), balance=bindparam("amount"))
    credit = open_account.on_conflict_do_update(
        index_elements=["employee_id"],
        set_={"balance": accounts.c.balance + open_account.excluded.balance}
    ).returning(accounts.c.balance)
    debit = update(accounts).where(
        accounts.c.employee_id == bindparam("account"),
        accounts.c.balance >= bindparam("amount")).values(
        balance=accounts.c.balance - bindparam("amount")).returning(accounts.c.balance)
    undo = update(accounts).where(accounts.c.employee_id == bindparam("account")).values(
        balance=accounts.c.balance - bindparam("amount"))
    return _Statements(add_entry, credit, debit, undo)


class Posted(NamedTuple):
    entry_id: int | None  # None: an entry with this idempotency key existed already
    balance: int  # the account's balance afterwards


def post(session: Session, **entry: Any) -> int | None:
    """Append one entry and move the balance. Returns the entry id, or None when an
    entry with this idempotency key already exists (nothing changes then); the
    keywords are those of `post_with_balance`."""
    return post_with_balance(session, **entry).entry_id


def post_with_balance(
    session: Session,
    *,
    employee_id: int,
    amount: int,
    reason: str,
    source_type: str,
    source_id: int | None,
    actor_id: int | None,
    idempotency_key: str,
    now: datetime,
    reverses_id: int | None = None,
    note: str = "",
) -> Posted:
    """Append one entry and move the balance; returns the entry id (None when an entry
    with this idempotency key already exists: nothing changes then) and the balance
    it leaves, which saves reading it back.

    Raises InsufficientPoints for a debit the balance does not cover; the caller's
    transaction must then be rolled back.
    """
    core = connection(session)
    statements = _statements(core.dialect.name)
    # The balance moves first (locking the account row) so the entry can carry the
    # balance it leaves; a repeated key then finds its entry and moves it back.
    move = {"account": employee_id, "amount": abs(amount)}
    if amount >= 0:
        balance_after = core.execute(statements.credit, move).scalar_one()
    else:
        balance_after = core.execute(statements.debit, move).scalar_one_or_none()
        if balance_after is None:
            if _posted(session, idempotency_key):
                return Posted(None, balance(session, employee_id))
            raise InsufficientPoints(balance(session, employee_id), -amount)
    entry_id = core.execute(statements.add_entry, dict(
        idempotency_key=idempotency_key, employee_id=employee_id, amount=amount,
        balance_after=balance_after, reason=reason, source_type=source_type,
        source_id=source_id, actor_id=actor_id, reverses_id=reverses_id, note=note,
        created_at=now,
    )).scalar_one_or_none()
    if entry_id is None:
        core.execute(statements.undo, {"account": employee_id, "amount": amount})
        return Posted(None, balance_after - amount)
    return Posted(entry_id, balance_after)


_POSTED = select(LedgerEntry.id).where(LedgerEntry.idempotency_key == bindparam("key"))


def _posted(session: Session, idempotency_key: str) -> bool:
    return session.execute(_POSTED, {"key": idempotency_key}).first() is not None


def reverse(session: Session, entry_id: int, *, actor_id: int | None, idempotency_key: str,
            now: datetime, note: str = "") -> int | None:
    """Post the opposite of an entry (a refund, or a correction of a credit)."""
    original = session.get(LedgerEntry, entry_id)
    if original is None:
        raise LookupError(f"no ledger entry {entry_id}")
    return post(
        session, employee_id=original.employee_id, amount=-original.amount,
        reason=LedgerReason.REVERSAL, source_type=original.source_type,
        source_id=original.source_id, actor_id=actor_id,
        idempotency_key=idempotency_key, now=now, reverses_id=original.id, note=note,
    )


_BALANCE = select(PointsAccount.balance).where(PointsAccount.employee_id == bindparam("account"))


def balance(session: Session, employee_id: int) -> int:
    """Constant time, however long the ledger: the balance is kept beside the entries."""
    return session.execute(_BALANCE, {"account": employee_id}).scalar_one_or_none() or 0


@dataclass(frozen=True)
class Mismatch:
    employee_id: int
    handle: str  # whom it is about, as staff and the directory name them
    balance: int
    ledger_sum: int


def verify(session: Session) -> list[Mismatch]:
    """Recompute every balance from the entries; an empty list means the books agree.

    One statement, so that it reads one snapshot: two (the sums, then the balances)
    would each see the commits made between them and report a command that ran in
    between as a disagreement, on a live PostgreSQL database."""
    both = union_all(
        select(LedgerEntry.employee_id.label("employee_id"),
               func.sum(LedgerEntry.amount).label("entries"), literal(0).label("kept"))
        .group_by(LedgerEntry.employee_id),
        select(PointsAccount.employee_id, literal(0), PointsAccount.balance)).subquery()
    entries, kept = func.sum(both.c.entries), func.sum(both.c.kept)
    wrong = session.execute(
        select(both.c.employee_id, kept, entries, Employee.handle)
        .join(Employee, Employee.id == both.c.employee_id, isouter=True)
        .group_by(both.c.employee_id, Employee.handle)
        .having((kept != entries) | (kept < 0)).order_by(both.c.employee_id)).all()
    return [Mismatch(employee_id, handle or "?", int(balance), int(total))
            for employee_id, balance, total, handle in wrong]
