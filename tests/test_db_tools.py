"""`frontline db backup`, `restore` and `move`: round trips on a database with every table
filled, a backup taken while commands arrive, a move cut short and run again, and the
wrong inputs, each one line that changes nothing."""

import signal
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import JSON, inspect, select, text, update
from sqlalchemy.pool import NullPool

from bot.dbtools import DbToolError, backup, checks, move
from bot.demo import DEMO_STAFF
from handlers import registry
from handlers.directory import import_csv
from handlers.dispatch import execute
from storage.engine import make_engine, transaction
from storage.models import Employee, HeldLease, LedgerEntry, Outbox, Recording
from tests.conftest import NOW, throwaway_postgres
from tests.support import credit, wait_until
from tests.test_cli import cli, config_for

ACTIVITY = [("wang", "praise @alice kind words"),
            ("alice", "comp 120 voucher #A123 parcel two days late"),
            ("alice", "comp 350 refund #B9 broken vase"), ("wang", "approve C2 fine"),
            ("alice", "suggest umbrella stand at the door"), ("wang", "approve S1"),
            ("alice", "nominate @bob he listened to the whole story"),
            ("alice", "redeem coffee")]


def fill(url: str, config) -> None:
    """The demo organisation at work, then a row in every table it left empty."""
    engine = make_engine(url, poolclass=NullPool)
    with transaction(engine) as session:
        import_csv(session, config, DEMO_STAFF)
    credit(engine, "alice", 300, "seed:alice")
    for number, (handle, line) in enumerate(ACTIVITY):
        reply, _ = execute(engine, config, "console", handle, command(line),
                           idempotency_key=f"fill:{number}", now=NOW)
        assert reply.ok, (line, reply)
    with engine.begin() as connection:
        for table in checks.tables():
            if not connection.execute(select(table).limit(1)).first():
                connection.execute(table.insert().values(_made_up(connection, table)))
    engine.dispose()


def command(line: str):
    """The command an English line asks for, parsed by its verb alone (the whole
    grammar is tested in tests/test_grammar.py)."""
    verb, *rest = line.split()
    return registry.VERBS[verb].parse(rest)


def _made_up(connection, table) -> dict:
    """A row of plausible values for `table`; a foreign key names an existing row."""
    values = {}
    for column in table.columns:
        if column is table.autoincrement_column:
            continue
        if column.foreign_keys:
            target = next(iter(column.foreign_keys)).column
            values[column.name] = connection.execute(select(target).limit(1)).scalar_one()
            continue
        if isinstance(column.type, JSON):
            values[column.name] = {"made": "up"}
            continue
        kind = getattr(column.type, "impl", column.type).python_type
        values[column.name] = {int: 1, str: f"made-up {column.name}", bool: False,
                               bytes: b"\x00made-up",
                               float: 1.5, datetime: NOW, date: NOW.date()}[kind]
    return values


def contents(url: str) -> tuple[dict[str, int], dict[int, int]]:
    engine = make_engine(url, poolclass=NullPool)
    try:
        return checks.counts(engine), checks.balances(engine)
    finally:
        engine.dispose()


@pytest.fixture
def filled(migrated_url, config):
    fill(migrated_url, config)
    return migrated_url


@pytest.fixture
def empty_url(filled, tmp_path):
    """An empty database of the same store as `filled`."""
    if filled.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    with throwaway_postgres("frontline_restore") as url:
        yield url


def test_a_backup_restores_every_table_and_balance(filled, empty_url, tmp_path):
    before = contents(filled)
    assert all(before[0].values()), [name for name, rows in before[0].items() if not rows]
    said = backup.backup(filled, tmp_path / "frontline.backup")
    assert "ledger verified" in said
    assert "ledger verified" in backup.restore(empty_url, tmp_path / "frontline.backup")
    assert contents(empty_url) == before


def test_a_backup_taken_while_commands_arrive_is_consistent(filled, empty_url, tmp_path,
                                                            config):
    engine = make_engine(filled, poolclass=NullPool)
    stop, done = threading.Event(), []

    def commands() -> None:
        while not stop.is_set():
            reply, _ = execute(engine, config, "console", "wang",
                               command(f"praise @bob thanks {len(done)}"),
                               idempotency_key=f"busy:{len(done)}", now=NOW)
            done.append(reply.ok)

    worker = threading.Thread(target=commands)
    worker.start()
    try:
        wait_until(lambda: len(done) >= 3, "commands arriving")
        backup.backup(filled, tmp_path / "busy.backup")  # checks the copy itself
    finally:
        stop.set()
        worker.join()
    engine.dispose()
    assert all(done)
    backup.restore(empty_url, tmp_path / "busy.backup")
    copied = contents(empty_url)[0]["praise"]
    assert 1 + 3 <= copied <= 1 + len(done)  # the fill's praise, then some of these


