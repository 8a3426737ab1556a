"""`frontline db backup` and `restore`. SQLite is copied through its online backup API
(one step, so the copy is one moment of a database in use); PostgreSQL through
pg_dump's custom format, which reads one snapshot. A copy is checked (it opens, is at
the newest migration, its ledger verifies) before it takes the name asked for."""

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError as AlembicError
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

from bot.dbtools import DbToolError, checks
from bot.dbtools.postgres import pg_restore, pg_run
from storage import migrate
from storage.engine import normalise_url

SQLITE_MAGIC, PGDUMP_MAGIC = b"SQLite format 3\x00", b"PGDMP"


def backup(url: str, file: Path, force: bool = False) -> str:
    """Copy the database at `url` to `file`; the line to print once it is checked."""
    if file.exists() and not force:
        raise DbToolError(f"{file} exists: give another name, or --force to replace it")
    partial = file.with_name("." + file.name + ".partial")  # hidden until checked
    with checks.opened(url) as engine:
        checks.check(engine, "the database")  # a copy of a wrong one would fail its check
        try:
            if engine.dialect.name == "sqlite":
                partial.unlink(missing_ok=True)
                _sqlite_copy(engine, partial)
                with checks.opened(f"sqlite:///{partial}") as copy:
                    summary = _checked(copy, f"the backup {file}")
            else:
                pg_run("pg_dump", url, "--format=custom", "--no-owner", f"--file={partial}")
                with _scratch(url) as scratch:
                    pg_restore(scratch, partial)
                    with checks.opened(scratch) as copy:
                        summary = _checked(copy, f"the backup {file}")
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, file)
    return f"backed up to {file}: {summary}"


def restore(url: str, file: Path, force: bool = False) -> str:
    """Restore the backup `file` into the (empty) database at `url`."""
    sqlite = make_url(normalise_url(url)).get_backend_name() == "sqlite"
    with open(file, "rb") as handle:
        magic = handle.read(len(SQLITE_MAGIC))
    kind = "sqlite" if magic == SQLITE_MAGIC else "postgresql" if magic.startswith(
        PGDUMP_MAGIC) else None
    if kind is None:
        raise DbToolError(f"{file} is not a Frontline backup (neither a SQLite file nor a "
                          "pg_dump custom-format archive); nothing restored")
    if kind != ("sqlite" if sqlite else "postgresql"):
        raise DbToolError(f"{file} is a {kind} backup but the database is "
                          f"{'SQLite' if sqlite else 'PostgreSQL'}: restore it into a "
                          f"database of its kind, then `frontline db move`; nothing restored")
    _known_revision(file, _sqlite_revision(file) if sqlite else _dump_revision(file))
    with checks.opened(url) as engine:
        counted = checks.counts(engine)
        if any(counted.values()):
            checks.refuse_while_running(engine)
            if not force:
                raise DbToolError(f"the database is not empty ({checks.holding(counted)}): "
                                  "restore into an empty one, or --force to replace it")
    if sqlite:
        with closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as source, \
                closing(sqlite3.connect(make_url(url).database)) as target:
            source.backup(target)
    else:
        pg_restore(url, file)
    with checks.opened(url) as engine:
        with engine.begin() as connection:  # a backup of an older version: bring it up
            migrate.upgrade(url, connection=connection)
        return f"restored {file}: " + _checked(engine, "the restored database")


def _checked(engine: Engine, what: str) -> str:
    checks.check(engine, what)
    counted = checks.counts(engine)
    return (f"{sum(counted.values())} rows in {len(counted)} tables, at migration "
            f"{', '.join(sorted(migrate.heads()))}, ledger verified")


def _sqlite_copy(engine: Engine, path: Path) -> None:
    # One step (pages=-1): the copy is the database at one moment, whatever the running
    # Frontline writes meanwhile (it waits for the step, as for any reader in WAL mode).
    raw = engine.raw_connection()
    try:
        with closing(sqlite3.connect(path)) as target:
            raw.driver_connection.backup(target)
    finally:
        raw.close()


def _sqlite_revision(file: Path) -> str | None:
    try:
        with closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as db:
            return db.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    except (sqlite3.Error, TypeError):
        return None


def _dump_revision(file: Path) -> str | None:
    # The archive's data for alembic_version, as the COPY text pg_restore writes.
    out = pg_run("pg_restore", None, "--data-only", "--table=alembic_version",
                 "--file=-", str(file), what=f"{file} is not a readable pg_dump archive")
    lines = out.splitlines()
    for number, line in enumerate(lines[:-1]):
        if line.startswith("COPY ") and "alembic_version" in line:
            return lines[number + 1].strip() or None
    return None


def _known_revision(file: Path, revision: str | None) -> None:
    if revision is None or not _knows(revision):
        raise DbToolError(f"{file} is not a Frontline backup (no migration this version "
                          "knows is recorded in it); nothing restored")


def _knows(revision: str) -> bool:
    scripts = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    try:
        return scripts.get_revision(revision) is not None
    except AlembicError:
        return False


@contextmanager
def _scratch(url: str) -> Iterator[str]:
    """A new database beside `url`'s on its server, dropped after: where a dump is
    restored to be checked."""
    name = f"frontline_check_{uuid.uuid4().hex[:10]}"
    server = make_url(normalise_url(url))
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with suppress(Exception), admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
