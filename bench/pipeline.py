"""Commands per second through the whole pipeline (parse -> handler -> ledger -> outbox,
one transaction each) on SQLite and PostgreSQL, beside the raw limit: the same rows
written with the plain driver, one transaction per command (statements built from the
models' tables, so they keep up with the schema). Each store is measured on an empty
ledger and on one pre-filled with 1,000,000 entries.

    python bench/pipeline.py [--commands 3000] [--prefill 1000000] [--postgres URL] [--smoke]
"""

import argparse
import itertools
import sqlite3
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import NamedTuple

import psycopg
from common import POSTGRES, fresh_store, parse_args  # bench/ is the script's own folder
from sqlalchemy import Dialect, bindparam, event, insert, text, update
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlmodel import SQLModel

from bot.demo import DEMO_STAFF
from bot.kit.config import DEMO_CATALOG, parse_config
from handlers.base import decision_actions, to_minor
from handlers.directory import import_csv
from handlers.dispatch import execute
from handlers.grammar import parse
from storage.engine import create_all, make_engine, transaction
from storage.enums import CompensationStatus, LedgerReason, PraiseStatus, RedemptionStatus, Role
from storage.models import (
    Compensation,
    Employee,
    LedgerEntry,
    Outbox,
    PointsAccount,
    Praise,
    Redemption,
)

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


class RawStatement(NamedTuple):
    """A statement for the plain driver: its SQL in the driver's paramstyle, the values
    fixed when it was built (as the driver takes them), and the name its RETURNING
    value is kept under for the statements after it."""

    sql: str
    fixed: dict
    keeps: str | None = None


def driver_dialect(store: str) -> Dialect:
    """SQL each plain driver takes with a dict: sqlite3 :name, psycopg %(name)s."""
    return SQLiteDialect_pysqlite(paramstyle="named") if store == "sqlite" \
        else PGDialect_psycopg()


NEUTRAL = {int: 0, str: "", bool: False, dict: {}, list: []}  # by the model field's type


def with_required(model: type[SQLModel], values: dict, now: datetime) -> dict:
    """`values`, and every other NOT NULL column of the model's table the database does
    not fill: the model's default where it has one, else a neutral value of its type.
    So a column a later migration adds is written without being named here."""
    row = dict(values)
    table = model.__table__
    for column in table.columns:
        if column.name in row or column.nullable or column.server_default is not None \
                or column is table.autoincrement_column:
            continue
        if column.default is not None and column.default.is_scalar:
            row[column.name] = column.default.arg
        else:
            kind = model.model_fields[column.name].annotation
            row[column.name] = now if kind is datetime else NEUTRAL[kind]
    return row


def for_driver(statement, dialect: Dialect, keeps: str | None = None) -> RawStatement:
    """Compile once; the values it holds are converted as SQLAlchemy would convert them
    (JSON, times), so that timing runs only the driver. Its bindparam()s without a value
    are given at each execution."""
    compiled = statement.compile(dialect=dialect)
    fixed = {}
    for name, value in compiled.params.items():
        bind = compiled.binds[name]
        if not bind.required:
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            fixed[name] = convert(value) if convert else value
    return RawStatement(compiled.string, fixed, keeps)


def raw_insert(dialect: Dialect, model: type[SQLModel], now: datetime, *rows: dict,
               keeps: str | None = None) -> RawStatement:
    """INSERT of `rows` (one statement), RETURNING the id kept as `keeps` if given."""
    table = model.__table__
    filled = [with_required(model, row, now) for row in rows]
    statement = insert(table).values(filled[0] if len(filled) == 1 else filled)
    # inline(): no id comes back that nothing reads (PostgreSQL would return it unasked)
    statement = statement.returning(table.c.id) if keeps else statement.inline()
    return for_driver(statement, dialect, keeps)


