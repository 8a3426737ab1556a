"""Several `frontline run` processes on one PostgreSQL database, as operators run
them, with Telegram in polling mode against the local fake Bot API: one worker
polls at a time under the poller lease, another takes over when it is killed, and
a command is answered once whichever worker receives it."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine

from storage.engine import make_engine, transaction
from storage.models import ChatIdentity, Compensation, HeldLease, InboxItem
from tests.conftest import throwaway_postgres
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.http_servers import free_port
from tests.support import count, employee, frontline, rows, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.http]

ALICE = 2001
LEASE = 2  # seconds: how long a dead poller holds the role back


def start(config: Path, port: int, *args: str) -> subprocess.Popen:
    """`frontline run` on its own port (its output in a file beside the config)."""
    own = config.with_name(f"frontline-{port}.toml")
    own.write_text(config.read_text(encoding="utf-8") + f"\n[web]\nport = {port}\n",
                   encoding="utf-8")
    log = open(config.with_name(f"run-{port}.log"), "w")  # noqa: SIM115 (closed with the test)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--config", str(own), "run", *args],
        env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"},
        cwd=config.parent, stdout=log, stderr=subprocess.STDOUT)


def until(condition, what: str, seconds: float = 60):
    """Processes start in seconds, not milliseconds: a longer wait by default."""
    return wait_until(condition, what, seconds)


def undone(engine) -> int:
    """Stored updates not yet marked done: a worker killed before marking one would
    have it run again (and answered again) once its lease runs out."""
    return count(engine, InboxItem, done_at=None)


def holder_pid(engine) -> int | None:
    held = rows(engine, HeldLease, name="receiver:telegram")
    if not held or held[0].claimed_until is None:
        return None
    return int(held[0].holder.rsplit(":", 1)[1])


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


class Chat:
    def __init__(self, fake: FakeTelegram) -> None:
        self.fake, self.update_id = fake, 0

    def say(self, text: str) -> None:
        self.update_id += 1
        self.fake.push({"update_id": self.update_id, "message": {
            "message_id": self.update_id, "date": int(time.time()), "text": text,
            "chat": {"id": ALICE, "type": "private"},
            "from": {"id": ALICE, "is_bot": False, "first_name": "Alice"},
            "entities": [{"type": "bot_command", "offset": 0,
                          "length": len(text.split()[0])}]}})

    def answers(self, part: str) -> int:
        return sum(part in text for text in self.fake.texts_to(ALICE))


@contextmanager
def linked_site(tmp_path: Path, name: str, telegram: str
                ) -> Iterator[tuple[Path, Engine, FakeTelegram]]:
    """A migrated PostgreSQL database with the demo staff and Alice linked on Telegram,
    and a config of a Telegram bot against the fake Bot API, its section ending with
    `telegram`."""
    fake = FakeTelegram()
    with throwaway_postgres(name) as url, fake.serve() as api_url:
        config = tmp_path / "frontline.toml"
        config.write_text(
            f'[database]\nurl = "{url}"\n\n[platforms.telegram]\nenabled = true\n'
            f'api_base = "{api_url}/bot"\nfile_base = "{api_url}/file/bot"\n{telegram}',
            encoding="utf-8")
        assert frontline(config, "db", "upgrade").returncode == 0
        assert frontline(config, "chat", "--as", "wang", stdin="me\n").returncode == 0
        engine = make_engine(url)
        try:
            with transaction(engine) as session:
                session.add(ChatIdentity(employee_id=employee(engine, "alice").id,
                                         platform="telegram", platform_user_id=str(ALICE)))
            yield config, engine, fake
        finally:
            engine.dispose()


@pytest.fixture
def site(tmp_path):
    """The linked site, its bot polling."""
    with linked_site(tmp_path, "frontline_workers",
                     f"poller_lease_seconds = {LEASE}\n") as (config, engine, fake):
        started: list[subprocess.Popen] = []
        try:
            yield config, engine, fake, started
        finally:
            for process in started:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=30)


def test_one_poller_at_a_time_and_another_takes_over_when_it_is_killed(site):
    config, engine, fake, started = site
    ports = free_port(), free_port()
    first = start(config, ports[0])
    started.append(first)
    assert until(lambda: holder_pid(engine), "poller") == first.pid
    second = start(config, ports[1])
    started.append(second)
    until(lambda: ready(ports[0]) and ready(ports[1]), "two ready workers")
    assert holder_pid(engine) == first.pid  # the second stands by, ready all the same
    chat = Chat(fake)
    chat.say("/me")
    until(lambda: chat.answers("Alice Chen") and undone(engine) == 0, "/me answered and done")

    first.send_signal(signal.SIGKILL)  # no goodbye: its lease has to run out
    first.wait(timeout=30)
    chat.say("/comp 60 gift #A3 birthday")
    until(lambda: holder_pid(engine) == second.pid, "the second worker polling", LEASE * 10)
    until(lambda: chat.answers("C1"), "an answer to /comp", 60)
    # The new poller fetched every update again; once it has confirmed them all and the
    # inbox holds nothing undone, a second answer could no longer come.
    until(lambda: fake.confirmed > chat.update_id and undone(engine) == 0,
          "every update confirmed and done")
    assert chat.answers("C1") == 1 and chat.answers("Alice Chen") == 1
    assert count(engine, Compensation) == 1
    assert fake.most_polling == 1  # never two getUpdates at once

    second.send_signal(signal.SIGTERM)  # a graceful stop gives the role back
    assert second.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal
    assert "Application shutdown complete" in config.with_name(
        f"run-{ports[1]}.log").read_text(encoding="utf-8")
    assert holder_pid(engine) is None


def test_workers_share_one_port_and_stop_together(site):
    config, engine, fake, started = site
    port = free_port()
    parent = start(config, port, "--workers", "2")
    started.append(parent)
    until(lambda: ready(port), "a ready worker")
    poller = until(lambda: holder_pid(engine), "poller")
    assert poller != parent.pid
    chat = Chat(fake)
    chat.say("/comp 70 gift #A4 anniversary")
    until(lambda: chat.answers("C1"), "an answer to /comp")
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=60) == 0
    assert holder_pid(engine) is None  # released by the worker that held it
    with pytest.raises(ProcessLookupError):
        os.kill(poller, 0)
    assert chat.answers("C1") == 1 and fake.most_polling == 1


def test_several_workers_on_sqlite_are_refused_in_one_line(tmp_path):
    config = tmp_path / "frontline.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "f.db"}"\n', encoding="utf-8")
    result = frontline(config, "run", "--workers", "2")
    assert result.returncode == 1
    assert result.stderr == ("frontline: --workers 2: SQLite serves one process only (one "
                             "writer at a time); use PostgreSQL ([database] url) for several "
                             "workers\n")
