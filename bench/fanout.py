"""Fan-out at the platforms' pace: a pulse to everyone in an organisation of N people
(50 to a team), queued in the outbox by the pulse ritual (rituals/schedule.py run_once,
one claim a team, as the scheduler runs it) and then delivered through the platform's
real channel code (bot/platforms/<name>/channels.py, driven by bot/kit/outbox.py
dispatch_pending) to the platform's local fake (tests/fake_<name>.py), which enforces
the rate limits of bot/platforms/<name>/limits.py, unchanged.

Per platform and size it prints the notifications queued, the time to queue them, the
time from the first dispatch to the last delivery, deliveries a second, and beside it
the baseline: the least time the platform's own per-app rate limit allows for that many
messages. A limit of R messages in any one second (what the fakes enforce) lets N
messages go out, the first to the last, in no less than ceil(N / R) - 1 seconds. The
figure is the ratio of the two: 1.00x is delivery at the platform's pace.

Measured platforms, and what is real time and what is simulated:

- telegram (30 messages a second overall, limits.OVERALL_PER_SECOND): ALL REAL TIME.
  The bot's own pacing is python-telegram-bot's AIORateLimiter on the adapter's event
  loop (and its waits of a 429's retry_after), which no clock here drives; so the fake
  keeps its real monotonic clock and the bench waits as long as Telegram would make it
  wait. 10,000 people take about six minutes, 50,000 about half an hour.
- feishu (50 messages a second for the app, limits.PER_APP_PER_SECOND): a VIRTUAL CLOCK,
  which is the real monotonic clock plus every wait the bot or the bench skipped. The
  fake's rate windows (FakeFeishu.clock), the bot's per-recipient pacing (FeishuApi's
  clock and sleep), the outbox's "now" (leases, the back-off of a notification the
  platform refused with a 429) and the dispatcher's schedule all read and sleep on this
  one clock. A sleep does not wait: it moves the clock on by that long at once. All the
  work (database, HTTP to the fake, the SDK, rendering) takes real time and moves the
  clock as it goes; only idle waiting is skipped. The dispatcher runs in one thread, so
  nothing of the bot's runs during a skipped wait: the figure is what a real run would
  take, without spending the waits. The fake's server threads keep real time for
  anything else they do (nothing the fan-out touches).
- dingtalk (20 calls a second of one open API, limits.API_QPS; `--platforms dingtalk`):
  ALL REAL TIME. Its fake counts calls on time.monotonic itself, with no clock to give
  it, so the bot's own pacing (DingTalkApi, which keeps to API_QPS) sleeps for real.

The dispatcher is driven as `frontline run` drives it (bot/app/background.py): a call of
`drain` every 2 s (`--every`), which dispatches batches of 100 until one comes back
short; a call still running when the next is due skips that turn (APScheduler's
max_instances=1). `--every 0` calls it back to back
instead: the dispatcher's own pace, without the scheduler's gaps.

    python bench/fanout.py [--sizes 1000,10000,50000] [--platforms telegram,feishu]
                           [--store sqlite|postgresql] [--every 2] [--smoke]
"""

import argparse
import logging
import math
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import POSTGRES, fresh_store, parse_args  # bench/ is the script's own folder
from org_scale import directory
from sqlalchemy import func
from sqlmodel import select

from bot.kit.config import parse_config
from bot.kit.outbox import drain
from handlers.directory import import_csv
from rituals import schedule
from storage.engine import create_all, make_engine, refresh_statistics, transaction
from storage.models import Outbox

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the fakes: tests/fake_*.py

ORGANISATION = {"timezone": "Asia/Shanghai", "currency": "CNY"}
BATCH = 100  # drain's default, as the background job calls it
STUCK = 11 * 60  # s without a delivery (past the outbox back-off's 10 min): failing, not slow


class Clock:
    """The bench's time. Real: the monotonic clock, and sleep sleeps. Virtual: the
    monotonic clock plus every wait skipped, and sleep moves it on at once."""

    def __init__(self, virtual: bool) -> None:
        self.virtual, self.skipped = virtual, 0.0
        self._real_start = datetime.now(UTC) - timedelta(seconds=time.monotonic())

    def now(self) -> float:
        return time.monotonic() + self.skipped

    def utc(self) -> datetime:
        return self._real_start + timedelta(seconds=self.now())

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.virtual:
            self.skipped += seconds
        else:
            time.sleep(seconds)


# --- the platforms ---------------------------------------------------------------
# Each: its per-app rate (messages a second, from limits.py), whether it runs on the
# virtual clock, the directory's id for the n-th person, and `connected`, which serves
# the fake, builds the platform's channels and yields (channels, refusals), refusals
# counting the 429s the fake answered.


def _telegram_id(n: int) -> str:
    return str(700_000_000 + n)


