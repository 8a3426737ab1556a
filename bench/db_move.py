"""`frontline db move` from SQLite to PostgreSQL as the ledger grows: a migrated SQLite
database with 1,000 people and N ledger entries moved to an empty PostgreSQL database,
checks included, in rows per second; then the copy alone, and the checks' share of the
move. The baseline is the raw driver's fastest path for the same ledger rows (psycopg's
COPY from sqlite3), so the move's rate reads as a ratio.

    python bench/db_move.py [--entries 1000000] [--postgres URL] [--smoke]
"""

import argparse
import sqlite3
import time
from contextlib import closing

from common import POSTGRES, fresh_store, grow, parse_args  # bench/: the script's folder
from ledger_scale import seed_people
from sqlalchemy import make_url
from sqlalchemy.pool import NullPool

from bot.dbtools import checks, move
from storage import migrate
from storage.engine import make_engine

COLUMNS = ("id, idempotency_key, employee_id, amount, balance_after, reason, source_type, "
           "note, created_at")


def migrated(url: str) -> None:
    engine = make_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        migrate.upgrade(url, connection=connection)
    engine.dispose()


def raw_copy(sqlite_url: str, postgres_url: str) -> int:
    """The ledger's rows from sqlite3 into PostgreSQL through COPY, nothing else."""
    import psycopg

    target = make_url(postgres_url).set(drivername="postgresql")
    with closing(sqlite3.connect(make_url(sqlite_url).database)) as source, \
            psycopg.connect(target.render_as_string(hide_password=False)) as connection:
        rows = 0
        with connection.cursor().copy(f"COPY ledgerentry ({COLUMNS}) FROM STDIN") as copy:
            for row in source.execute(f"SELECT {COLUMNS} FROM ledgerentry ORDER BY id"):
                copy.write_row(row)
                rows += 1
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=POSTGRES)
    args = parse_args(parser, smoke="--entries 20000")
    with fresh_store("sqlite") as source:
        migrated(source)
        engine = make_engine(source)
        grow(engine, seed_people(engine), {}, 0, args.entries)
        rows = sum(checks.counts(engine).values())
        engine.dispose()
        with fresh_store("postgresql", args.postgres) as baseline_url:
            migrated(baseline_url)
            seeded = make_engine(baseline_url, poolclass=NullPool)
            seed_people(seeded)  # the same people, for the entries' foreign keys
            seeded.dispose()
            started = time.perf_counter()
            copied = raw_copy(source, baseline_url)
            baseline = time.perf_counter() - started
        with fresh_store("postgresql", args.postgres) as target:
            started = time.perf_counter()
            done = move.run(source, target)  # migrates, copies, checks (counts, balances,
            moved = time.perf_counter() - started  # ledger verify, sampled rows)
    rate = copied / baseline

    def line(path: str, count: int, seconds: float) -> str:
        return (f"| {path:<37} | {count:>9,} | {seconds:>7.1f} | {count / seconds:>9,.0f} | "
                f"{count / seconds / rate:>5.2f} |")

    print(f"SQLite → PostgreSQL, {args.entries:,} ledger entries ({rows:,} rows in all)\n")
    print("| path                                  |      rows | seconds |    rows/s | ratio |")
    print("|---------------------------------------|----------:|--------:|----------:|------:|")
    print(line("raw COPY of the ledger (baseline)", copied, baseline))
    print(line("frontline db move (with its checks)", rows, moved))
    print(line("its copy alone", rows, done.copying))
    rest = moved - done.copying - done.checking
    print(f"\nits checks took {done.checking:.1f} s, {done.checking / moved:.0%} of the move "
          f"(the rest, {rest:.1f} s: opening both, the target's migrations and its marker)")


if __name__ == "__main__":
    main()
