"""The recovery loop at scale, on SQLite and PostgreSQL: customer feedback imported with
the cases its unhappy responses open (rows per second, beside the same rows with the
recovery rules off, the baseline), and the team cockpit (recovery figures and twelve-month trend
lines) and the cases page as feedback grows to 1,000,000 rows with the cases they opened
(median ms; the first size, no feedback at all, is the baseline). Target: pages under
50 ms, flat as the data grows.

    python bench/recovery.py [--import-rows 100000] [--sizes 0,1000000]
                             [--stores sqlite,postgresql] [--smoke]
"""

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from common import POSTGRES, fresh_store, parse_args  # bench/ is the script's own folder
from ledger_scale import CONFIG, TEAMS, seed_people, signed_in_client
from sqlalchemy import text
from voices import _analyze, grow_feedback, median_ms

from bot.kit.config import parse_config
from handlers import feedback
from handlers.calendar import month_bounds
from handlers.reports.recovery_figures import recovery_figures
from storage.engine import create_all, make_engine, transaction

RULES_OFF = parse_config({"recovery": {"rules": []}})
UNHAPPY = ("(kind = 'nps' AND score <= 6) OR (kind = 'csat' AND score <= 2) "
           "OR (kind = 'ces' AND score >= 6) OR kind = 'complaint'")
BATCH = 50_000


def seed(engine) -> list[int]:
    """The people, in teams that keep the organisation's timezone as the directory gives
    a new team: a team's month then starts and ends inside a UTC day, whose responses
    the cockpit reads beside the daily counts."""
    people = seed_people(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE team SET timezone = :tz"),
                           {"tz": CONFIG.organisation.timezone})
    return people


def import_rows(url: str, rows: int, policy) -> tuple[float, int]:
    """Seconds to import `rows` responses naming a person or a team, as `frontline
    feedback import` does (one file, one transaction), and the cases opened."""
    engine = make_engine(url)
    create_all(engine)
    seed(engine)
    rng = random.Random(3)
    lines = ["kind,team,employee,score,text,customer_ref,touchpoint,source,source_id,"
             "received_at"]
    for n in range(rows):
        kind = rng.choices(("nps", "csat", "ces", "complaint"), (60, 25, 5, 10))[0]
        score = {"nps": rng.randint(0, 10), "csat": rng.randint(1, 5),
                 "ces": rng.randint(1, 7), "complaint": ""}[kind]
        named = f"p{rng.randrange(1, 1000)}" if n % 3 == 0 else ""
        lines.append(f"{kind},Team {n % TEAMS},{named},{score},slow at the till,C{n},till,"
                     f"bench,{n},2026-11-{1 + n % 28:02d}T08:00:00Z")
    csv_text = "\n".join(lines) + "\n"
    began = time.perf_counter()
    with transaction(engine) as session:
        feedback.import_csv(session, csv_text, datetime(2026, 11, 29, tzinfo=UTC),
                            policy.themes, policy)
    seconds = time.perf_counter() - began
    with engine.connect() as connection:
        cases = connection.execute(text("SELECT count(*) FROM recoverycase")).scalar()
    engine.dispose()
    return seconds, int(cases)


