"""The ledger's pages as the ledger grows to 1,000,000 entries, on SQLite and on
PostgreSQL: a balance lookup, the first and the 1000th page of the ledger (the
whole web page, rendered through the app, as HR sees it), one person's history
page, and the CSV export rate. Target: pages under 50 ms, flat as the ledger grows.

    python bench/ledger_scale.py [--sizes 100000,300000,1000000] [--stores sqlite,postgresql]
                                 [--smoke]
"""

import argparse
import random
import statistics
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from common import POSTGRES, fresh_store, grow, parse_args  # bench/: the script's folder
from sqlalchemy import text
from sqlmodel import select

from bot import webui
from bot.app.web import create_app
from bot.kit.config import parse_config
from handlers.linking import issue_code
from points import export, history, ledger
from points.history import LedgerFilter
from storage.engine import create_all, make_engine, transaction
from storage.models import Employee

CONFIG = parse_config({})
PEOPLE, TEAMS, PAGE = 1000, 20, 50


def seed_people(engine) -> list[int]:
    with engine.begin() as connection:
        for team in range(TEAMS):
            connection.execute(text("INSERT INTO team (name, timezone) VALUES (:n, 'UTC')"),
                               {"n": f"Team {team}"})
        connection.execute(text(
            "INSERT INTO employee (handle, name, role, team_id, locale, active) "
            "VALUES (:h, :n, :r, :t, 'en', true)"),
            [{"h": f"p{i}", "n": f"Person {i}", "r": "hr" if i == 0 else "employee",
              "t": i % TEAMS + 1} for i in range(PEOPLE)])
        return [row[0] for row in connection.execute(text("SELECT id FROM employee"))]


def timed(action: Callable[[], object], repeat: int) -> float:
    """Median milliseconds of `repeat` runs, after one warm-up."""
    action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def signed_in_client(engine):
    """HR, signed in the way a browser is: by posting a one-time sign-in link."""
    with warnings.catch_warnings():  # the test client's notice about its HTTP library
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    client = TestClient(create_app([webui.router(engine, CONFIG)]),
                        base_url="https://testserver", follow_redirects=False)
    with transaction(engine) as session:
        hr = session.exec(select(Employee).where(Employee.handle == "p0")).one()
        code = issue_code(session, hr, "login", datetime.now(UTC), timedelta(minutes=5))
    assert client.post(f"/login/{code}").status_code == 303
    return client


def ledger_page(client, query: str = "") -> None:
    response = client.get("/ledger" + query)
    assert response.status_code == 200 and response.text.count("<tr><td>") == PAGE, query


def measure(engine, people: list[int], client) -> dict[str, float]:
    picks = random.Random(7)
    with transaction(engine) as session:
        cursor = session.execute(text(
            f"SELECT id FROM ledgerentry ORDER BY id DESC LIMIT 1 OFFSET {PAGE * 999}")
        ).scalar()
    results = {}
    with transaction(engine) as session:
        results["balance"] = timed(lambda: ledger.balance(session, picks.choice(people)), 200)
        results["query 1st"] = timed(lambda: history.page(session, LedgerFilter()), 30)
        results["query 1000th"] = timed(
            lambda: history.page(session, LedgerFilter(), before=cursor + 1), 30)
    results["page 1st"] = timed(lambda: ledger_page(client), 20)
    results["page 1000th"] = timed(lambda: ledger_page(client, f"?before={cursor + 1}"), 20)
    results["person page"] = timed(
        lambda: ledger_page(client, f"?person=p{picks.randrange(PEOPLE)}"), 20)
    with transaction(engine) as session:
        started = time.perf_counter()
        exported = sum(len(chunk) for chunk in export.csv_chunks(
            export.rows(session, LedgerFilter())))
        elapsed = time.perf_counter() - started
    count = engine.connect().execute(text("SELECT count(*) FROM ledgerentry")).scalar()
    results["csv rows/s"] = count / elapsed
    results["csv MB"] = exported / 1e6
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000,1000000",
                        help="ledger sizes to measure at (at least 50,000: page 1000 exists)")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=POSTGRES)
    args = parse_args(parser, smoke="--sizes 50000")
    sizes = [int(size) for size in args.sizes.split(",")]
    print("Median ms per call (balance, queries, whole pages through the app); export in rows/s.\n")
    print("| store      |   entries | balance | query 1st | query 1000th | page 1st | "
          "page 1000th | person page | CSV export rows/s |")
    print("|------------|----------:|--------:|----------:|-------------:|---------:|"
          "------------:|------------:|------------------:|")
    for store in args.stores.split(","):
        with fresh_store(store, args.postgres) as url:
            engine = make_engine(url)
            create_all(engine)
            people, balances, filled = seed_people(engine), {}, 0
            client = signed_in_client(engine)
            for size in sizes:
                grow(engine, people, balances, filled, size)
                filled = size
                r = measure(engine, people, client)
                print(f"| {store:<10} | {size:>9,} | {r['balance']:>7.2f} | "
                      f"{r['query 1st']:>9.2f} | {r['query 1000th']:>12.2f} | "
                      f"{r['page 1st']:>8.1f} | {r['page 1000th']:>11.1f} | "
                      f"{r['person page']:>11.1f} | {r['csv rows/s']:>17,.0f} |", flush=True)
            engine.dispose()


if __name__ == "__main__":
    main()