@contextmanager
def _telegram(engine, clock: Clock, ids: list[str]) -> Iterator[tuple[list, Callable]]:
    from bot.app.web import create_app
    from bot.platforms.telegram.adapter import TelegramAdapter
    from bot.platforms.telegram.channels import channels
    from tests.fake_telegram import TOKEN, FakeTelegram
    from tests.http_servers import serve

    fake = FakeTelegram()  # its own clock: real time (see the docstring)
    fake.started.update(int(i) for i in ids)  # everyone has pressed Start
    with fake.serve() as api_url:
        config = parse_config({"organisation": ORGANISATION, "platforms": {"telegram": {
            "enabled": True, "mode": "webhook", "webhook_url": "https://x.example/tg",
            "api_base": f"{api_url}/bot", "file_base": f"{api_url}/file/bot"}}})
        adapter = TelegramAdapter(engine, config, TOKEN, webhook_secret="bench-secret")
        # the bot's event loop, as `frontline run` runs it: the web app's, with the
        # adapter started in its lifespan
        with serve(create_app([adapter.router()], [adapter.start], [adapter.stop]),
                   lifespan="on"):
            yield channels(adapter), lambda: sum(1 for _, f in fake.failed
                                                 if f.status == 429)


def _feishu_id(n: int) -> str:
    return f"ou_{n:032x}"


@contextmanager
def _feishu(engine, clock: Clock, ids: list[str]) -> Iterator[tuple[list, Callable]]:
    from bot.platforms.feishu.api import FeishuApi, client
    from bot.platforms.feishu.channels import channels
    from tests.fake_feishu import SECRET, FakeFeishu

    class Counted(FakeFeishu):
        """The fake, unchanged, counting the 429s it answers."""

        refused = 0

        def _refusal(self, body, receive_id):
            answer = super()._refusal(body, receive_id)
            if answer is not None and answer.status_code == 429:
                self.refused += 1
            return answer

    fake = Counted(clock=clock.now)
    app_id = f"cli_{uuid.uuid4().hex[:16]}"  # the SDK caches tokens per app id
    with fake.serve() as api_url:
        config = parse_config({"organisation": ORGANISATION, "platforms": {"feishu": {
            "enabled": True, "app_id": app_id, "domain": api_url, "mode": "http"}}})
        api = FeishuApi(client(app_id, SECRET, api_url), clock=clock.now, sleep=clock.sleep)
        yield channels(api, engine, config), lambda: fake.refused


def _dingtalk_id(n: int) -> str:
    return f"staff{n:06d}"


@contextmanager
def _dingtalk(engine, clock: Clock, ids: list[str]) -> Iterator[tuple[list, Callable]]:
    from bot.platforms.dingtalk.api import DingTalkApi
    from bot.platforms.dingtalk.channels import DingTalkPersonChannel
    from tests.fake_dingtalk import APP_KEY, APP_SECRET, FakeDingTalk

    class Counted(FakeDingTalk):
        """The fake, unchanged, counting the 429s it answers."""

        refused = 0

        def refusal(self, method, body):
            answer = super().refusal(method, body)
            if answer is not None and answer.status_code == 429:
                self.refused += 1
            return answer

    fake = Counted()  # its own clock: real time (see the docstring)
    with fake.serve() as api_url:
        # The person channel as bot/platforms/dingtalk/platform.py builds it, with a card
        # template (a pulse has buttons: it goes as an interactive card)
        api = DingTalkApi(api_url, APP_KEY, APP_SECRET, APP_KEY)
        yield [DingTalkPersonChannel(api, "frontline.card.schema")], lambda: fake.refused


def _rate(module: str, name: str) -> float:
    import importlib
    return getattr(importlib.import_module(f"bot.platforms.{module}.limits"), name)


def _feishu_rate() -> float:
    """Feishu's per-app limits: 50 a second and 1,000 a minute; over a fan-out longer
    than 20 s, the minute's is the one that binds."""
    return min(_rate("feishu", "PER_APP_PER_SECOND"), _rate("feishu", "PER_APP_PER_MINUTE") / 60)


PLATFORMS = {  # name -> (per-app rate, virtual clock, id of the n-th person, connected)
    "telegram": (lambda: _rate("telegram", "OVERALL_PER_SECOND"), False, _telegram_id,
                 _telegram),
    "feishu": (_feishu_rate, True, _feishu_id, _feishu),
    "dingtalk": (lambda: _rate("dingtalk", "API_QPS"), False, _dingtalk_id, _dingtalk),
}


# --- the organisation and the pulse ------------------------------------------------

def linked_directory(people: int, column: str, id_of: Callable[[int], str],
                     ) -> tuple[str, list[str]]:
    """bench/org_scale.py's HR export with a `<platform>_id` column: everyone linked."""
    lines = directory(people).splitlines()
    ids = [id_of(n) for n in range(len(lines) - 1)]
    rows = [f"{lines[0]},{column}"]
    rows += [f"{line},{i}" for line, i in zip(lines[1:], ids, strict=True)]
    return "\n".join(rows) + "\n", ids


