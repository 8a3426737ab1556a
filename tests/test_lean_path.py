"""The command path's round trips: how many statements the busiest commands make (so a
change that adds one shows up here), that a retried command is answered from its
receipt within the first one, and that a pooled PostgreSQL connection that rested and
died is replaced rather than handed to a command."""

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select, text

from handlers.base import Reply
from handlers.i18n import render_reply
from storage import engine as storage_engine
from storage.engine import make_engine, transaction
from storage.models import CommandReceipt, Compensation
from tests.conftest import NOW, throwaway_postgres
from tests.support import count


@contextmanager
def counted(engine):
    """The statements run meanwhile (BEGIN and COMMIT included), as their first words."""
    statements: list[str] = []

    def on_execute(_conn, _cursor, statement, *_args) -> None:
        statements.append(" ".join(statement.split()[:3]))

    def on_commit(_conn) -> None:
        statements.append("COMMIT")

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)


def _without_begin(statements: list[str]) -> list[str]:
    return [s for s in statements if s not in ("BEGIN IMMEDIATE", "BEGIN")]  # SQLite's, sent by us


# (sender, command, most statements besides BEGIN, with an idempotency key): the sender
# and receipt lookup, the command's own, the receipt, COMMIT. A command that only reads
# keeps no receipt.
BUDGETS = [
    # + target, praise, account, entry, the reader's summary choice, outbox
    ("wang", "praise @alice she found my ring", 9),
    ("alice", "comp 50 voucher #A7 parcel late", 6),  # + (PostgreSQL) lock, budgets, insert
    ("alice", "redeem coffee", 7),  # + redemption, debit, entry, the HR notifications
    ("alice", "me", 4),  # + summary, budgets and board in one, pending
    ("wang", "pending", 3),  # + every kind's waiting records
]


def test_statements_per_command(chat):
    chat.ok("wang", "praise @alice a first letter")  # alice's points for the redemption
    for n, (sender, line, most) in enumerate(BUDGETS):
        with counted(chat.engine) as statements:
            chat.ok(sender, line, key=f"test:lean:{n}")
        statements = _without_begin(statements)
        assert statements[0].startswith("SELECT employee.id")
        assert len(statements) <= most, (line, statements)


def test_retry_answered_from_the_first_statement(chat):
    first = chat.ok("alice", "comp 50 voucher #A8 parcel late", key="test:lean:retry")
    with counted(chat.engine) as statements:
        again = chat.ok("alice", "comp 50 voucher #A8 parcel late", key="test:lean:retry")
    assert again == first
    statements = _without_begin(statements)
    assert len(statements) == 2 and statements[0].startswith("SELECT employee.id")
    with transaction(chat.engine) as session:  # nothing was done twice
        assert session.execute(select(func.count()).select_from(Compensation)).scalar() == 1


def test_stranger_is_answered_from_its_receipt(chat):
    """Nobody is registered under the id (a `link` that worked, retried after the
    account was linked elsewhere): the receipt is read on its own and answers."""
    with transaction(chat.engine) as session:
        session.add(CommandReceipt(key="test:lean:stranger", created_at=NOW,
                                   reply=Reply.of("linked", name="Alice Chen").to_dict()))
    reply = chat.reply("nobody", "me", key="test:lean:stranger")
    assert reply.ok and reply.messages[0].key == "linked"
    assert not chat.reply("nobody", "me", key="test:lean:other").ok  # not registered


def test_rested_connection_that_died_is_replaced(monkeypatch):
    with throwaway_postgres("frontline_lean") as url:
        engine = make_engine(url, pool_size=1, max_overflow=0)
        try:
            with engine.connect() as connection:
                pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            admin = make_engine(url)  # the server drops the connection while it rests
            with admin.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                connection.commit()
            admin.dispose()
            monkeypatch.setattr(storage_engine, "IDLE_PING", 0.0)
            with engine.connect() as connection:
                assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
        finally:
            engine.dispose()


@pytest.mark.parametrize("rest", [0.0, 3600.0])
def test_busy_connection_is_not_pinged(monkeypatch, rest):
    """A connection back from a command a moment ago goes out without a ping; one that
    rested longer than IDLE_PING is pinged first."""
    with throwaway_postgres("frontline_lean") as url:
        engine = make_engine(url, pool_size=1, max_overflow=0)
        pings: list[object] = []
        monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or True)
        monkeypatch.setattr(storage_engine, "IDLE_PING", rest)
        try:
            for _ in range(3):
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
        finally:
            engine.dispose()
        assert len(pings) == (2 if rest == 0.0 else 0)


def test_a_read_runs_beside_a_writer_holding_the_lock(chat):
    """`me` on SQLite neither waits for nor takes the writers' lock (and turn)."""
    if chat.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's reads never waited for its writers")
    holding, finish = threading.Event(), threading.Event()

    def writer() -> None:
        with transaction(chat.engine) as session:
            session.execute(text("UPDATE employee SET name = name WHERE id = -1"))
            holding.set()
            finish.wait(10)

    busy = threading.Thread(target=writer)
    busy.start()
    try:
        assert holding.wait(10)
        assert "Alice" in render_reply(chat.ok("alice", "me", key="test:me"), "en")
        read_while_held = busy.is_alive()  # the writer still holds the lock
    finally:
        finish.set()
        busy.join()
    assert read_while_held
    assert count(chat.engine, CommandReceipt) == 0  # a read keeps no receipt


def test_a_write_in_a_transaction_declared_to_read_fails_loudly(org):
    with pytest.raises(RuntimeError, match="only read wrote"), \
            transaction(org, reads_only=True) as session:
        session.execute(text("UPDATE employee SET name = name WHERE id = -1"))
