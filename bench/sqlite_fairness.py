"""How long one person's command waits on SQLite while N other threads of the same
process run commands back to back, with the fair writer queue (storage/fair_lock.py)
and without it (SQLite's busy handler alone).

Each row runs N busy writers (a supervisor praising, one command after another)
and one person who sends a suggestion every 20 ms; it reports that person's p99
and max wait, and the busy writers' rate, with the queue off and on.

    python bench/sqlite_fairness.py [--samples 50] [--writers 1 2 5 10] [--smoke]
"""

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from common import parse_args  # bench/ is the script's own folder

from bot.demo import DEMO_STAFF
from bot.kit.config import DEMO_CATALOG, parse_config
from handlers.directory import import_csv
from handlers.dispatch import execute
from handlers.grammar import parse
from storage.engine import create_all, make_engine, transaction

CONFIG = parse_config({"catalog": DEMO_CATALOG})
BUSY = ("wang", parse("praise @alice the customer wrote to thank her"))
SINGLE = ("lilei", parse("suggest an umbrella stand at the door"))


def run(writers: int, samples: int, fair: bool) -> tuple[list[float], float]:
    """The single command's waits (ms) and the busy writers' commands per second."""
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'fair.db'}", fair_writers=fair,
                             pool_size=writers + 2)
        create_all(engine)
        with transaction(engine) as session:
            import_csv(session, CONFIG, DEMO_STAFF)
        stop, done = threading.Event(), [0] * writers

        def busy(n: int) -> None:
            while not stop.is_set():
                reply, _ = execute(engine, CONFIG, "console", BUSY[0], BUSY[1])
                assert reply.ok, reply
                done[n] += 1

        threads = [threading.Thread(target=busy, args=(n,)) for n in range(writers)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        waits = []
        for _ in range(samples):
            time.sleep(0.02)
            asked = time.perf_counter()
            reply, _ = execute(engine, CONFIG, "console", SINGLE[0], SINGLE[1])
            assert reply.ok, reply
            waits.append((time.perf_counter() - asked) * 1000)
        stop.set()
        for thread in threads:
            thread.join()
        rate = sum(done) / (time.perf_counter() - started)
        engine.dispose()
        return waits, rate


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 2, 5, 10])
    args = parse_args(parser, smoke="--samples 10 --writers 1 2")
    print(f"{args.samples} single commands per row; waits in ms\n")
    print("| busy writers | p99 without | max without | p99 fair | max fair "
          "| p99 fair/without | max fair/without | busy cmd/s without | busy cmd/s fair |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for writers in args.writers:
        unfair, unfair_rate = run(writers, args.samples, fair=False)
        fair, fair_rate = run(writers, args.samples, fair=True)
        print(f"| {writers} | {p99(unfair):,.1f} | {max(unfair):,.1f} | {p99(fair):,.1f} "
              f"| {max(fair):,.1f} | {p99(fair) / p99(unfair):.3f} "
              f"| {max(fair) / max(unfair):.3f} | {unfair_rate:,.0f} | {fair_rate:,.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
