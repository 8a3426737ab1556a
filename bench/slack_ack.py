"""Slack ack latency: N concurrent, correctly signed slash commands on loopback
against the HTTP app (Bolt on the shared FastAPI app under uvicorn), on SQLite and
on PostgreSQL. Prints p50/p99 of the time until Slack would have its ack, and the
request rate. The command's work (and its answer to the response_url, here a
local sink) runs after the ack, so it is not in the latency.

`--sustained` is open loop instead: requests leave on a fixed schedule (50, 100,
200 and 400 a second for 10 s each), whether or not earlier ones were answered, to
Frontline and, in the same run and interleaved, to two bare slack-bolt apps: one
that only acks, one that acks and answers a fixed text at the response_url. It
prints Frontline's ack p50/p99 beside the first's, how long Frontline's answers and
the second's took to reach the response_url, and the highest rate each answered
whole within a second at p99.

    python bench/slack_ack.py [--requests 200] [--postgres URL] [--smoke]
    python bench/slack_ack.py --sustained [--rates 50,100,200,400] [--seconds 10]
                              [--store sqlite|postgresql] [--smoke]
"""

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import threading
import time
import uuid
from urllib.parse import urlencode

import httpx
import uvicorn
from common import POSTGRES, fresh_store, parse_args  # bench/ is the script's own folder
from fastapi import FastAPI, Request
from slack_sdk.signature import SignatureVerifier
from sqlmodel import select

from bot.app.web import create_app
from bot.demo import DEMO_STAFF
from bot.kit.config import DEMO_CATALOG, parse_config
from bot.platforms.slack.adapter import SlackAdapter
from handlers.directory import import_csv
from storage.engine import create_all, make_engine, transaction
from storage.models import ChatIdentity, Employee

SECRET, TOKEN = "bench-signing-secret", "xoxb-bench"
WARM_UP = 10


def slack_sink() -> FastAPI:
    """auth.test for Bolt, and the response_url the answers go to."""
    app = FastAPI()
    answered = app.state.answered = []

    @app.post("/api/auth.test")
    def auth_test():
        return {"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "B1"}

    arrived = app.state.arrived = {}  # request number -> when its answer came
    answers = app.state.answers = {}  # request number -> how many answers came

    @app.post("/respond")
    async def respond(request: Request):
        answered.append(await request.body())
        return {"ok": True}

    @app.post("/respond/{number}")
    async def respond_to(number: int, request: Request):
        await request.body()
        arrived[number] = time.perf_counter()
        answers[number] = answers.get(number, 0) + 1
        return {"ok": True}

    return app


def start(app) -> tuple[str, uvicorn.Server]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}", server


async def post_raw(host: str, port: int, request: bytes) -> float:
    """One request on its own connection; seconds until the whole response is in.
    A bare asyncio client: with hundreds of connections at once a pooled client's
    own bookkeeping would dominate what is measured."""
    return (await post_for_body(host, port, request))[0]


async def post_for_body(host: str, port: int, request: bytes) -> tuple[float, bytes]:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        began = time.perf_counter()
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length")), b"0"))
        body = await reader.readexactly(length)
        elapsed = time.perf_counter() - began
        assert head.startswith(b"HTTP/1.1 200"), head
        return elapsed, body
    finally:
        writer.close()


