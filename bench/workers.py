"""Several workers on one PostgreSQL under sustained Slack load, one killed midway.

For N = 1, 2 and 4, `frontline run --workers N` serves Slack over HTTP on a fresh
PostgreSQL database; signed `/frontline praise @alice …` commands, each with its
own number, arrive open loop at a fixed rate, and halfway through one worker is
killed (SIGKILL; the parent starts another; with N = 1 there is no parent, so
another `frontline run` is started at once, as a process manager would). What
the killed worker had acknowledged is in the durable inbox; a live worker takes it
once its lease runs out. Printed per N: requests acknowledged, asked to send
again, and failed (refused connections while no worker listened); praises
recorded per second until the last answer; ack p50/p99; the effects lost
(acknowledged without "send it again" but never recorded) and doubled (recorded
twice); and the requests answered twice.

    python bench/workers.py [--rate 200] [--seconds 10] [--workers 1,2,4] [--postgres URL]
                            [--smoke]
"""

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import POSTGRES, fresh_store, parse_args  # bench/ is the script's own folder
from slack_ack import (
    SECRET,
    TOKEN,
    free_port,
    percentiles,
    post_for_body,
    signed,
    slack_sink,
    start,
    wait_until_up,
)
from sqlalchemy import func
from sqlmodel import select

from storage.engine import make_engine, transaction
from storage.models import ChatIdentity, Employee, Praise


def frontline(config: Path, *args: str, stdin: str = "") -> None:
    subprocess.run([sys.executable, "-m", "bot.cli", "--config", str(config), *args],
                   input=stdin, capture_output=True, text=True, check=True, timeout=120)


async def load(port: int, sink: str, rate: float, seconds: float, kill) -> dict:
    count, began = int(rate * seconds), time.perf_counter()
    acks, ok, busy, failed = [], set(), set(), set()

    async def one(n: int) -> None:
        await asyncio.sleep(max(0.0, began + n / rate - time.perf_counter()))
        if n == count // 2:
            kill()
        request = signed(sink, n, f"praise @alice bench {n} thanks", user="UWANG")
        try:
            elapsed, body = await post_for_body("127.0.0.1", port, request)
        except (OSError, AssertionError, asyncio.IncompleteReadError) as error:
            if not failed:
                print(f"request {n}: {error!r}"[:300], file=sys.stderr)
            failed.add(n)
            return
        acks.append(elapsed)
        (busy if b"busy" in body else ok).add(n)

    await asyncio.gather(*(one(n) for n in range(count)))
    return {"acks": acks, "ok": ok, "busy": busy, "failed": failed, "count": count}


def run(url: str, workers: int, rate: float, seconds: float) -> tuple:
    engine = make_engine(url)
    with tempfile.TemporaryDirectory() as folder:
        sink = slack_sink()
        sink_url, sink_server = start(sink)
        port = free_port()
        config = Path(folder) / "frontline.toml"
        config.write_text(f'[database]\nurl = "{url}"\n\n[web]\nport = {port}\n\n'
                          f'[platforms.slack]\nenabled = true\napi_base = "{sink_url}/api/"\n',
                          encoding="utf-8")
        frontline(config, "db", "upgrade")
        frontline(config, "chat", "--as", "wang", stdin="me\n")  # the demo directory
        with transaction(engine) as session:
            wang = session.exec(select(Employee).where(Employee.handle == "wang")).one()
            if not session.exec(select(ChatIdentity).where(
                    ChatIdentity.platform_user_id == "UWANG")).first():
                session.add(ChatIdentity(employee_id=wang.id, platform="slack",
                                         platform_user_id="UWANG"))
        log = open(Path(folder) / "run.log", "w+")  # noqa: SIM115
        command = [sys.executable, "-m", "bot.cli", "--config", str(config), "run",
                   *(["--workers", str(workers)] if workers > 1 else [])]
        env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
               "PYTHONUNBUFFERED": "1"}
        parent = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes = [parent]
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz")
            time.sleep(2)  # every worker up

            def kill() -> None:
                log.seek(0)
                found = re.search(r"pids ([\d, ]+)\)", log.read())
                victim = int(found.group(1).split(",")[0]) if found else parent.pid
                os.kill(victim, signal.SIGKILL)
                if workers == 1:  # restarted, as by a process manager
                    parent.wait()
                    processes.append(subprocess.Popen(command, env=env, stdout=log,
                                                      stderr=subprocess.STDOUT))

            began = time.perf_counter()
            found = asyncio.run(load(port, sink_url, rate, seconds, kill))
            deadline = time.monotonic() + 60
            while len(sink.state.arrived) < len(found["ok"]) and time.monotonic() < deadline:
                time.sleep(0.1)
            # until the last answer (not the wait for those that never come)
            elapsed = max([*sink.state.arrived.values(), began + seconds]) - began
        finally:
            if os.environ.get("BENCH_LOG"):
                log.seek(0)
                print(log.read()[-3000:], file=sys.stderr)
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=60)
            sink_server.should_exit = True
    with transaction(engine) as session:
        texts = [t for t, in session.execute(select(Praise.text)).all()]
        recorded = session.execute(select(func.count()).select_from(Praise)).scalar_one()
    engine.dispose()
    numbers = [int(m.group(1)) for t in texts if (m := re.search(r"bench (\d+) ", t))]
    lost = len(found["ok"] - set(numbers))
    doubled = len(numbers) - len(set(numbers))
    twice = sum(1 for times in sink.state.answers.values() if times > 1)
    p50, p99 = percentiles(found["acks"])
    return (workers, found["count"], len(found["ok"]), len(found["busy"]),
            len(found["failed"]), recorded / elapsed, p50, p99, lost, doubled, twice)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--postgres", default=POSTGRES)
    args = parse_args(parser, smoke="--rate 20 --seconds 1 --workers 1,2")
    rows = []
    for n in args.workers.split(","):
        with fresh_store("postgresql", args.postgres) as url:
            rows.append(run(url, int(n), args.rate, args.seconds))
    print(f"PostgreSQL, {args.rate:g} signed praise commands/s for {args.seconds:g} s, "
          "one worker killed (SIGKILL) halfway")
    print(f"{'workers':>7}{'sent':>6}{'acked':>7}{'retry':>7}{'failed':>8}{'praises/s':>11}"
          f"{'ack p50 ms':>12}{'p99':>8}{'lost':>6}{'doubled':>9}{'answered twice':>16}")
    for n, sent, acked, busy, failed, per_s, p50, p99, lost, doubled, twice in rows:
        print(f"{n:>7}{sent:>6}{acked:>7}{busy:>7}{failed:>8}{per_s:>11.0f}{p50:>12.1f}"
              f"{p99:>8.1f}{lost:>6}{doubled:>9}{twice:>16}")


if __name__ == "__main__":
    main()