def test_sqlite_to_postgresql_and_back(tmp_path, config):
    source = f"sqlite:///{tmp_path / 'small.db'}"
    _migrated(source)
    fill(source, config)
    before, lines = contents(source), []
    with throwaway_postgres("frontline_move") as postgres:
        said = move.move(source, postgres, lambda *line: lines.append(line), batch=2)
        assert "counts and balances equal, ledger verified" in said
        assert contents(postgres) == before
        assert ("ledgerentry", before[0]["ledgerentry"], before[0]["ledgerentry"]) in lines
        credit(make_engine(postgres, poolclass=NullPool), "bob", 5, "after the move")  # ids go on
        grown = contents(postgres)
        assert grown[0]["ledgerentry"] == before[0]["ledgerentry"] + 1
        back = f"sqlite:///{tmp_path / 'shrunk.db'}"
        move.move(postgres, back)
    assert contents(back) == grown
    assert checks.MARKER not in inspect(make_engine(back)).get_table_names()


def test_a_move_cut_short_leaves_the_target_marked_and_starts_over(tmp_path, config):
    source = f"sqlite:///{tmp_path / 'small.db'}"
    _migrated(source)
    fill(source, config)
    before = contents(source)

    def cut(table: str, done: int, total: int) -> None:
        if table == "ledgerentry":
            raise RuntimeError("killed")

    with throwaway_postgres("frontline_cut") as postgres:
        with pytest.raises(RuntimeError):
            move.move(source, postgres, cut, batch=1)
        target = make_engine(postgres, poolclass=NullPool)
        assert checks.MARKER in inspect(target).get_table_names()
        assert checks.counts(target)["ledgerentry"] == 1  # the first batch only
        assert contents(source) == before  # the source only read
        move.move(source, postgres)
        assert checks.MARKER not in inspect(target).get_table_names()
        assert contents(postgres) == before
        target.dispose()


KILLED_MIDWAY = """
import os, signal, sys
from bot.dbtools import move

read, unbound = [0], move._binder


def binder(columns, dialect):  # the process dies inside the ledger's second COPY
    bind = unbound(columns, dialect)

    def killing(row):
        if columns[0].table.name == "ledgerentry":
            read[0] += 1
            if read[0] == 3:
                os.kill(os.getpid(), signal.SIGKILL)
        return bind(row)
    return killing


move._binder = binder
move.move(sys.argv[1], sys.argv[2], batch=2)
"""


def test_a_move_killed_midway_starts_over(tmp_path, config):
    source = f"sqlite:///{tmp_path / 'small.db'}"
    _migrated(source)
    fill(source, config)
    before = contents(source)
    with throwaway_postgres("frontline_killed") as postgres:
        killed = subprocess.run([sys.executable, "-c", KILLED_MIDWAY, source, postgres],
                                capture_output=True, text=True, timeout=120, check=False)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        target = make_engine(postgres, poolclass=NullPool)
        assert checks.MARKER in inspect(target).get_table_names()
        assert checks.counts(target)["ledgerentry"] == 2  # the committed batch only
        assert "counts and balances equal" in move.move(source, postgres)
        assert checks.MARKER not in inspect(target).get_table_names()
        assert contents(postgres) == before
        target.dispose()
    assert contents(source) == before


def test_a_move_waits_for_a_running_frontline(migrated_url, tmp_path):
    engine = make_engine(migrated_url, poolclass=NullPool)
    with transaction(engine) as session:
        session.add(HeldLease(name="receiver:telegram", holder="host:4242",
                              claimed_until=datetime.now(UTC) + timedelta(seconds=30)))
    engine.dispose()
    target = tmp_path / "target.db"
    with pytest.raises(DbToolError, match=r"host:4242 .*stop `frontline run`"):
        move.move(migrated_url, f"sqlite:///{target}")
    assert not target.exists()


# --- the command, and what it refuses ------------------------------------------------
@pytest.fixture
def frontline(tmp_path, filled):
    return cli(config_for(tmp_path, filled))


def _one_line(done, code: int = 1) -> str:
    assert done.returncode == code, done
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done.stderr


def test_the_command_backs_up_and_refuses_an_existing_file(frontline, tmp_path):
    copy = tmp_path / "nightly.backup"
    assert "ledger verified" in frontline("db", "backup", str(copy)).stdout
    made = copy.read_bytes()
    assert "exists" in _one_line(frontline("db", "backup", str(copy)))
    assert copy.read_bytes() == made
    assert frontline("db", "backup", "--force", str(copy)).returncode == 0


def test_restore_refuses_a_file_that_is_not_a_backup_and_a_full_database(frontline,
                                                                          tmp_path, filled):
    before = contents(filled)
    (tmp_path / "notes.txt").write_text("not a backup", encoding="utf-8")
    assert "not a Frontline backup" in _one_line(frontline("db", "restore",
                                                           str(tmp_path / "notes.txt")))
    frontline("db", "backup", str(tmp_path / "b"))
    assert "not empty (" in _one_line(frontline("db", "restore", str(tmp_path / "b")))
    assert contents(filled) == before
    assert frontline("db", "restore", "--force", str(tmp_path / "b")).returncode == 0
    assert contents(filled) == before


