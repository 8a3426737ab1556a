"""`frontline db move --to URL`: every table copied to an empty database, in batches (a
COPY each into PostgreSQL, an executemany of one INSERT into SQLite), in foreign-key
order, from one snapshot of the source (which is only read), then checked.

The target is marked incomplete (the table MARKER) before the first row and unmarked
after the checks pass, so a move cut short is plain to see; run again, it starts over."""

import random
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import (
    Column,
    Connection,
    Dialect,
    Engine,
    MetaData,
    Row,
    Table,
    and_,
    bindparam,
    func,
    inspect,
    make_url,
    select,
    text,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from bot.dbtools import DbToolError, checks
from storage import migrate, month_sums
from storage.engine import normalise_url
from storage.models import LedgerEntry

# Rows per COPY or executemany, each its own transaction and progress line: large enough
# that a batch's commit and the wait for the server to catch up cost about 1% of its time.
BATCH = 50_000
SAMPLE = 20  # rows of each table compared column by column
READ = 1000  # rows fetched from the source at a time: a few, as a row may hold a recording
Progress = Callable[[str, int, int], None]  # table, rows copied, rows it has


def target_url(value: str) -> str:
    """A database URL Frontline can use, or a DbToolError saying what is wrong with it."""
    try:
        backend = make_url(normalise_url(value)).get_backend_name()
    except (ArgumentError, ValueError):
        backend = None
    if backend not in ("sqlite", "postgresql"):
        raise DbToolError(f"{value!r} is not a database URL like "
                          "postgresql://user@host/frontline or sqlite:///frontline.db")
    return value


@dataclass(frozen=True)
class Moved:
    """A finished move: the line to print, and the seconds its copy (sequences included)
    and its checks took."""

    line: str
    copying: float
    checking: float


def move(source_url: str, to: str, progress: Progress | None = None, batch: int = BATCH) -> str:
    """Copy the database at `source_url` to the empty one at `to`; the line to print."""
    return run(source_url, to, progress, batch).line


def run(source_url: str, to: str, progress: Progress | None = None, batch: int = BATCH
        ) -> Moved:
    """`move`, with how long each part took."""
    shown = make_url(normalise_url(target_url(to))).render_as_string(hide_password=True)
    if make_url(normalise_url(to)) == make_url(normalise_url(source_url)):
        raise DbToolError("--to is the configured database itself: give another one")
    with checks.opened(source_url) as source:
        if not migrate.is_current(source):
            raise DbToolError("the database schema is not current: run `frontline db "
                              "upgrade` first")
        checks.refuse_while_running(source)
        with checks.opened(to) as target:
            try:
                _prepare(target, to)
            except (OperationalError, NoSuchModuleError) as error:
                raise DbToolError(f"cannot use {shown}: {_said(error)}") from None
            started = time.perf_counter()
            with target.begin() as connection:  # the month sums are copied, not re-added
                month_sums.pause(connection)
            sample = _copy(source, target, progress or (lambda *_: None), batch)
            with target.begin() as connection:
                month_sums.resume(connection)
            if target.dialect.name == "postgresql":
                _set_sequences(target)
            copied = time.perf_counter()
            compared = _verify(source, target, sample)
            checked = time.perf_counter()
            with target.begin() as connection:
                connection.execute(text(f"DROP TABLE {checks.MARKER}"))
    return Moved(f"moved to {shown}: {compared} (copied in {copied - started:.1f} s, "
                 f"checked in {checked - copied:.1f} s); point [database] url at it before "
                 "the next `frontline run`", copied - started, checked - copied)


def _said(error: Exception) -> str:
    return " ".join(str(getattr(error, "orig", None) or error).split())


def _prepare(target: Engine, url: str) -> None:
    """Mark the target incomplete and bring it to the newest migration: cleared first
    when an earlier move was cut short, refused when it holds anything else."""
    names = set(inspect(target).get_table_names())
    if checks.MARKER in names:  # an earlier move cut short: start over
        found = MetaData()
        found.reflect(target)
        found.drop_all(target)
    elif any((counted := checks.counts(target)).values()):
        raise DbToolError(f"the target is not empty ({checks.holding(counted)}): move "
                          "into an empty database")
    with target.begin() as connection:
        connection.execute(text(f"CREATE TABLE {checks.MARKER} (started_at VARCHAR(40))"))
        connection.execute(text(f"INSERT INTO {checks.MARKER} VALUES (CURRENT_TIMESTAMP)"))
        migrate.upgrade(url, connection=connection)


Sample = dict[str, list[Row]]  # table → rows as read from the source, to compare after


def _copy(source: Engine, target: Engine, progress: Progress, batch: int) -> Sample:
    # One read transaction over every table: the copy is one moment of the source.
    # (On SQLite it is BEGIN IMMEDIATE, which also holds any writer off until the end.)
    # One target connection throughout, a transaction per batch: what is committed
    # stays when the move is cut short, and the next run clears it.
    with source.connect() as reading, target.connect() as written:
        if source.dialect.name == "postgresql":
            reading = reading.execution_options(isolation_level="REPEATABLE READ")
        with reading.begin():
            return {table.name: _copy_table(reading, written, table, progress, batch)
                    for table in checks.tables()}


def _copy_table(reading: Connection, written: Connection, table: Table, progress: Progress,
                batch: int) -> list[Row]:
    """Copy one table in key order; the source rows the checks compare afterwards (the
    first, the last and a seeded random SAMPLE, kept as they stream by)."""
    key = list(table.primary_key.columns)
    columns = list(table.columns)
    # A row may name a later row of its own table (a supervisor imported after their
    # staff): such columns are filled in once every row is there. Ledger entries name
    # only earlier ones (a reversal), and may not be updated, so they go in id order.
    later = [] if table is LedgerEntry.__table__ else [
        columns.index(fk.parent) for fk in table.foreign_keys if fk.column.table is table]
    bind = _binder(columns, written.dialect)
    write = _writer(written, table, columns)
    total = reading.execute(select(func.count()).select_from(table)).scalar_one()
    picks = {0, total - 1, *random.Random(total).sample(range(total), min(total, SAMPLE))
             } if total else set()
    done, links, sample = 0, [], []

    def bound(rows: Iterator[Row]) -> Iterator[list]:
        # Row by row, so the target works on the first rows while later ones are read.
        nonlocal done
        for row in rows:
            if done in picks:
                sample.append(row)
            done += 1
            value = bind(row)
            if later and any(row[at] is not None for at in later):
                links.append({f"_{c.name}": row._mapping[c] for c in key}
                             | {columns[at].name: row[at] for at in later})
                for at in later:
                    value[at] = None
            yield value

    rows = iter(reading.execution_options(stream_results=True, yield_per=min(batch, READ))
                .execute(select(table).order_by(*key)))
    for _start in range(0, total, batch):
        with written.begin():
            write(bound(islice(rows, batch)))
        progress(table.name, done, total)
    if links:
        statement = update(table).where(and_(*[c == bindparam(f"_{c.name}") for c in key]))
        for start in range(0, len(links), batch):
            with written.begin():
                written.execute(statement, links[start:start + batch])
    return sample


def _binder(columns: list[Column], dialect: Dialect) -> Callable[[Row], list]:
    """A source row as the target's driver takes it: each column through its type's
    bind step for the target (times to aware UTC, JSON to its text or psycopg's Json),
    as an INSERT through SQLAlchemy would, so both ways write the same values."""
    steps = [(at, step) for at, column in enumerate(columns)
             if (step := column.type.dialect_impl(dialect).bind_processor(dialect))]

    def bind(row: Row) -> list:
        value = list(row)
        for at, step in steps:
            value[at] = step(value[at])
        return value
    return bind


def _writer(written: Connection, table: Table, columns: list[Column]
            ) -> Callable[[Iterator[list]], None]:
    """How a batch of bound rows goes in: COPY FROM STDIN on PostgreSQL (psycopg's
    write_row does each value's text form and escaping), one executemany of an INSERT
    compiled once on SQLite, which has no COPY. (COPY fires only INSERT triggers; the
    ledger's refuse UPDATE and DELETE.)"""
    if written.dialect.name == "postgresql":
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(
                sql.Identifier(column.name) for column in columns))

        def copy(values: Iterator[list]) -> None:
            with written.connection.dbapi_connection.cursor() as cursor, \
                    cursor.copy(statement) as stream:
                for value in values:
                    stream.write_row(value)
        return copy
    # every column, in order, as "?" placeholders (whatever paramstyle the engine uses)
    insert = str(table.insert().compile(dialect=sqlite.dialect(paramstyle="qmark")))

    def execute_many(values: Iterator[list]) -> None:
        # sqlite3 takes the rows as they come, in the transaction begun around it.
        with closing(written.connection.dbapi_connection.cursor()) as cursor:
            cursor.executemany(insert, values)
    return execute_many


