"""Engine and session set-up for SQLite (embedded default) and PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event
from sqlmodel import Session, SQLModel, create_engine

import storage.append_only  # noqa: F401  (registers every table and the ledger triggers)

DEFAULT_URL = "sqlite:///frontline.db"


def make_engine(url: str = DEFAULT_URL, **kwargs) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               **kwargs)
        _make_sqlite_transactions_serializable(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def normalise_url(url: str) -> str:
    """Let people write the plain `postgresql://` URL; Frontline speaks psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _make_sqlite_transactions_serializable(engine: Engine) -> None:
    # Python's sqlite3 emits no BEGIN before a SELECT, so a read-then-write
    # command could lose an update. Take over transaction control and start
    # every transaction with BEGIN IMMEDIATE: writers queue on the busy
    # timeout instead of interleaving.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_all(engine: Engine) -> None:
    """Create every table directly (tests, benchmarks); deployments use migrations."""
    SQLModel.metadata.create_all(engine)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