def test_move_refuses_a_wrong_url_an_unreachable_one_and_a_full_target(frontline, tmp_path,
                                                                       filled):
    assert "not a database URL" in _one_line(frontline("db", "move", "--to", "mysql://x/y"), 2)
    assert "cannot use" in _one_line(frontline(
        "db", "move", "--to", "postgresql://postgres@127.0.0.1:1/nowhere"))
    full = tmp_path / "full"
    full.mkdir()
    full_url = f"sqlite:///{full / 'frontline.db'}"
    _migrated(full_url)
    credit_engine = make_engine(full_url, poolclass=NullPool)
    with credit_engine.begin() as connection:
        connection.execute(text("INSERT INTO team (name, timezone) VALUES ('Kept', 'UTC')"))
    assert "target is not empty (1 team)" in _one_line(frontline("db", "move", "--to",
                                                                 full_url))
    assert checks.counts(credit_engine)["team"] == 1
    assert checks.MARKER not in inspect(credit_engine).get_table_names()
    credit_engine.dispose()


def test_a_postgresql_backup_without_pg_dump_says_so(tmp_path, monkeypatch):
    with throwaway_postgres("frontline_nodump") as postgres:
        _migrated(postgres)
        monkeypatch.setenv("PATH", str(tmp_path))
        with pytest.raises(DbToolError, match="pg_dump is not installed"):
            backup.backup(postgres, tmp_path / "x.backup")
    assert not list(Path(tmp_path).iterdir())


def _migrated(url: str) -> None:
    from storage import migrate

    engine = make_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        migrate.upgrade(url, connection=connection)
    engine.dispose()


def test_the_ledger_entries_keep_their_ids(tmp_path, config):
    source = f"sqlite:///{tmp_path / 'small.db'}"
    _migrated(source)
    fill(source, config)
    with throwaway_postgres("frontline_ids") as postgres:
        move.move(source, postgres)
        ids = [make_engine(url, poolclass=NullPool).connect().execute(
            select(LedgerEntry.id, LedgerEntry.balance_after).order_by(LedgerEntry.id)).all()
            for url in (source, postgres)]
    assert ids[0] == ids[1]


# COPY's text format gives a meaning to tabs, newlines, backslashes and \N (its NULL):
# a value holding them must arrive as it left.
HOSTILE = "王小明 naïve 🙂 \\N \t tab \n newline \\ back\\slash \"dq\" 'sq' \r"


def every_row(url: str) -> dict[str, list[dict]]:
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return {table.name: [row._asdict() for row in connection.execute(
                select(table).order_by(*table.primary_key.columns))]
                for table in checks.tables()}
    finally:
        engine.dispose()


def test_json_nulls_text_bytes_and_times_arrive_exactly(tmp_path, config):
    source = f"sqlite:///{tmp_path / 'small.db'}"
    _migrated(source)
    fill(source, config)
    when = datetime(2026, 3, 29, 1, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=8)))
    params = {"名前": HOSTILE, "none": None, "list": [1, 2.5, "é", True, None],
              "nested": {"empty": [], "\\N": {}}}
    engine = make_engine(source, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(Outbox.__table__.insert().values(
            _made_up(connection, Outbox.__table__) | {
                "audience": "person", "employee_id": None, "team_id": None,
                "message_key": HOSTILE, "params": params, "actions": [params, HOSTILE],
                "created_at": when, "claimed_until": None, "delivered_at": None,
                "last_error": HOSTILE}))
        connection.execute(Recording.__table__.insert().values(
            _made_up(connection, Recording.__table__) | {
                "data": b"\x00\\N\t\n\xff" + HOSTILE.encode(), "source": HOSTILE}))
        # A supervisor added after their staff: the link is filled in after the copy.
        staff = connection.execute(Employee.__table__.insert().values(
            _made_up(connection, Employee.__table__) | {
                "handle": "staff", "name": HOSTILE, "supervisor_id": None})).lastrowid
        boss = connection.execute(Employee.__table__.insert().values(
            _made_up(connection, Employee.__table__) | {
                "handle": "boss", "name": "Boss", "supervisor_id": None})).lastrowid
        connection.execute(update(Employee).where(Employee.id == staff).values(
            supervisor_id=boss))
    engine.dispose()
    before = every_row(source)
    with throwaway_postgres("frontline_exact") as postgres:
        move.move(source, postgres, batch=3)
        moved = every_row(postgres)
        back = f"sqlite:///{tmp_path / 'back.db'}"
        move.move(postgres, back, batch=3)
    assert moved == before
    assert every_row(back) == before
    copied = next(row for row in moved["outbox"] if row["message_key"] == HOSTILE)
    assert copied["params"] == params and copied["last_error"] == HOSTILE
    assert copied["created_at"] == when and copied["created_at"].tzinfo == UTC
    assert copied["claimed_until"] is None
    assert next(row for row in moved["employee"] if row["handle"] == "staff"
                )["supervisor_id"] == boss
