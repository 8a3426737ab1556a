"""The team cockpit and a council item's validation as customer feedback grows to
1,000,000 rows (beside 100,000 anonymous pulse answers), on SQLite and PostgreSQL: the
cockpit's figures for one team and month, the whole cockpit page through the app as HR
sees it, and a validation (the theme's voices over equal windows before and after a
fix). Target: pages under 50 ms, flat as the data grows. The first row, with no
feedback at all, is the baseline each later row is a ratio to.

    python bench/voices.py [--sizes 0,100000,300000,1000000] [--stores sqlite,postgresql]
                           [--pulse-answers 100000] [--smoke]
"""

import argparse
import random
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta

from common import POSTGRES, fresh_store, parse_args  # bench/ is the script's own folder
from ledger_scale import CONFIG, TEAMS, seed_people, signed_in_client
from sqlalchemy import text

from handlers import feedback_days
from handlers.calendar import month_bounds
from handlers.reports.mirror import cockpit
from handlers.reports.theme_voices import theme_voices
from handlers.themes import tags
from storage.engine import create_all, make_engine, transaction

START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=730)  # two years of feedback
TEXTS = ["", "", "", "the order system was down", "no refund without a receipt",
         "waited in the queue for ages", "lovely staff", "product broken on arrival", ""]


def grow_feedback(engine, people: list[int], start: int, stop: int) -> None:
    rng = random.Random(start)
    rows = []
    for n in range(start, stop):
        kind = rng.choices(("nps", "csat", "ces", "complaint"), (60, 25, 5, 10))[0]
        score = {"nps": rng.randint(0, 10), "csat": rng.randint(1, 5), "ces": rng.randint(1, 7),
                 "complaint": None}[kind]
        words = rng.choice(TEXTS) or ("rude" if kind == "complaint" else "")
        rows.append({"kind": kind, "score": score, "text": words, "team": n % TEAMS + 1,
                     "employee": people[n % len(people)] if n % 3 == 0 else None,
                     "source": "bench", "source_id": str(n),
                     "themes": tags(words, CONFIG.themes),
                     "at": START + SPAN * rng.random()})
        if len(rows) == 50_000 or n == stop - 1:
            with engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO feedback (kind, score, text, team_id, employee_id, customer_ref,"
                    " touchpoint, source, source_id, received_at, created_at, themes) VALUES"
                    " (:kind, :score, :text, :team, :employee, '', '', :source, :source_id,"
                    " :at, :at, :themes)"),
                    rows)
            rows = []
    with engine.begin() as connection:  # what recording each response would have counted
        feedback_days.rebuild(connection)
    _analyze(engine, "feedback")
    _analyze(engine, "feedbackday")


def seed_pulses(engine, answers: int) -> None:
    """A pulse every second week for every team over the two years, `answers` answers."""
    pulses = [{"team": team, "period": f"P{week}", "at": START + timedelta(weeks=week)}
              for team in range(1, TEAMS + 1) for week in range(0, 104, 2)]
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO pulse (team_id, period, opened_at, closes_at) "
            "VALUES (:team, :period, :at, :at)"), pulses)
        ids = [row[0] for row in connection.execute(text("SELECT id FROM pulse"))]
        rng = random.Random(7)
        connection.execute(text(
            "INSERT INTO pulseanswer (pulse_id, voter, enps, comment, themes) "
            "VALUES (:pulse, :voter, :enps, :comment, :themes)"),
            [{"pulse": ids[n % len(ids)], "voter": secrets.token_hex(32),
              "enps": rng.randint(0, 10), "comment": comment,
              "themes": tags(comment, CONFIG.themes)}
             for n, comment in ((n, rng.choice(TEXTS)) for n in range(answers))])
    _analyze(engine, "pulseanswer")


def _analyze(engine, table: str) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"VACUUM ANALYZE {table}"))


def median_ms(call, runs: int = 15) -> float:
    call()  # warm
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def measure(engine, client) -> dict[str, float]:
    since, until = month_bounds("2026-11", CONFIG.organisation.tz)
    fixed = datetime(2026, 6, 1, tzinfo=UTC)
    window = timedelta(days=30)

    def figures():
        with transaction(engine) as session:
            cockpit(session, CONFIG, 1, since, until)

    def page():
        response = client.get("/cockpit?team=1&month=2026-11")
        assert response.status_code == 200, response.status_code

    def validation():
        with transaction(engine) as session:
            theme_voices(session, CONFIG, "it-systems", 1, fixed - window, fixed)
            theme_voices(session, CONFIG, "it-systems", 1, fixed, fixed + window)

    return {"figures": median_ms(figures), "page": median_ms(page),
            "validation": median_ms(validation)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,100000,300000,1000000")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--pulse-answers", type=int, default=100_000)
    args = parse_args(parser, smoke="--sizes 0,20000 --pulse-answers 5000")
    print(f"Median ms; {args.pulse_answers:,} pulse answers beside the feedback.\n")
    print("| store      | feedback rows | cockpit figures | cockpit page | validation "
          "| page vs none |")
    print("|------------|--------------:|----------------:|-------------:|-----------:"
          "|-------------:|")
    for store in args.stores.split(","):
        with fresh_store(store, args.postgres) as url:
            engine = make_engine(url)
            create_all(engine)
            people, filled = seed_people(engine), 0
            seed_pulses(engine, args.pulse_answers)
            client = signed_in_client(engine)
            baseline = None
            for size in (int(s) for s in args.sizes.split(",")):
                if size > filled:
                    grow_feedback(engine, people, filled, size)
                filled = max(filled, size)
                r = measure(engine, client)
                baseline = baseline or r["page"]
                print(f"| {store:<10} | {size:>13,} | {r['figures']:>15.1f} | "
                      f"{r['page']:>12.1f} | {r['validation']:>10.1f} | "
                      f"{r['page'] / baseline:>11.2f}x |", flush=True)
            engine.dispose()


if __name__ == "__main__":
    main()
