"""`/metrics` of `frontline run --workers 2` on PostgreSQL counts every worker's
commands, whichever worker answers the scrape: Telegram updates posted to the webhook
land on both workers, each worker counts its own, and every scrape shows the sum, the
counts of a worker killed and replaced included. The run's metrics directory goes
with the run."""

import json
import os
import signal
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from bot.platforms.telegram.limits import CHAT_BURST
from tests.http_servers import free_port
from tests.test_workers import ALICE, linked_site, ready, start, until

pytestmark = [pytest.mark.slow, pytest.mark.http]

SECRET = "webhook-secret-token"
COMMANDS = "frontline_commands_total"


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A migrated PostgreSQL database with Alice linked on Telegram, and the config
    of a Telegram bot in webhook mode against the fake Bot API."""
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    runs = tmp_path / "runs"  # where `frontline run` makes its metrics directory
    runs.mkdir()
    monkeypatch.setenv("TMPDIR", str(runs))
    with linked_site(tmp_path, "frontline_metrics",
                     'mode = "webhook"\nwebhook_url = "https://frontline.example/telegram/webhook"\n'
                     ) as (config, _engine, fake):
        parent = None
        try:
            port = free_port()
            parent = start(config, port, "--workers", "2")
            until(lambda: ready(port), "a ready worker")
            yield port, runs, fake, parent
        finally:
            if parent is not None and parent.poll() is None:
                parent.kill()
                parent.wait(timeout=30)


class Sender:
    """Posts `/me` updates to the webhook, each on a new connection (so the kernel
    hands them to either worker), several at once."""

    def __init__(self, port: int, fake) -> None:
        self.port, self.fake, self.sent = port, fake, 0

    def post(self, update_id: int) -> int:
        update = {"update_id": update_id, "message": {
            "message_id": update_id, "date": int(time.time()), "text": "/me",
            "chat": {"id": ALICE, "type": "private"},
            "from": {"id": ALICE, "is_bot": False, "first_name": "Alice"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 3}]}}
        self.fake.wrote(update)  # as Telegram sees it: Alice writes to the bot in private
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/telegram/webhook", json.dumps(update).encode(),
            {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status

    def send(self, count: int) -> None:
        ids = range(self.sent + 1, self.sent + count + 1)
        with ThreadPoolExecutor(4) as pool:
            assert set(pool.map(self.post, ids)) == {200}
        self.sent += count


def scrape(port: int) -> dict[tuple[str, frozenset], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def total(scraped, name: str) -> float:
    return sum(value for (found, _labels), value in scraped.items() if found == name)


def by_worker(runs: Path) -> dict[int, float]:
    """The commands each worker counted, read from its own file."""
    counted = {}
    for file in runs.glob("frontline-metrics-*/counter_*.db"):
        if file.stat().st_size == 0:  # a worker just starting: created, not yet sized
            continue
        families = MultiProcessCollector.merge([str(file)])
        counted[int(file.stem.split("_")[1])] = sum(
            sample.value for family in families if family.name == "frontline_commands"
            for sample in family.samples)
    return counted


def test_every_scrape_counts_the_commands_of_every_worker(site):
    port, runs, fake, parent = site
    sender = Sender(port, fake)
    for _ in range(20):  # until both workers have run commands (bounded)
        # Telegram takes a burst of CHAT_BURST messages into one chat, then one a second:
        # the answers to each batch go out before the next (a batch waits for none)
        sender.send(CHAT_BURST)
        counted = until(lambda: sum(by_worker(runs).values()) == sender.sent and
                        by_worker(runs), "every command counted")
        # a command is counted when it has run, a moment before its answer is sent
        until(lambda: len(fake.texts_to(ALICE)) >= sender.sent, "an answer to every command")
        if len([n for n in counted.values() if n]) == 2:
            break
    assert len([n for n in counted.values() if n]) == 2, "one worker took every request"
    assert len(fake.texts_to(ALICE)) == sender.sent  # each answered once

    for _ in range(8):  # whichever worker answers, it shows them all
        scraped = scrape(port)
        assert scraped[(COMMANDS, frozenset({"platform": "telegram", "command": "me",
                                             "outcome": "ok"}.items()))] == sender.sent
        assert total(scraped, "frontline_command_seconds_count") == sender.sent
        assert total(scraped, "frontline_ack_seconds_count") == sender.sent
        assert total(scraped, "frontline_store_up") == 1  # read once, not per worker

    killed = max(counted, key=counted.get)
    os.kill(killed, signal.SIGKILL)  # the parent starts another
    until(lambda: ready(port), "a ready worker")
    sender.send(CHAT_BURST)
    until(lambda: total(scrape(port), COMMANDS) == sender.sent,
          "the commands of the killed worker and of its successor")

    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=60) == 0
    assert list(runs.iterdir()) == []  # the run's metrics went with it
