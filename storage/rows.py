"""Inserting a new row without the ORM's unit of work.

A chat command writes a handful of new rows and needs their ids at once; a plain
INSERT … RETURNING does that for a fraction of the cost of add() + flush().
"""

from datetime import datetime
from functools import cache
from typing import TypeVar

from sqlalchemy import Connection, Insert, Table, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel

Row = TypeVar("Row", bound=SQLModel)


def connection(session: Session) -> Connection:
    """The connection of the session's transaction, for Core statements: executed there
    they skip the session's bookkeeping for each statement (Core statements neither
    flush nor load objects, so nothing else changes)."""
    transaction = session.get_transaction()
    held = session.info.get("core_connection")
    if held is None or held[0] is not transaction:
        held = session.info["core_connection"] = (transaction, session.connection())
    return held[1]


@cache
def _insert_returning_id(table: Table) -> Insert:
    return insert(table).returning(table.c.id)


def insert_row(session: Session, row: Row) -> Row:
    """INSERT the row in the session's transaction and set its id; returns the row."""
    table = type(row).__table__
    values = {column.name: getattr(row, column.name) for column in table.columns
              if column.name != "id"}
    row.id = session.execute(_insert_returning_id(table), values).scalar_one()
    return row


def insert_values(session: Session, model: type[SQLModel], values: dict) -> int:
    """INSERT a row given as column values (the columns' defaults fill the rest) in the
    session's transaction; returns its id. No model object is built: on the command
    path that costs more than the statement."""
    return connection(session).execute(_insert_returning_id(model.__table__),
                                       values).scalar_one()


def dialect_insert(dialect: str):
    """The dialect's INSERT, which offers ON CONFLICT on both supported stores."""
    return {"postgresql": pg_insert, "sqlite": sqlite_insert}[dialect]


def transition(session: Session, model: type[SQLModel], record_id: int,
               from_status: str | tuple[str, ...], values: dict) -> bool:
    """Move a record on from `from_status` (or any of several), only if it is still
    there: of two clicks or two workers at the same moment exactly one wins. True
    when this call did."""
    statuses = (from_status,) if isinstance(from_status, str) else from_status
    return session.execute(update(model).where(
        model.id == record_id, model.status.in_(statuses)).values(**values)).rowcount == 1


def send_once(session: Session, key: str, now: datetime) -> bool:
    """Record `key`; False when it was recorded before (the message went already)."""
    from storage.models import SentOnce  # the models import nothing from here; kept lazy

    table = SentOnce.__table__
    inserted = session.execute(dialect_insert(session.get_bind().dialect.name)(table)
                               .values(key=key, created_at=now)
                               .on_conflict_do_nothing(index_elements=["key"])
                               .returning(table.c.key))
    return inserted.scalar_one_or_none() is not None


def many_returning(statement: Insert) -> Insert:
    """An INSERT … RETURNING run for many rows, sent a hundred rows a statement: psycopg
    parses the placeholders of a statement longer than it caches (4 KB) again each time,
    and at a thousand rows a statement (SQLAlchemy's default) a PostgreSQL survey import
    ran 1.5x slower. SQLite is as fast either way."""
    return statement.execution_options(insertmanyvalues_page_size=100)