def queue_pulse(engine, config, clock: Clock) -> int:
    """The pulse ritual for every team, one claim each, as the scheduler runs it."""
    now = clock.utc()
    for target in schedule.targets(engine, config, ["pulse"]):
        schedule.run_once(engine, config, target, now, now)
    with transaction(engine) as session:
        return session.exec(select(func.count()).select_from(Outbox)).one()


def undelivered(engine) -> int:
    with transaction(engine) as session:
        return session.exec(select(func.count()).select_from(Outbox).where(
            Outbox.delivered_at.is_(None))).one()


def deliver(engine, channels: list, clock: Clock, every: float,
            ) -> tuple[float, int, float]:
    """Dispatch as the background job does until everything is delivered. Returns the
    time from the first call to the end of the last call that delivered anything, the
    calls made, and the time spent inside drain."""
    started = clock.now()
    last, calls, busy = started, 0, 0.0
    while True:
        began = clock.now()
        done = drain(engine, channels, now=clock.utc, batch=BATCH)
        ended = clock.now()
        calls, busy = calls + 1, busy + ended - began
        if done:
            last = ended
        elif undelivered(engine) == 0:
            return last - started, calls, busy
        elif ended - last > STUCK:
            with transaction(engine) as session:
                error = session.exec(select(Outbox.last_error).where(
                    Outbox.last_error != "").limit(1)).first()
            raise SystemExit(f"nothing delivered for {STUCK} s; an outbox error: {error}")
        if every > 0:  # the next turn of the interval job; the ones run through skipped
            turns = math.floor((ended - started) / every) + 1
            clock.sleep(started + turns * every - clock.now())
        elif not done:  # back to back, nothing due now: wait as a short poll would
            clock.sleep(0.1)


def measure(url: str, platform: str, people: int, every: float) -> dict:
    rate_of, virtual, id_of, connected = PLATFORMS[platform]
    rate = rate_of()
    clock = Clock(virtual)
    engine = make_engine(url)
    create_all(engine)
    config = parse_config({"organisation": ORGANISATION})
    staff, ids = linked_directory(people, f"{platform}_id", id_of)
    with transaction(engine) as session:
        import_csv(session, config, staff)
    refresh_statistics(engine)
    started = time.perf_counter()
    queued = queue_pulse(engine, config, clock)
    queue_s = time.perf_counter() - started
    with connected(engine, clock, ids) as (channels, refusals):
        delivery_s, calls, busy = deliver(engine, channels, clock, every)
        refused = refusals()
    with transaction(engine) as session:
        attempts = session.exec(select(func.sum(Outbox.attempts))).one() or 0
    engine.dispose()
    floor_s = max(math.ceil(queued / rate) - 1, 0)
    return {"platform": platform, "clock": "virtual" if virtual else "real",
            "people": people, "queued": queued, "queue_s": queue_s,
            "delivery_s": delivery_s, "per_s": queued / delivery_s if delivery_s else 0.0,
            "rate": rate, "floor_s": floor_s,
            "ratio": delivery_s / floor_s if floor_s else float("nan"),
            "refused": refused, "retries": attempts - queued, "calls": calls,
            "busy_s": busy, "skipped_s": clock.skipped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--platforms", default="telegram,feishu")
    parser.add_argument("--store", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--every", type=float, default=2.0,
                        help="seconds between dispatcher calls (0: back to back)")
    args = parse_args(parser, smoke="--sizes 120")
    logging.basicConfig(level=logging.ERROR)  # the SDKs' per-call notices off
    sizes = [int(size) for size in args.sizes.split(",")]
    platforms = [name.strip() for name in args.platforms.split(",")]
    rows = []
    for platform in platforms:
        for people in sizes:
            with fresh_store(args.store, args.postgres) as url:
                rows.append(measure(url, platform, people, args.every))
    cadence = f"every {args.every:g} s" if args.every else "back to back"
    print(f"Store: {args.store}; drain {cadence}, batch {BATCH}; one pulse to "
          "everyone. Times in s, from the first dispatch to the last delivery; the "
          "platform's least is ceil(N / rate) - 1 s.\n")
    print("| platform | clock | people | queued | queue s | delivery s | deliveries/s | "
          "platform rate/s | platform least s | delivery/least | 429s | outbox retries "
          "| dispatch calls | in dispatch s | waits skipped s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['platform']} | {r['clock']} | {r['people']:,} | {r['queued']:,} | "
              f"{r['queue_s']:.2f} | {r['delivery_s']:,.1f} | {r['per_s']:.1f} | "
              f"{r['rate']} | {r['floor_s']:,} | {r['ratio']:.2f}x | {r['refused']:,} | "
              f"{r['retries']:,} | {r['calls']:,} | {r['busy_s']:,.1f} | "
              f"{r['skipped_s']:,.1f} |")


if __name__ == "__main__":
    main()