def prefill(engine, entries: int) -> None:
    """`entries` ledger rows spread over FILLERS extra people, balances to match."""
    if not entries:
        return
    dialect, now = driver_dialect(engine.dialect.name), datetime.now(UTC)
    people = raw_insert(dialect, Employee, now, dict(
        handle=bindparam("handle"), name=bindparam("name"), role=Role.EMPLOYEE))
    entry = raw_insert(dialect, LedgerEntry, now, dict(
        idempotency_key=bindparam("key"), employee_id=bindparam("who"), amount=1,
        balance_after=bindparam("balance"), reason=LedgerReason.PRAISE, source_type="prefill"))
    account = raw_insert(dialect, PointsAccount, now, dict(
        employee_id=bindparam("who"), balance=bindparam("balance")))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.executemany(people.sql, [{**people.fixed, "handle": f"filler{i}",
                                         "name": f"Filler {i}"} for i in range(FILLERS)])
        cursor.execute("SELECT id FROM employee WHERE handle LIKE 'filler%' ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]
        for start in range(0, entries, 50_000):
            cursor.executemany(entry.sql, [
                {**entry.fixed, "key": f"prefill:{n}", "who": ids[n % FILLERS],
                 "balance": n // FILLERS + 1} for n in range(start, min(entries, start + 50_000))])
        cursor.executemany(account.sql, [
            {**account.fixed, "who": who, "balance": entries // FILLERS + (i < entries % FILLERS)}
            for i, who in enumerate(ids)])
        raw.commit()
    finally:
        raw.close()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


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


def raw_scripts(store: str, staff: list[tuple]) -> list[list[RawStatement]]:
    """The rows the pipeline writes for each command of MIX, in its order, as the plain
    driver writes them: praise, compensation, redemption. `staff`: (id, handle, name,
    role) of each active person, by id."""
    dialect, now = driver_dialect(store), datetime.now(UTC)
    praise, comp, redeem = (parse(line.format(n=0)) for _, line in MIX)
    points, cost = CONFIG.points.praise, CONFIG.catalog_item(redeem.item_key).cost
    ids = {handle: who for who, handle, _, _ in staff}
    alice, wang, clerk = ids["alice"], ids["wang"], ids["clerk0"]
    alice_name = next(name for who, _, name, _ in staff if who == alice)
    other_hr = [who for who, _, _, role in staff if role == Role.HR and who != alice]
    accounts = PointsAccount.__table__
    move = update(accounts).where(accounts.c.employee_id == alice).returning(accounts.c.balance)

    def entry(amount: int, reason: str, source: str, actor: int) -> RawStatement:
        return raw_insert(dialect, LedgerEntry, now, dict(
            idempotency_key=bindparam("key"), employee_id=alice, amount=amount,
            balance_after=bindparam("balance"), reason=reason, source_type=source,
            source_id=bindparam("source"), actor_id=actor))

    return [
        [raw_insert(dialect, Praise, now, dict(
            employee_id=alice, text=praise.text, attachment_ref=praise.attachment,
            source="logged", status=PraiseStatus.CREDITED, logged_by_id=wang, decided_at=now),
            keeps="source"),
         for_driver(move.values(balance=accounts.c.balance + points), dialect, "balance"),
         entry(points, LedgerReason.PRAISE, "praise", actor=wang),
         raw_insert(dialect, Outbox, now,
                    dict(audience="person", employee_id=alice,
                         message_key="notify.praise_credited",
                         params={"ref": "P1", "points": points, "text": praise.text}),
                    dict(audience="all", employee_id=None, message_key="broadcast.praise",
                         params={"ref": "P1", "who": alice_name, "text": praise.text,
                                 "attachment": "", "recording_id": None}))],
        [raw_insert(dialect, Compensation, now, dict(
            employee_id=clerk, amount_minor=to_minor(comp.amount),
            currency=comp.currency or CONFIG.organisation.currency, kind=comp.kind,
            customer_ref=comp.customer_ref, reason=comp.reason,
            status=CompensationStatus.SELF_AUTHORISED))],
        [raw_insert(dialect, Redemption, now, dict(
            employee_id=alice, item_key=redeem.item_key, cost=cost,
            status=RedemptionStatus.PENDING), keeps="source"),
         for_driver(move.where(accounts.c.balance >= cost).values(
             balance=accounts.c.balance - cost), dialect, "balance"),
         entry(-cost, LedgerReason.REDEMPTION, "redemption", actor=alice),
         raw_insert(dialect, Outbox, now, *(dict(
             audience="person", employee_id=who, message_key="notify.redemption_review",
             params={"ref": "R1", "who": alice_name, "item": redeem.item_key, "cost": cost},
             actions=[asdict(action) for action in decision_actions("R1")]) for who in other_hr))],
    ]


def raw_rate(url: str, store: str, commands: int) -> float:
    """The same rows, plain driver, one transaction per command: the ceiling."""
    if store == "sqlite":
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("PRAGMA synchronous = NORMAL")
    else:
        connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                                     autocommit=True)
    cursor = connection.cursor()
    cursor.execute("SELECT id, handle, name, role FROM employee WHERE active ORDER BY id")
    scripts = raw_scripts(store, cursor.fetchall())
    started = time.perf_counter()
    for n in range(commands):
        values = {"key": f"raw:{n}"}
        cursor.execute("BEGIN IMMEDIATE" if store == "sqlite" else "BEGIN")
        for statement in scripts[n % len(scripts)]:
            cursor.execute(statement.sql, {**statement.fixed, **values})
            if statement.keeps:
                values[statement.keeps] = cursor.fetchone()[0]
        cursor.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return commands / elapsed


def measure(store: str, prefilled: int, commands: int, postgres: str) -> tuple:
    with fresh_store(store, postgres) as url:
        engine = make_engine(url)
        create_all(engine)
        with transaction(engine) as session:
            import_csv(session, CONFIG, STAFF)
        prefill(engine, prefilled)
        pipeline_rate(engine, min(commands, 300))  # warm caches and the connection pool
        pipeline = pipeline_rate(engine, commands)
        statements = statements_per_command(engine, min(commands, 300))
        engine.dispose()
        raw = raw_rate(url, store, commands)
        return pipeline, raw, statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=3000)
    parser.add_argument("--prefill", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parse_args(parser, smoke="--commands 150 --prefill 20000")
    print(f"{args.commands} commands, mix: praise / compensation / redemption\n")
    print("| store      | ledger entries | pipeline cmd/s | raw driver cmd/s | pipeline/raw "
          "| statements/cmd |")
    print("|------------|---------------:|---------------:|-----------------:|-------------:"
          "|---------------:|")
    for store in args.stores.split(","):
        for prefilled in (0, args.prefill):
            pipeline, raw, statements = measure(store, prefilled, args.commands, args.postgres)
            print(f"| {store:<10} | {prefilled:>14,} | {pipeline:>14,.0f} | {raw:>16,.0f} |"
                  f" {pipeline / raw:>11.0%} | {statements:>14.1f} |", flush=True)


if __name__ == "__main__":
    main()
