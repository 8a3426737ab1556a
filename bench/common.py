"""What the bench scripts share: the empty databases they measure on, a ledger grown in
bulk, and `--smoke`."""

import argparse
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REASONS = [("praise", 10), ("suggestion", 20), ("major_issue", 100), ("redemption", -15)]
SPACING = timedelta(seconds=30)  # between two ledger entries: a million is a year


@contextmanager
def fresh_store(store: str, postgres: str = POSTGRES) -> Iterator[str]:
    """The URL of a new, empty database: a file in a temporary folder for "sqlite", a
    database on the server `postgres` reaches for "postgresql"; removed afterwards."""
    if store == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    name = f"frontline_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def parse_args(parser: argparse.ArgumentParser, smoke: str) -> argparse.Namespace:
    """The command line, with `--smoke`: the size arguments in `smoke` (sizes that run in
    seconds) override those given, to check that the script runs and prints its table."""
    parser.add_argument("--smoke", action="store_true", help=f"run at {smoke}")
    args = parser.parse_args()
    # The smoke sizes parsed after what was typed: argparse keeps an option's last value.
    return parser.parse_args([*sys.argv[1:], *smoke.split()]) if args.smoke else args


def grow(engine, people: list[int], balances: dict[int, int], start: int, stop: int,
         since: datetime = datetime(2024, 1, 1, tzinfo=UTC)) -> None:
    """Ledger entries start..stop-1, SPACING apart from `since`, round the `people` in
    turn, each with the balance it leaves and every account's balance the last of them,
    as the ledger writes them (so `ledger verify` holds). `balances` carries on from the
    entries already there."""
    for batch_start in range(start, stop, 200_000):
        _append(engine, people, balances, batch_start, min(stop, batch_start + 200_000), since)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE ledgerentry"))


def _append(engine, people: list[int], balances: dict[int, int], start: int, stop: int,
            since: datetime) -> None:
    rows = []
    for n in range(start, stop):
        person = people[n % len(people)]
        reason, amount = REASONS[n % 7 % 4] if balances.get(person, 0) >= 15 else REASONS[0]
        balances[person] = balances.get(person, 0) + amount
        rows.append((f"bench:{n}", person, amount, balances[person], reason, "bench", "",
                     since + SPACING * n))
    columns = ("idempotency_key, employee_id, amount, balance_after, reason, source_type, "
               "note, created_at")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY ledgerentry ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:  # naive UTC text, as the models' column type stores it in SQLite
            cursor.executemany(f"INSERT INTO ledgerentry ({columns}) VALUES (?,?,?,?,?,?,?,?)",
                               [(*row[:7], row[7].astimezone(UTC).replace(tzinfo=None)
                                 .isoformat(sep=" ", timespec="microseconds")) for row in rows])
        cursor.execute("DELETE FROM pointsaccount")
        cursor.executemany("INSERT INTO pointsaccount (employee_id, balance) VALUES ("
                           + ("%s, %s)" if engine.dialect.name == "postgresql" else "?, ?)"),
                           list(balances.items()))
        raw.commit()
    finally:
        raw.close()
