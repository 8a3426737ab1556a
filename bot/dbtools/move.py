"""`frontline db move --to URL`: every table copied to an empty database, in batches, in
foreign-key order, from one snapshot of the source (which is only read), then checked.

The target is marked incomplete (the table MARKER) before the first row and unmarked
after the checks pass, so a move cut short is plain to see; run again, it starts over."""

import random
from collections.abc import Callable

from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    and_,
    bindparam,
    inspect,
    make_url,
    select,
    text,
    update,
)
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from bot.dbtools import DbToolError, checks
from storage import migrate
from storage.engine import normalise_url
from storage.models import LedgerEntry

BATCH, SAMPLE = 5000, 20  # rows per insert; rows a table compares column by column
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


def move(source_url: str, to: str, progress: Progress | None = None, batch: int = BATCH) -> str:
    """Copy the database at `source_url` to the empty one at `to`; the line to print."""
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
            _copy(source, target, progress or (lambda *_: None), batch)
            if target.dialect.name == "postgresql":
                _set_sequences(target)
            compared = _verify(source, target)
            with target.begin() as connection:
                connection.execute(text(f"DROP TABLE {checks.MARKER}"))
    return (f"moved to {shown}: {compared}; point [database] url at it before the next "
            "`frontline run`")


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


def _copy(source: Engine, target: Engine, progress: Progress, batch: int) -> None:
    # One read transaction over every table: the copy is one moment of the source.
    # (On SQLite it is BEGIN IMMEDIATE, which also holds any writer off until the end.)
    with source.connect() as reading:
        if source.dialect.name == "postgresql":
            reading = reading.execution_options(isolation_level="REPEATABLE READ")
        with reading.begin():
            for table in checks.tables():
                _copy_table(reading, target, table, progress, batch)


def _copy_table(reading: Connection, target: Engine, table, progress: Progress,
                batch: int) -> None:
    key = list(table.primary_key.columns)
    # A row may name a later row of its own table (a supervisor imported after their
    # staff): such columns are filled in once every row is there. Ledger entries name
    # only earlier ones (a reversal), and may not be updated, so they go in id order.
    later = [] if table is LedgerEntry.__table__ else [
        fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    total = reading.execute(select(text("count(*)")).select_from(table)).scalar_one()
    done, links = 0, []
    rows = reading.execution_options(stream_results=True, yield_per=batch).execute(
        select(table).order_by(*key))
    for chunk in rows.partitions(batch):
        values = [row._asdict() for row in chunk]
        for value in values:
            if any(value[name] is not None for name in later):
                links.append({"_" + c.name: value[c.name] for c in key}
                             | {name: value[name] for name in later})
                value.update(dict.fromkeys(later, None))
        with target.begin() as connection:
            connection.execute(table.insert(), values)
        done += len(values)
        progress(table.name, done, total)
    for start in range(0, len(links), batch):
        with target.begin() as connection:
            connection.execute(update(table).where(
                and_(*[c == bindparam("_" + c.name) for c in key])), links[start:start + batch])


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


def _verify(source: Engine, target: Engine) -> str:
    """Refuse unless the target holds what the source does; what was compared."""
    counted, copied = checks.counts(source), checks.counts(target)
    wrong = [name for name in counted if copied.get(name) != counted[name]]
    if wrong:
        raise DbToolError(f"the copy differs: rows of {', '.join(wrong)} (the target is "
                          f"marked incomplete; run the move again)")
    if checks.balances(source) != checks.balances(target):
        raise DbToolError("the copy differs: balances (the target is marked incomplete)")
    checks.check(target, "the copy")
    compared = sum(_sample_equal(source, target, table, counted[table.name])
                   for table in checks.tables())
    return (f"{sum(counted.values())} rows in {len(counted)} tables, counts and balances "
            f"equal, ledger verified, {compared} rows compared column by column")


def _sample_equal(source: Engine, target: Engine, table, rows: int) -> int:
    key = list(table.primary_key.columns)
    picks = sorted({0, rows - 1, *random.Random(rows).sample(range(rows), min(rows, SAMPLE))}
                   ) if rows else []
    with source.connect() as reading, target.connect() as written:
        for offset in picks:
            row = reading.execute(select(table).order_by(*key).offset(offset).limit(1)).one()
            copy = written.execute(select(table).where(
                and_(*[c == row._mapping[c] for c in key]))).one_or_none()
            if copy is None or copy._asdict() != row._asdict():
                raise DbToolError(f"the copy differs: a row of {table.name} (the target is "
                                  "marked incomplete; run the move again)")
    return len(picks)