def open_cases(engine, after_id: int) -> None:
    """The cases the unhappy responses after `after_id` opened: called back within the
    day mostly, two in three closed, some goodwill under their references."""
    with engine.connect() as connection:
        found = connection.execute(text(
            f"SELECT id, team_id, employee_id, kind, score, received_at FROM feedback "
            f"WHERE id > :after AND ({UNHAPPY}) ORDER BY id"), {"after": after_id}).all()
    rng = random.Random(after_id)
    cases, goodwill = [], []
    for feedback_id, team, person, kind, score, at in found:
        at = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
        called = at + timedelta(hours=rng.uniform(0.5, 30)) if rng.random() < 0.85 else None
        closed = called + timedelta(hours=2) if called and rng.random() < 0.66 else None
        cases.append({"f": feedback_id, "team": team, "person": person, "holder": person or 1,
                      "kind": kind, "score": score, "status": "closed" if closed else "open",
                      "outcome": rng.choice(("recovered", "not_recovered")) if closed else None,
                      "at": at, "due": at + timedelta(hours=24), "called": called,
                      "closed": closed})
    with engine.begin() as connection:
        first = connection.execute(text("SELECT coalesce(max(id), 0) FROM recoverycase")).scalar()
        for start in range(0, len(cases), BATCH):
            connection.execute(text(
                "INSERT INTO recoverycase (feedback_id, team_id, employee_id, holder_id, kind,"
                " score, text, customer_ref, touchpoint, status, outcome, opened_at, due_at,"
                " called_back_at, closed_at) VALUES (:f, :team, :person, :holder, :kind,"
                " :score, '', '', '', :status, :outcome, :at, :due, :called, :closed)"),
                cases[start:start + BATCH])
        for n, case in enumerate(cases[::20]):  # goodwill under one case in twenty
            goodwill.append({"e": case["holder"], "ref": f"K{first + 1 + n * 20}",
                             "at": case["at"] + timedelta(hours=3)})
        if goodwill:
            connection.execute(text(
                "INSERT INTO compensation (employee_id, amount_minor, currency, kind,"
                " customer_ref, reason, status, decision_comment, created_at) VALUES (:e, 5000,"
                " 'CNY', 'voucher', :ref, 'sorry', 'self_authorised', '', :at)"), goodwill)
    _analyze(engine, "recoverycase")
    _analyze(engine, "compensation")


def measure(engine, client) -> dict[str, float]:
    since, until = month_bounds("2026-11", CONFIG.organisation.tz)

    def figures():
        with transaction(engine) as session:
            recovery_figures(session, [1], since, until, datetime.now(UTC))

    def page(path: str):
        def get():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        return get

    return {"figures": median_ms(figures), "cockpit": median_ms(page(
        "/cockpit?team=1&month=2026-11")), "cases": median_ms(page("/cases?team=1"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--sizes", default="0,1000000")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=POSTGRES)
    args = parse_args(parser, smoke="--import-rows 2000 --sizes 0,20000")
    stores = args.stores.split(",")
    print(f"{args.import_rows:,} feedback rows imported in one transaction.\n")
    print("| store      | recovery rules   | cases opened | seconds | rows per second "
          "| vs baseline |")
    print("|------------|------------------|-------------:|--------:|----------------:"
          "|------------:|")
    for store in stores:
        baseline = None
        for label, policy in (("off (baseline)", RULES_OFF), ("on", CONFIG)):
            with fresh_store(store, args.postgres) as url:
                seconds, cases = import_rows(url, args.import_rows, policy)
            rate = args.import_rows / seconds
            baseline = baseline or rate
            print(f"| {store:<10} | {label:<16} | {cases:>12,} | {seconds:>7.1f} | "
                  f"{rate:>15,.0f} | {rate / baseline:>11.0%} |", flush=True)
    print("\nMedian ms, as HR; the cockpit of one team and month, the first cases page.\n")
    print("| store      | feedback rows |   cases | recovery figures | cockpit page "
          "| cases page | cockpit vs none |")
    print("|------------|--------------:|--------:|-----------------:|-------------:"
          "|-----------:|----------------:|")
    for store in stores:
        with fresh_store(store, args.postgres) as url:
            engine = make_engine(url)
            create_all(engine)
            people, filled = seed(engine), 0
            client, baseline = signed_in_client(engine), None
            for size in (int(s) for s in args.sizes.split(",")):
                if size > filled:
                    with engine.connect() as connection:
                        last = connection.execute(text(
                            "SELECT coalesce(max(id), 0) FROM feedback")).scalar()
                    grow_feedback(engine, people, filled, size)
                    open_cases(engine, last)
                filled = max(filled, size)
                with engine.connect() as connection:
                    cases = connection.execute(text("SELECT count(*) FROM recoverycase")).scalar()
                r = measure(engine, client)
                baseline = baseline or r["cockpit"]
                print(f"| {store:<10} | {size:>13,} | {cases:>7,} | {r['figures']:>16.1f} | "
                      f"{r['cockpit']:>12.1f} | {r['cases']:>10.1f} | "
                      f"{r['cockpit'] / baseline:>14.2f}x |", flush=True)
            engine.dispose()


if __name__ == "__main__":
    main()
