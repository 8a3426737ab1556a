"""What a backup, a restore and a move check: that a database opens, is at the newest
migration and its ledger verifies; what it holds (rows per table, balances); and
whether a running Frontline holds a lease on it."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Engine, func, inspect, make_url, select
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel

from bot.dbtools import DbToolError
from points import ledger
from storage import migrate
from storage.engine import make_engine, normalise_url
from storage.models import HeldLease, InboxItem, Outbox, PointsAccount

MARKER = "frontline_move_incomplete"  # a table a move writes first and drops last


def tables() -> list:
    """Every table Frontline keeps, in foreign-key order (a referenced table first)."""
    return list(SQLModel.metadata.sorted_tables)


def counts(engine: Engine) -> dict[str, int]:
    """Rows per table, for the tables that exist."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        return {table.name: connection.execute(
            select(func.count()).select_from(table)).scalar_one()
            for table in tables() if table.name in present}


def balances(engine: Engine) -> dict[int, int]:
    with engine.connect() as connection:
        return dict(connection.execute(
            select(PointsAccount.employee_id, PointsAccount.balance)).all())


def holding(counted: dict[str, int]) -> str:
    """What a database holds, in a few words: "12 employee, 340 ledgerentry rows"."""
    full = [f"{rows} {name}" for name, rows in counted.items() if rows]
    return ", ".join(full[:6]) + (f" and {len(full) - 6} more tables" if len(full) > 6 else "")


def check(engine: Engine, what: str) -> None:
    """Refuse unless `what` (the database behind `engine`) is at the newest migration
    and every balance matches its entries."""
    found = migrate.database_revisions(engine)
    if found != migrate.heads():
        raise DbToolError(f"{what}: its schema is at migration {_revisions(found)}, not "
                          f"{_revisions(migrate.heads())}")
    with Session(engine) as session:
        problems = ledger.verify(session)
    if problems:
        raise DbToolError(f"{what}: ledger verify finds {len(problems)} balance(s) that "
                          "disagree with their entries")


def _revisions(found: set[str]) -> str:
    return ", ".join(sorted(found)) or "none (never migrated)"


def refuse_while_running(engine: Engine, now: datetime | None = None) -> None:
    """Refuse while a Frontline process holds a lease in this database: a receiver role
    (the Telegram poller, a long connection), a request it is running or a notification
    it is sending. A lease runs out when its holder stops."""
    now = now or datetime.now(UTC)
    present = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        holders = connection.execute(select(HeldLease.holder, HeldLease.claimed_until).where(
            HeldLease.claimed_until > now)).all() if "heldlease" in present else []
        working = [connection.execute(select(func.max(table.claimed_until)).where(
            table.claimed_until > now, done.is_(None), *more)).scalar_one()
            for table, done, more in ((InboxItem, InboxItem.done_at, ()),
                                      (Outbox, Outbox.delivered_at, (Outbox.last_error == "",)))
            if table.__tablename__ in present]
    until = max([until for _holder, until in holders] + [w for w in working if w], default=None)
    if until is not None:
        who = ", ".join(sorted({holder for holder, _until in holders if holder})) or "a worker"
        raise DbToolError(
            f"Frontline is running on this database ({who} holds a lease until "
            f"{until:%Y-%m-%d %H:%M:%S} UTC): stop `frontline run` (SIGTERM or Ctrl-C) "
            "and run this again once its leases end")


@contextmanager
def opened(url: str) -> Iterator[Engine]:
    """An engine on `url` that keeps no connection open after the block."""
    if make_url(normalise_url(url)).get_backend_name() == "sqlite":
        path = make_url(url).database
        if not path or path == ":memory:":
            raise DbToolError(f"{url}: not a SQLite file")
    engine = make_engine(url, poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()
