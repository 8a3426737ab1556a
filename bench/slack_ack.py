"""Slack ack latency: N concurrent, correctly signed slash commands on loopback
against the HTTP app (Bolt on the shared FastAPI app under uvicorn), on SQLite and
on PostgreSQL. Prints p50/p99 of the time until Slack would have its ack, and the
request rate. The command's work (and its answer to the response_url, here a
local sink) runs after the ack, so it is not in the latency.

    python bench/slack_ack.py [--requests 200] [--postgres URL]
"""

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import httpx
import uvicorn
from fastapi import FastAPI, Request
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import create_engine, text
from sqlmodel import select

from bot.config import DEMO_CATALOG, parse_config
from bot.demo import DEMO_STAFF
from bot.slack.adapter import SlackAdapter
from bot.web import create_app
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

    @app.post("/respond")
    async def respond(request: Request):
        answered.append(await request.body())
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
    reader, writer = await asyncio.open_connection(host, port)
    try:
        began = time.perf_counter()
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length")), b"0"))
        await reader.readexactly(length)
        elapsed = time.perf_counter() - began
        assert head.startswith(b"HTTP/1.1 200"), head
        return elapsed
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


def serve_bot(url: str, sink_url: str, port: int) -> None:
    """The bot in its own process, as in production (the load comes from elsewhere)."""
    engine = make_engine(url)
    config = parse_config({"catalog": DEMO_CATALOG, "platforms": {"slack": {
        "enabled": True, "api_base": f"{sink_url}/api/"}}})
    adapter = SlackAdapter(engine, config, TOKEN, SECRET)
    uvicorn.run(create_app([adapter.router()]), host="127.0.0.1", port=port,
                log_level="warning")


def measure(store: str, url: str, count: int) -> tuple[str, float, float, float, float]:
    engine = make_engine(url)
    create_all(engine)
    config = parse_config({"catalog": DEMO_CATALOG})
    with transaction(engine) as session:
        import_csv(session, config, DEMO_STAFF)
        alice = session.exec(select(Employee).where(Employee.handle == "alice")).one()
        session.add(ChatIdentity(employee_id=alice.id, platform="slack",
                                 platform_user_id="UALICE"))
    engine.dispose()
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results.append(measure("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", args.requests))
    name = f"bench_slack_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        results.append(measure("PostgreSQL", args.postgres.rsplit("/", 1)[0] + "/" + name,
                               args.requests))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"{args.requests} concurrent signed slash commands, loopback")
    print(f"{'store':<12}{'p50 ack ms':>12}{'p99 ack ms':>12}{'acks/s':>10}{'answers/s':>11}")
    for store, p50, p99, acks, answers in results:
        print(f"{store:<12}{p50:>12.1f}{p99:>12.1f}{acks:>10.0f}{answers:>11.0f}")


if __name__ == "__main__":
    main()
