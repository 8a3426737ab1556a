"""Commands per second through the whole pipeline (parse -> handler -> ledger -> outbox,
one transaction each) on SQLite and PostgreSQL, beside the raw limit: the same rows
written with the plain driver, one transaction per command. Each store is measured
on an empty ledger and on one pre-filled with 1,000,000 entries.

    python bench/pipeline.py [--commands 3000] [--prefill 1000000] [--postgres URL]
"""

import argparse
import itertools
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, event, text

from bot.config import DEMO_CATALOG, parse_config
from bot.demo import DEMO_STAFF
from bot.grammar import parse
from handlers.directory import import_csv
from handlers.dispatch import execute
from storage.engine import create_all, make_engine, transaction

# Budgets large enough for thousands of compensations a day: each one is within
# authority, as the raw driver's row is (self-authorised), and still checked against
# the person's incident and budgets.
CONFIG = parse_config({"catalog": DEMO_CATALOG, "roles": {"employee": {
    "per_incident_limit": "200", "daily_budget": "10000000", "monthly_budget": "10000000"}}})
# (sender, command): a praise earns alice the 10 points the redemption then spends. Each
# compensation is for another customer ({n}); one customer's would add up to one
# incident over the limit, and to a request listing every earlier part. Compensations
# come from CLERKS people in turn: a budget check reads the person's compensations of
# the month, and thousands from one person would measure that, not the command path.
CLERKS = 100
MIX = [("wang", "praise @alice the customer wrote to thank her"),
       ("clerk{k}", "comp 50 voucher #A{n} parcel late"),
       ("alice", "redeem coffee")]
STAFF = DEMO_STAFF + "".join(f"clerk{k},Clerk {k},employee,Harbour Street Store,,wang,en\n"
                             for k in range(CLERKS))
FILLERS = 1000


def prefill(engine, entries: int) -> None:
    """`entries` ledger rows spread over FILLERS extra people, balances to match."""
    if not entries:
        return
    now = datetime.now(UTC).isoformat(sep=" ")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        people = [(f"filler{i}", f"Filler {i}", "employee", "en", True) for i in range(FILLERS)]
        cursor.executemany("INSERT INTO employee (handle, name, role, locale, active) "
                           "VALUES (%s, %s, %s, %s, %s)".replace("%s", _mark(engine)), people)
        cursor.execute("SELECT id FROM employee WHERE handle LIKE 'filler%'")
        ids = [row[0] for row in cursor.fetchall()]
        batch = []
        for n in range(entries):
            batch.append((f"prefill:{n}", ids[n % FILLERS], 1, "praise", "prefill", now))
            if len(batch) == 50_000 or n == entries - 1:
                cursor.executemany(
                    "INSERT INTO ledgerentry (idempotency_key, employee_id, amount, reason, "
                    "source_type, note, created_at) VALUES (%s, %s, %s, %s, %s, '', %s)"
                    .replace("%s", _mark(engine)), batch)
                batch = []
        cursor.execute("INSERT INTO pointsaccount (employee_id, balance) SELECT employee_id, "
                       "SUM(amount) FROM ledgerentry GROUP BY employee_id")
        raw.commit()
    finally:
        raw.close()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def _mark(engine) -> str:
    return "?" if engine.dialect.name == "sqlite" else "%s"


_SERIAL = itertools.count()  # customer references, unique across runs


def pipeline_rate(engine, commands: int) -> float:
    started = time.perf_counter()
    for n in range(commands):
        sender, line = MIX[n % len(MIX)]
        serial = next(_SERIAL)
        command = parse(line.format(n=serial))
        reply, _ = execute(engine, CONFIG, "console", sender.format(k=serial % CLERKS), command)
        assert reply.ok, reply
    return commands / (time.perf_counter() - started)


def statements_per_command(engine, commands: int = 300) -> float:
    """Round trips a command makes to the database (BEGIN and COMMIT included), counted
    in a run of their own so that counting costs the timed run nothing."""
    counted = 0

    def count(*_args) -> None:
        nonlocal counted
        counted += 1

    event.listen(engine, "before_cursor_execute", count)
    event.listen(engine, "commit", count)
    try:
        pipeline_rate(engine, commands)
    finally:
        event.remove(engine, "before_cursor_execute", count)
        event.remove(engine, "commit", count)
    return counted / commands


