"""Frontline at the size of its users' companies: organisations of 1,000 to 50,000 people
(50 to a team, a supervisor each, HR at head office) with a month of goodwill and a
ledger of a million entries over the year before today, measured as they grow. Per
size: the directory import of the whole CSV and its unchanged re-import (a nightly HR
sync), the weekly digest of every team, chat commands, and every page of the web console
for HR and for a supervisor (time and size). The baseline is the raw driver reading
every person's row once, so growth reads against a full scan.

    python bench/org_scale.py [--sizes 1000,10000,50000] [--entries 1000000]
                              [--store sqlite|postgresql] [--smoke]
"""

import argparse
import random
import statistics
import time
import warnings
from datetime import UTC, datetime, timedelta

from common import POSTGRES, SPACING, fresh_store, grow, parse_args  # bench/: the script's folder
from sqlalchemy import insert
from sqlmodel import select

from bot import webui
from bot.app.web import create_app
from bot.kit.config import parse_config
from handlers.directory import import_csv
from handlers.dispatch import execute
from handlers.grammar import parse
from handlers.linking import issue_code
from rituals import schedule
from storage.engine import create_all, make_engine, refresh_statistics, transaction
from storage.models import Compensation, Employee

CONFIG = parse_config({"organisation": {"timezone": "Asia/Shanghai", "currency": "CNY"}})
TEAM, HR = 50, 3  # people per team, HR people
MONDAY = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai: the digest's moment
BUSY = "2026-11"  # the month of the goodwill: pages are measured showing it
PAGES = ("/ledger", "/redemptions", "/compensation", "/waivers", "/recognition", "/authority",
         "/fairness", "/signals", "/team", "/cockpit", "/cases", "/season", "/me")


def directory(people: int) -> str:
    """The HR export: `people` rows, teams of TEAM with their supervisor first."""
    rows = ["handle,name,role,team,supervisor,locale"]
    rows += [f"hr{n},HR Person {n},hr,Head Office,,en" for n in range(HR)]
    for n in range(people - HR):
        team, seat = divmod(n, TEAM)
        role, boss = ("supervisor", "") if seat == 0 else ("employee", f"s{team}")
        handle = f"s{team}" if seat == 0 else f"p{n}"
        rows.append(f"{handle},Person {n},{role},Team {team},{boss},"
                    f"{'zh' if n % 3 else 'en'}")
    return "\n".join(rows) + "\n"


def a_month_of_goodwill(engine, picks: random.Random) -> None:
    """One compensation a person in November, some near the limit, some waiting for
    their supervisor, some decided: what the signals and the digest read."""
    with transaction(engine) as session:
        people = session.exec(select(Employee.id, Employee.supervisor_id)).all()
    rows = []
    for employee_id, supervisor_id in people:
        day = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=picks.randrange(21 * 24))
        status = picks.choice(["self_authorised"] * 6 + ["pending", "approved"])
        decided = status == "approved" and supervisor_id is not None
        rows.append({"employee_id": employee_id, "currency": "CNY", "kind": "voucher",
                     "amount_minor": picks.choice([5000, 9000, 18000, 19500]),
                     "customer_ref": f"A{picks.randrange(len(people) * 4)}",
                     "reason": "late parcel", "status": status if supervisor_id else
                     "self_authorised", "created_at": day,
                     "approver_id": supervisor_id if status != "self_authorised" else None,
                     "decided_by_id": supervisor_id if decided else None,
                     "decided_at": day + timedelta(hours=2) if decided else None})
    with engine.begin() as connection:
        connection.execute(insert(Compensation), rows)


def a_year_of_points(engine, entries: int) -> None:
    """`entries` ledger entries round everyone, the newest now: what the ledger, fairness
    and recognition pages read."""
    with engine.connect() as connection:
        people = list(connection.execute(select(Employee.id).order_by(Employee.id)).scalars())
    grow(engine, people, {}, 0, entries, since=datetime.now(UTC) - SPACING * entries)


