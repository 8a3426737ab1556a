"""Engine and session set-up for SQLite (embedded default) and PostgreSQL."""

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, SQLModel, create_engine

# registers every table, the ledger's append-only triggers and those keeping the month sums
from storage import append_only, month_sums  # noqa: F401
from storage.fair_lock import FairLock

DEFAULT_URL = "sqlite:///frontline.db"


BUSY_TIMEOUT = 30  # seconds a SQLite transaction waits for its turn before failing
# Connections kept open in the pool, and opened beyond it at a peak (closed after). A
# process runs a few work threads per platform beside the threads that store what
# arrives; a pool smaller than that opens and closes a connection per use, paying
# the connect (and SQLite's pragmas) each time. PostgreSQL's are a server's
# resource shared by every worker process, so fewer are kept.
POOL = {"sqlite": {"pool_size": 24, "max_overflow": 24},
        "postgresql": {"pool_size": 10, "max_overflow": 10}}


def make_engine(url: str = DEFAULT_URL, fair_writers: bool = True, **kwargs) -> Engine:
    """The engine for `url`. On SQLite, `fair_writers` queues this process's
    transactions in arrival order (see storage/fair_lock.py); off only to measure
    what it changes."""
    url = normalise_url(url)
    dialect = url.split(":")[0].split("+")[0]
    if "poolclass" not in kwargs and ":memory:" not in url and url != "sqlite://":
        kwargs = {**POOL.get(dialect, {}), **kwargs}
    if url.startswith("sqlite"):
        # Named parameters: a value used many times in a statement (the board's month
        # bounds, in forty subqueries) is converted and bound once, not per use.
        engine = create_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT, "check_same_thread": False},
            paramstyle="named", **kwargs)
        _make_sqlite_transactions_serializable(
            engine, fair_lock_for(engine) if fair_writers else None)
    else:
        engine = create_engine(url, **kwargs)
        _ping_when_idle(engine)
    _refuse_writes_in_reads(engine)
    return engine


def _refuse_writes_in_reads(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _check(connection, _cursor, statement, _parameters, _context, _many):
        if connection.get_execution_options().get(READS_ONLY) \
                and statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            # a bug: a handler declared `reads_only` (handlers/registry.py) that writes
            raise RuntimeError(f"a transaction declared to only read wrote: {statement[:80]}")


IDLE_PING = 5.0  # seconds a pooled connection may rest before it is checked on checkout


def _ping_when_idle(engine: Engine) -> None:
    # Like pool_pre_ping, but only for a connection that rested in the pool a while: a
    # server restart or an idle timeout drops those, and the pool replaces one that does
    # not answer. A connection busy a moment ago is handed out as it is, which saves a
    # command one round trip of its few.
    rested = "frontline_rested_since"

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        record.info[rested] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy):
        since = record.info.pop(rested, None)
        if since is None or time.monotonic() - since < IDLE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError("the connection did not answer") from error


def normalise_url(url: str) -> str:
    """Let people write the plain `postgresql://` URL; Frontline speaks psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _make_sqlite_transactions_serializable(engine: Engine, queue: FairLock | None) -> None:
    # Python's sqlite3 emits no BEGIN before a SELECT, so a read-then-write
    # command could lose an update. Take over transaction control and start
    # every transaction with BEGIN IMMEDIATE: writers queue instead of
    # interleaving. With a `queue`, this process's threads take their turn on it
    # before BEGIN and give it up at COMMIT or ROLLBACK, so they are served in
    # arrival order; without one they poll SQLite's busy handler and the luckiest
    # wins. A turn that does not come within the busy timeout, or a thread that
    # already holds the queue (a transaction inside another), falls back to
    # SQLite's own waiting and so to its usual "database is locked".
    turn = "frontline_fair_turn"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    def _give_up_turn(info: dict) -> None:
        if info.pop(turn, False):
            queue.release()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get(READS_ONLY):
            # A read sees one snapshot (WAL) beside the writer: no turn, no write lock
            connection.exec_driver_sql("BEGIN")
            return
        if queue is not None and not queue.held_by_me() and queue.acquire(BUSY_TIMEOUT):
            connection.info[turn] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _give_up_turn(connection.info)
            raise

    # These events come before SQLAlchemy ends the transaction; end it here first,
    # so the next in line does not find the database still locked. (SQLAlchemy's
    # own COMMIT or ROLLBACK then finds no transaction and does nothing; a COMMIT
    # that failed here fails there again, reported the usual way.)
    @event.listens_for(engine, "commit")
    def _on_commit(connection):
        if turn in connection.info:
            try:
                connection.connection.dbapi_connection.commit()
            except Exception:
                return  # the rollback that follows gives up the turn
            _give_up_turn(connection.info)

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection):
        if turn in connection.info:
            with suppress(Exception):  # SQLAlchemy's own ROLLBACK deals with a broken link
                connection.connection.dbapi_connection.rollback()
            _give_up_turn(connection.info)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        _give_up_turn(record.info)  # a turn is never kept by an idle connection


_FAIR_LOCKS: dict[str, FairLock] = {}  # one per database file, shared by its engines
_FAIR_LOCKS_MUTEX = threading.Lock()


def fair_lock_for(engine: Engine) -> FairLock | None:
    """The queue of this process's transactions on the engine's SQLite file."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    with _FAIR_LOCKS_MUTEX:
        return _FAIR_LOCKS.setdefault(os.path.abspath(database), FairLock())


def create_all(engine: Engine) -> None:
    """Create every table directly (tests, benchmarks); deployments use migrations."""
    SQLModel.metadata.create_all(engine)


READS_ONLY = "frontline_reads_only"  # the execution option of a transaction that only reads


@contextmanager
def transaction(engine: Engine, reads_only: bool = False) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception. With
    `reads_only` the work only reads: on SQLite it then neither waits for nor holds
    the writers' lock, so a `me` does not queue behind the praise being written."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if reads_only:
            session.connection(execution_options={READS_ONLY: True})
        yield session


def refresh_statistics(engine: Engine) -> None:
    """Let the query planner see the tables as they are now. SQLite keeps no statistics
    until told (without them it may read a whole column's index where one person's rows
    were wanted: a digest of a thousand teams went from 5 ms a query to 0.1 ms); run
    after the directory grows and daily. PostgreSQL's autovacuum does it too, later."""
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
