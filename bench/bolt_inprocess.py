"""Praise through the Slack adapter in-process: correctly signed `/frontline praise`
requests handed straight to the Bolt app (no HTTP in), each acknowledged, stored in
the inbox, run on the work pool and answered at a response_url (a local sink), beside
the same commands run through the domain core alone (`handlers.dispatch.execute`, one
thread): the cost of the platform route as a ratio.

    python bench/bolt_inprocess.py [--commands 2000] [--store sqlite|postgresql] [--smoke]
"""

import argparse
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from common import POSTGRES, fresh_store, parse_args  # bench/ is the script's own folder
from slack_ack import SECRET, TOKEN, prepare, slack_sink, start
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier
from sqlmodel import select

from bot.kit.config import DEMO_CATALOG, parse_config
from bot.platforms.slack.adapter import SlackAdapter
from handlers.dispatch import execute
from handlers.grammar import parse
from storage.engine import make_engine, transaction
from storage.models import ChatIdentity, Employee

SENDERS = 4  # threads handing requests to Bolt, as the web server's threads would


def link_wang(url: str) -> None:
    """wang (a supervisor) praises alice from Slack."""
    engine = make_engine(url)
    with transaction(engine) as session:
        wang = session.exec(select(Employee).where(Employee.handle == "wang")).one()
        session.add(ChatIdentity(employee_id=wang.id, platform="slack",
                                 platform_user_id="UWANG"))
    engine.dispose()


def signed(sink: str, n: int) -> BoltRequest:
    body = urlencode({"command": "/frontline", "text": f"praise @alice letter {n}",
                      "user_id": "UWANG", "team_id": "T1",
                      "trigger_id": f"t{n}-{uuid.uuid4().hex[:6]}",
                      "response_url": f"{sink}/respond/{n}"})
    stamp = str(int(time.time()))
    return BoltRequest(body=body, headers={
        "content-type": ["application/x-www-form-urlencoded"],
        "x-slack-request-timestamp": [stamp],
        "x-slack-signature": [SignatureVerifier(SECRET).generate_signature(
            timestamp=stamp, body=body)]})


def through_bolt(url: str, commands: int) -> float:
    """Praise a second, from the first request handed to Bolt to the last answer."""
    sink = slack_sink()
    sink_url, sink_server = start(sink)
    engine = make_engine(url)
    config = parse_config({"catalog": DEMO_CATALOG, "platforms": {"slack": {
        "enabled": True, "api_base": f"{sink_url}/api/", "work_queue": commands}}})
    adapter = SlackAdapter(engine, config, TOKEN, SECRET)
    requests = [signed(sink_url, n) for n in range(commands)]
    try:
        began = time.perf_counter()
        with ThreadPoolExecutor(SENDERS) as senders:
            acks = list(senders.map(adapter.app.dispatch, requests))
        assert all(ack.status == 200 and "busy" not in ack.body for ack in acks)
        while len(sink.state.arrived) < commands:
            time.sleep(0.005)
        elapsed = time.perf_counter() - began
    finally:
        adapter.inbox.stop()
        sink_server.should_exit = True
        engine.dispose()
    return commands / elapsed


def core_alone(url: str, commands: int) -> float:
    """The same praise through the domain core, one thread: the ceiling."""
    engine = make_engine(url)
    config = parse_config({"catalog": DEMO_CATALOG})
    began = time.perf_counter()
    for n in range(commands):
        reply, _locale = execute(engine, config, "slack", "UWANG",
                                 parse(f"praise @alice letter {n}"),
                                 idempotency_key=f"core:{n}")
        assert reply.ok
    engine.dispose()
    return commands / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres", default=POSTGRES)
    args = parse_args(parser, smoke="--commands 100")
    rates = {}
    for name, measure in (("core", core_alone), ("bolt", through_bolt)):
        with fresh_store(args.store, args.postgres) as url:
            prepare(url)
            link_wang(url)
            rates[name] = measure(url, args.commands)
    print(f"{args.commands} praise commands, {args.store}")
    print(f"{'domain core alone':<32}{rates['core']:>8.0f} praise/s")
    print(f"{'through Bolt, inbox and answer':<32}{rates['bolt']:>8.0f} praise/s "
          f"({rates['bolt'] / rates['core']:.0%} of the core)")


if __name__ == "__main__":
    main()