async def fire(port: int, sink: str, count: int) -> tuple[list[float], float]:
    signer = SignatureVerifier(SECRET)
    requests = []
    for n in range(count + WARM_UP):
        body = urlencode({"command": "/frontline", "text": "me", "user_id": "UALICE",
                          "team_id": "T1", "trigger_id": f"t{n}-{uuid.uuid4().hex[:6]}",
                          "response_url": f"{sink}/respond"})
        stamp = str(int(time.time()))
        requests.append((
            "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Slack-Request-Timestamp: {stamp}\r\n"
            f"X-Slack-Signature: {signer.generate_signature(timestamp=stamp, body=body)}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode())
    await asyncio.gather(*(post_raw("127.0.0.1", port, r) for r in requests[:WARM_UP]))
    began = time.perf_counter()
    latencies = await asyncio.gather(*(post_raw("127.0.0.1", port, r)
                                       for r in requests[WARM_UP:]))
    return list(latencies), time.perf_counter() - began


def serve_bot(url: str, sink_url: str, port: int, threads: int | None = None) -> None:
    """The bot in its own process, as in production (the load comes from elsewhere)."""
    engine = make_engine(url)
    pool = {} if threads is None else {"work_threads": threads}
    config = parse_config({"catalog": DEMO_CATALOG, "platforms": {"slack": {
        "enabled": True, "api_base": f"{sink_url}/api/", **pool}}})
    adapter = SlackAdapter(engine, config, TOKEN, SECRET)
    uvicorn.run(create_app([adapter.router()]), host="127.0.0.1", port=port,
                log_level="warning")


def measure(store: str, url: str, count: int) -> tuple[str, float, float, float, float]:
    prepare(url)
    sink = slack_sink()
    sink_url, sink_server = start(sink)
    port = free_port()
    bot = multiprocessing.get_context("spawn").Process(target=serve_bot,
                                                       args=(url, sink_url, port))
    bot.start()
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz")
        began = time.perf_counter()
        latencies, elapsed = asyncio.run(fire(port, sink_url, count))
        while len(sink.state.answered) < count + WARM_UP:  # every answer after its ack
            time.sleep(0.01)
        answered = time.perf_counter() - began
    finally:
        bot.terminate()
        bot.join()
        sink_server.should_exit = True
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return store, p50, p99, count / elapsed, count / answered


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the bot did not start")


def signed(sink: str, number: int, text_: str = "me", user: str = "UALICE") -> bytes:
    """A signed `/frontline` request whose answer goes to `{sink}/respond/{number}`."""
    body = urlencode({"command": "/frontline", "text": text_, "user_id": user,
                      "team_id": "T1", "trigger_id": f"t{number}-{uuid.uuid4().hex[:6]}",
                      "response_url": f"{sink}/respond/{number}"})
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
    return ("POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Slack-Request-Timestamp: {stamp}\r\nX-Slack-Signature: {signature}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode()


async def open_loop(port: int, requests: list[bytes], rate: float,
                    ) -> tuple[list[float], list[float], set[int]]:
    """Send `requests` at `rate` a second on schedule; (ack seconds, send times, the
    requests whose ack asked to send them again)."""
    began = time.perf_counter()
    sent: list[float] = [0.0] * len(requests)
    busy: set[int] = set()

    async def one(n: int, request: bytes) -> float:
        await asyncio.sleep(max(0.0, began + n / rate - time.perf_counter()))
        sent[n] = time.perf_counter()
        elapsed, body = await post_for_body("127.0.0.1", port, request)
        if b"busy" in body:
            busy.add(n)
        return elapsed

    acks = await asyncio.gather(*(one(n, r) for n, r in enumerate(requests)))
    return list(acks), sent, busy


def serve_bare_bolt(sink_url: str, port: int, answers: bool = False) -> None:
    """The comparison: a slack-bolt app, as its docs show one, that only acks; with
    `answers`, one that acks and then answers at the response_url with a fixed text
    (Bolt's `respond`, after the ack): the protocol's own cost on this machine."""
    from slack_bolt import App
    from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
    from slack_sdk import WebClient
    from starlette.concurrency import run_in_threadpool

    bolt = App(client=WebClient(token=TOKEN, base_url=f"{sink_url}/api/"),
               signing_secret=SECRET)
    if answers:
        def ack_and_answer(ack, respond) -> None:
            ack()
            respond(text="ok", response_type="ephemeral")
        bolt.command("/frontline")(ack_and_answer)
    else:
        bolt.command("/frontline")(lambda ack: ack())
    app = FastAPI()

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    @app.post("/slack/events")
    async def events(request: Request):
        bolt_request = to_bolt_request(request, await request.body())
        return to_starlette_response(await run_in_threadpool(bolt.dispatch, bolt_request))

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return (statistics.median(ordered) * 1000,
            ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000)


def answered_after(sink, first: int, count: int, busy: set[int], sent: list[float],
                   ) -> tuple[float, float, int]:
    """Waits for every answer (but the ones asked to resend) to reach the response_url;
    (p50, p99 ms from sending, how many came)."""
    deadline = time.monotonic() + 120
    while len([n for n in range(first, first + count) if n in sink.state.arrived]) \
            < count - len(busy) and time.monotonic() < deadline:
        time.sleep(0.05)
    late = [sink.state.arrived[first + n] - sent[n] for n in range(count)
            if first + n in sink.state.arrived]
    return (*(percentiles(late) if late else (0, 0)), len(late))


APPS = ("bare", "bare_answer", "frontline")  # ack only; ack and answer; Frontline


def sustained(url: str, rates: list[int], seconds: float,
              threads: int | None = None) -> list[tuple]:
    prepare(url)
    sink = slack_sink()
    sink_url, sink_server = start(sink)
    spawn = multiprocessing.get_context("spawn")
    ports = dict(zip(APPS, (free_port(), free_port(), free_port()), strict=True))
    servers = [spawn.Process(target=serve_bare_bolt, args=(sink_url, ports["bare"])),
               spawn.Process(target=serve_bare_bolt,
                             args=(sink_url, ports["bare_answer"], True)),
               spawn.Process(target=serve_bot,
                             args=(url, sink_url, ports["frontline"], threads))]
    for server in servers:
        server.start()
    rows, number = [], 0
    try:
        for port in ports.values():
            wait_until_up(f"http://127.0.0.1:{port}/healthz")
        for rate in rates:
            count = int(rate * seconds)
            acks, answers, retries = {}, {}, {}
            for name in APPS:
                first = number
                requests = [signed(sink_url, first + n) for n in range(count)]
                number += count
                times, sent, busy = asyncio.run(open_loop(ports[name], requests, rate))
                acks[name], retries[name] = percentiles(times), len(busy)
                if name != "bare":  # every answer in before the next one starts
                    answers[name] = answered_after(sink, first, count, busy, sent)
                time.sleep(1)
            rows.append((rate, count, acks, answers, retries))
    finally:
        for server in servers:
            server.terminate()
            server.join()
        sink_server.should_exit = True
    return rows


def prepare(url: str) -> None:
    engine = make_engine(url)
    create_all(engine)
    config = parse_config({"catalog": DEMO_CATALOG})
    with transaction(engine) as session:
        import_csv(session, config, DEMO_STAFF)
        alice = session.exec(select(Employee).where(Employee.handle == "alice")).one()
        session.add(ChatIdentity(employee_id=alice.id, platform="slack",
                                 platform_user_id="UALICE"))
    engine.dispose()


def print_sustained(store: str, seconds: float, rows: list[tuple]) -> None:
    print(f"open loop, {seconds:g} s per rate, signed `/frontline me`, loopback, {store}")
    print(f"{'req/s':>6} | {'ack p50':>8}{'p99':>8}{'bare p99':>9}{'ratio':>8} | "
          f"{'answer p50':>10}{'p99':>8}{'answered':>10}{'retry':>6} | "
          f"{'bare answer p50':>15}{'p99':>8}{'answered':>10}")
    best = {"frontline": 0, "bare_answer": 0}
    for rate, count, acks, answers, retries in rows:
        (fp50, fp99), bp99 = acks["frontline"], acks["bare"][1]
        ap50, ap99, answered = answers["frontline"]
        bp50, bap99, banswered = answers["bare_answer"]
        print(f"{rate:>6} | {fp50:>8.1f}{fp99:>8.1f}{bp99:>9.1f}{fp99 / bp99:>7.2f}x | "
              f"{ap50:>10.0f}{ap99:>8.0f}{answered:>5}/{count:<4}{retries['frontline']:>6} | "
              f"{bp50:>15.0f}{bap99:>8.0f}{banswered:>5}/{count:<4}")
        for name in best:
            p99, came = answers[name][1], answers[name][2]
            if came == count and retries[name] == 0 and p99 <= 1000:
                best[name] = max(best[name], rate)
    ratio = best["frontline"] / best["bare_answer"] if best["bare_answer"] else 0
    print("ms. ack: Frontline's, beside the bare Bolt app that only acks (p99 ratio); "
          "answer: from sending to the answer at the response_url; retry: acks that asked "
          "to send it again (the work queue was full); bare answer: a bare Bolt app that "
          "acks and answers a fixed text")
    print(f"highest rate answered whole with answer p99 <= 1 s: Frontline "
          f"{best['frontline']}/s, bare ack-and-answer Bolt {best['bare_answer']}/s "
          f"({ratio:.0%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--sustained", action="store_true", help="open loop at fixed rates")
    parser.add_argument("--rates", default="50,100,200,400")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--work-threads", type=int, help="Frontline's Slack work_threads")
    args = parse_args(parser, smoke="--requests 20 --rates 20,50 --seconds 1")
    if args.sustained:
        rates = [int(rate) for rate in args.rates.split(",")]
        with fresh_store(args.store, args.postgres) as url:
            rows = sustained(url, rates, args.seconds, args.work_threads)
        print_sustained(args.store, args.seconds, rows)
        return
    results = []
    for store, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        with fresh_store(store, args.postgres) as url:
            results.append(measure(label, url, args.requests))
    print(f"{args.requests} concurrent signed slash commands, loopback")
    print(f"{'store':<12}{'p50 ack ms':>12}{'p99 ack ms':>12}{'acks/s':>10}{'answers/s':>11}")
    for store, p50, p99, acks, answers in results:
        print(f"{store:<12}{p50:>12.1f}{p99:>12.1f}{acks:>10.0f}{answers:>11.0f}")


if __name__ == "__main__":
    main()