def seconds(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_ms(action, repeat: int) -> float:
    return statistics.median(seconds(action) for _ in range(repeat)) * 1000


def weekly_digests(engine) -> int:
    """Every team's weekly digest for the week before MONDAY, one claim each, as the
    scheduler runs them."""
    targets = schedule.targets(engine, CONFIG, ["weekly_digest"])
    for target in targets:
        schedule.run_once(engine, CONFIG, target, MONDAY, MONDAY)
    return len(targets)


def signed_in(engine, handle: str):
    with warnings.catch_warnings():  # the test client's notice about its HTTP library
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    client = TestClient(create_app([webui.router(engine, CONFIG)]),
                        base_url="https://testserver", follow_redirects=False)
    with transaction(engine) as session:
        person = session.exec(select(Employee).where(Employee.handle == handle)).one()
        code = issue_code(session, person, "login", datetime.now(UTC), timedelta(minutes=5))
    assert client.post(f"/login/{code}").status_code == 303
    return client


def page(client, path: str) -> str:
    """The page's median time and size, or the status it answers (a page HR alone sees
    refuses a supervisor)."""
    answers = []
    ms = median_ms(lambda: answers.append(client.get(path)), 3)
    if answers[-1].status_code != 200:
        return str(answers[-1].status_code)
    return f"{ms:.0f} ms, {len(answers[-1].content) / 1000:.0f} KB"


def measure(url: str, people: int, entries: int) -> dict[str, str]:
    engine = make_engine(url)
    create_all(engine)
    staff = directory(people)
    found = {}
    with transaction(engine) as session:
        found["import s"] = seconds(lambda: import_csv(session, CONFIG, staff))
    with transaction(engine) as session:
        found["re-import s"] = seconds(lambda: import_csv(session, CONFIG, staff))
    a_month_of_goodwill(engine, random.Random(people))
    found["ledger s"] = seconds(lambda: a_year_of_points(engine, entries))
    refresh_statistics(engine)  # as `directory import` and the daily retention run do
    with engine.connect() as connection:  # the baseline: every person's row, read raw
        raw = connection.connection.driver_connection
        found["full scan ms"] = median_ms(
            lambda: raw.cursor().execute("SELECT * FROM employee").fetchall(), 5)
    found["digest s"] = seconds(lambda: weekly_digests(engine))
    for handle, who in (("s1", "supervisor"), ("hr0", "HR")):
        for line in ("me", "pending", "signals", f"signals {BUSY}"):
            found[f"{line} ({who}) ms"] = median_ms(
                lambda line=line, handle=handle: execute(engine, CONFIG, "console", handle,
                                                         parse(line)), 5)
    for handle, who in (("s1", "supervisor"), ("hr0", "HR")):
        client = signed_in(engine, handle)
        for path in PAGES:
            found[f"{path} ({who})"] = page(client, f"{path}?month={BUSY}")
    engine.dispose()
    return {name: value if isinstance(value, str) else f"{value:.2f}" if value < 10
            else f"{value:.0f}" for name, value in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--entries", type=int, default=1_000_000, help="ledger entries")
    parser.add_argument("--store", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--postgres", default=POSTGRES)
    args = parse_args(parser, smoke="--sizes 300 --entries 3000")
    sizes = [int(size) for size in args.sizes.split(",")]
    results = {}
    for people in sizes:
        with fresh_store(args.store, args.postgres) as url:
            results[people] = measure(url, people, args.entries)
    print(f"Store: {args.store}; {TEAM} people a team; {args.entries:,} ledger entries; "
          "times as noted (ms: median).\n")
    print("| measure | " + " | ".join(f"{people:,} people" for people in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for name in results[sizes[0]]:
        print(f"| {name} | " + " | ".join(results[p][name] for p in sizes) + " |")


if __name__ == "__main__":
    main()