def _set_sequences(target: Engine) -> None:
    """Each id sequence past the ids copied, so the next row gets a new one."""
    with target.begin() as connection:
        for table in checks.tables():
            key = list(table.primary_key.columns)
            if len(key) != 1 or not key[0].autoincrement:
                continue
            sequence = connection.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {
                "t": table.name, "c": key[0].name}).scalar_one()
            if sequence:
                connection.execute(text(
                    f'SELECT setval(:s, (SELECT coalesce(max("{key[0].name}"), 0) + 1 '
                    f'FROM "{table.name}"), false)'), {"s": sequence})


def _verify(source: Engine, target: Engine, sample: Sample) -> str:
    """Refuse unless the target holds what the source does; what was compared. Bounded
    at any size: a count per table, the balances (one row a person), `ledger verify`
    (one GROUP BY) and the sampled rows looked up by key."""
    counted, copied = checks.counts(source), checks.counts(target)
    wrong = [name for name in counted if copied.get(name) != counted[name]]
    if wrong:
        raise DbToolError(f"the copy differs: rows of {', '.join(wrong)} (the target is "
                          f"marked incomplete; run the move again)")
    if checks.balances(source) != checks.balances(target):
        raise DbToolError("the copy differs: balances (the target is marked incomplete)")
    checks.check(target, "the copy")
    with target.connect() as written:
        compared = sum(_sample_equal(written, table, sample[table.name])
                       for table in checks.tables())
    return (f"{sum(counted.values())} rows in {len(counted)} tables, counts and balances "
            f"equal, ledger verified, {compared} rows compared column by column")


def _sample_equal(written: Connection, table: Table, rows: list[Row]) -> int:
    """Each sampled source row's copy, read back through the column types, equal to it."""
    key = list(table.primary_key.columns)
    for row in rows:
        copy = written.execute(select(table).where(
            and_(*[c == row._mapping[c] for c in key]))).one_or_none()
        if copy is None or copy._asdict() != row._asdict():
            raise DbToolError(f"the copy differs: a row of {table.name} (the target is "
                              "marked incomplete; run the move again)")
    return len(rows)