RAW_PRAISE = [
    "INSERT INTO praise (employee_id, text, attachment_ref, source, status, logged_by_id, "
    "decision_comment, touching_count, created_at) VALUES (2, 'thanks', '', 'logged', "
    "'credited', 1, '', 0, :now)",
    "INSERT INTO ledgerentry (idempotency_key, employee_id, amount, reason, source_type, note, "
    "created_at) VALUES (:key, 2, 10, 'praise', 'praise', '', :now)",
    "UPDATE pointsaccount SET balance = balance + 10 WHERE employee_id = 2",
    "INSERT INTO outbox (audience, employee_id, message_key, params, actions, created_at, "
    "attempts, last_error) VALUES ('person', 2, 'notify.praise_credited', '{}', '[]', :now, 0, '')",
    "INSERT INTO outbox (audience, message_key, params, actions, created_at, attempts, "
    "last_error) VALUES ('all', 'broadcast.praise', '{}', '[]', :now, 0, '')",
]
RAW_COMP = [
    "INSERT INTO compensation (employee_id, amount_minor, currency, kind, customer_ref, reason, "
    "status, decision_comment, created_at) VALUES (2, 5000, 'CNY', 'voucher', 'A1', 'late', "
    "'self_authorised', '', :now)",
]
RAW_REDEEM = [
    "INSERT INTO redemption (employee_id, item_key, cost, status, decision_comment, created_at) "
    "VALUES (2, 'coffee', 10, 'pending', '', :now)",
    "INSERT INTO ledgerentry (idempotency_key, employee_id, amount, reason, source_type, note, "
    "created_at) VALUES (:key, 2, -10, 'redemption', 'redemption', '', :now)",
    "UPDATE pointsaccount SET balance = balance - 10 WHERE employee_id = 2 AND balance >= 10",
    "INSERT INTO outbox (audience, employee_id, message_key, params, actions, created_at, "
    "attempts, last_error) VALUES ('person', 5, 'notify.redemption_review', '{}', '[]', :now, "
    "0, '')",
]


def raw_rate(url: str, dialect: str, commands: int) -> float:
    """The same rows, plain driver, one transaction per command: the ceiling."""
    scripts = [RAW_PRAISE, RAW_COMP, RAW_REDEEM]
    if dialect == "sqlite":
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("PRAGMA synchronous = NORMAL")
        mark = lambda sql: sql  # noqa: E731  (sqlite3 takes :name already)
    else:
        connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                                     autocommit=True)
        mark = lambda sql: sql.replace(":now", "%(now)s").replace(":key", "%(key)s")  # noqa: E731
    cursor = connection.cursor()
    now = datetime.now(UTC).isoformat(sep=" ")
    started = time.perf_counter()
    for n in range(commands):
        cursor.execute("BEGIN IMMEDIATE" if dialect == "sqlite" else "BEGIN")
        for sql in scripts[n % 3]:
            cursor.execute(mark(sql), {"now": now, "key": f"raw:{n}"})
        cursor.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return commands / elapsed


def fresh_store(store: str, postgres: str, folder: Path) -> str:
    if store == "sqlite":
        return f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:6]}.db'}"
    name = f"frontline_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return postgres.rsplit("/", 1)[0] + "/" + name


def drop_store(url: str, postgres: str) -> None:
    if url.startswith("postgresql"):
        admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" '
                                    "WITH (FORCE)"))
        admin.dispose()


def measure(store: str, prefilled: int, commands: int, postgres: str, folder: Path) -> tuple:
    url = fresh_store(store, postgres, folder)
    try:
        engine = make_engine(url)
        create_all(engine)
        with transaction(engine) as session:
            import_csv(session, CONFIG, STAFF)
        prefill(engine, prefilled)
        pipeline_rate(engine, 300)  # warm caches and the connection pool
        pipeline = pipeline_rate(engine, commands)
        statements = statements_per_command(engine)
        engine.dispose()
        raw = raw_rate(url, store, commands)
        return pipeline, raw, statements
    finally:
        drop_store(url, postgres)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=3000)
    parser.add_argument("--prefill", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"{args.commands} commands, mix: praise / compensation / redemption\n")
    print("| store      | ledger entries | pipeline cmd/s | raw driver cmd/s | pipeline/raw "
          "| statements/cmd |")
    print("|------------|---------------:|---------------:|-----------------:|-------------:"
          "|---------------:|")
    with tempfile.TemporaryDirectory() as folder:
        for store in args.stores.split(","):
            for prefilled in (0, args.prefill):
                pipeline, raw, statements = measure(store, prefilled, args.commands,
                                                    args.postgres, Path(folder))
                print(f"| {store:<10} | {prefilled:>14,} | {pipeline:>14,.0f} | {raw:>16,.0f} |"
                      f" {pipeline / raw:>11.0%} | {statements:>14.1f} |", flush=True)


if __name__ == "__main__":
    main()
