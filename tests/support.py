"""Small helpers for reading the database in assertions."""

from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import select

from points import ledger
from storage.engine import transaction
from storage.models import Employee, Outbox


def rows(engine, model, **filters):
    with transaction(engine) as session:
        query = select(model)
        for column, value in filters.items():
            query = query.where(getattr(model, column) == value)
        return list(session.exec(query).all())


def count(engine, model, **filters) -> int:
    with transaction(engine) as session:
        query = select(func.count()).select_from(model)
        for column, value in filters.items():
            query = query.where(getattr(model, column) == value)
        return int(session.exec(query).one())


def employee(engine, handle: str) -> Employee:
    return rows(engine, Employee, handle=handle)[0]


def balance(engine, handle: str) -> int:
    with transaction(engine) as session:
        return ledger.balance(session, employee(engine, handle).id)


def credit(engine, handle: str, amount: int, key: str, *, reason: str = "praise",
           note: str = "", when: datetime | None = None) -> int | None:
    """Post points straight to the ledger (a debit when negative)."""
    with transaction(engine) as session:
        return ledger.post(session, employee_id=employee(engine, handle).id, amount=amount,
                           reason=reason, source_type="test", source_id=None, actor_id=None,
                           idempotency_key=key, now=when or datetime.now(UTC), note=note)


def notifications(engine, handle: str | None = None) -> list[Outbox]:
    """Queued notifications to a person (or to all staff when handle is None), oldest first."""
    if handle is None:
        return rows(engine, Outbox, audience="all")
    return rows(engine, Outbox, audience="person", employee_id=employee(engine, handle).id)


def has_room(pool) -> bool:
    """Whether a work pool would take work now; the place tried is given back, so the
    next request finds it free (submitting a no-op would hold it a moment)."""
    if not pool.reserve(quiet=True):
        return False
    pool.unreserve()
    return True
