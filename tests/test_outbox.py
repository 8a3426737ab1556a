"""The outbox dispatcher under failure: killed workers, slow channels, lost leases."""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from bot.app.background import Background
from bot.kit import outbox
from bot.kit.outbox import ConsoleChannel, dispatch_pending
from storage.models import Outbox, OutboxDelivery
from tests.support import Clock, Heartbeat, count, rows


def real_now() -> datetime:
    return datetime.now(UTC)


def queue_four(chat) -> None:
    chat.ok("wang", "praise @alice kind words")  # to alice and to all staff
    chat.ok("wang", "praise @bob kind words")
    assert count(chat.engine, Outbox) == 4


class Killed(BaseException):
    """The worker process dies here: nothing after this point runs."""


class DiesAfterSending:
    name = "console"

    def __init__(self):
        self.sent = []

    def wants(self, notification):
        return True

    def deliver(self, notification):
        self.sent.append(notification.outbox_id)  # the platform has it...
        raise Killed  # ...and the worker dies before recording it


def test_a_killed_dispatcher_holds_back_only_the_notification_it_was_sending(chat):
    queue_four(chat)
    clock = Clock()
    dying = DiesAfterSending()
    with pytest.raises(Killed):
        dispatch_pending(chat.engine, [dying], now=clock)
    assert dying.sent == [1]
    seen = []
    assert dispatch_pending(chat.engine, [ConsoleChannel(seen.append)], now=clock) == 3  # at once
    assert [row.id for row in rows(chat.engine, Outbox) if row.delivered_at is None] == [1]
    clock.advance(29.9)  # the dead worker's lease still holds it...
    assert dispatch_pending(chat.engine, [ConsoleChannel(seen.append)], now=clock) == 0
    clock.advance(0.2)  # ...for 30 seconds, then another worker sends it
    assert dispatch_pending(chat.engine, [ConsoleChannel(seen.append)], now=clock) == 1
    assert len(seen) == 4  # the one in flight went out twice: once before the crash
    assert count(chat.engine, OutboxDelivery) == 4


class HeldSend:
    """A rate-limited platform: the send lasts until the test lets it end."""

    name = "slow"

    def __init__(self):
        self.sending, self.go_on, self.sent = threading.Event(), threading.Event(), []

    def wants(self, notification):
        return True

    def deliver(self, notification):
        self.sending.set()
        assert self.go_on.wait(10)
        self.sent.append(notification.outbox_id)


def test_a_send_slower_than_the_lease_keeps_it_by_its_heartbeat(chat):
    queue_four(chat)
    clock, heart, slow = Clock(), Heartbeat(), HeldSend()
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(dispatch_pending, chat.engine, [slow], now=clock, batch=1,
                            pause=heart.pause)
        assert slow.sending.wait(10)
        for _ in range(4):  # the send outlasts the lease: each third of it, a renewal
            clock.advance(outbox.LEASE.total_seconds() / 3)
            heart.beat()
        other = []  # another worker, now: notification 1 is still held, the rest are not
        assert dispatch_pending(chat.engine, [ConsoleChannel(other.append)], now=clock) == 3
        slow.go_on.set()
        assert first.result(timeout=10) == 1
    assert slow.sent == [1] and len(other) == 3
    assert all(row.delivered_at is not None for row in rows(chat.engine, Outbox))
    assert count(chat.engine, OutboxDelivery) == 4


def test_the_lease_is_30_seconds_and_beats_three_times_in_it(chat):
    chat.ok("wang", "praise @alice kind words")
    clock, heart, slow = Clock(), Heartbeat(), HeldSend()
    asked = []

    def pause(stop, seconds):
        asked.append(seconds)
        return heart.pause(stop, seconds)

    with ThreadPoolExecutor(max_workers=1) as pool:
        sending = pool.submit(dispatch_pending, chat.engine, [slow], now=clock,
                              batch=1, pause=pause)
        assert slow.sending.wait(10)
        clock.advance(10)
        heart.beat()  # renewed for 30 s from now
        held = rows(chat.engine, Outbox, id=1)[0]
        assert held.claimed_until == clock() + timedelta(seconds=30)
        slow.go_on.set()
        assert sending.result(timeout=10) == 1
    assert asked[0] == 10  # a renewal every 10 s, well inside the lease


class TakenOverMidSend:
    """While this worker sends, its lease is taken over and the notification
    completed by another worker (as after a long pause of this process)."""

    name = "console"

    def __init__(self, engine):
        self.engine, self.sent = engine, []

    def wants(self, notification):
        return True

    def deliver(self, notification):
        self.sent.append(notification.outbox_id)
        if len(self.sent) == 1:
            much_later = lambda: real_now() + timedelta(hours=1)  # noqa: E731
            assert dispatch_pending(self.engine, [self], now=much_later, batch=1) == 1


def test_a_lost_lease_is_logged_never_raised(chat, caplog):
    chat.ok("wang", "praise @alice kind words")
    channel = TakenOverMidSend(chat.engine)
    with caplog.at_level(logging.WARNING):
        assert dispatch_pending(chat.engine, [channel]) == 1  # the second; the first was lost
    assert channel.sent == [1, 1, 2]
    assert "went out through console twice" in caplog.text
    assert "lost the lease on notification 1" in caplog.text
    assert all(row.delivered_at is not None for row in rows(chat.engine, Outbox))
    assert count(chat.engine, OutboxDelivery) == 2


class StopsTheWorker:
    """The process is asked to stop while the first notification is being sent."""

    name = "console"

    def __init__(self, stop):
        self.stop, self.sent = stop, []

    def wants(self, notification):
        return True

    def deliver(self, notification):
        self.stop.set()
        self.sent.append(notification.outbox_id)


def test_a_dispatcher_stopped_mid_batch_finishes_its_send_and_leaves_nothing_claimed(chat):
    queue_four(chat)
    stop = threading.Event()
    channel = StopsTheWorker(stop)
    assert dispatch_pending(chat.engine, [channel], stop=stop) == 1
    assert channel.sent == [1]
    left = sorted((row for row in rows(chat.engine, Outbox) if row.delivered_at is None),
                  key=lambda row: row.id)
    assert [row.id for row in left] == [2, 3, 4]
    assert all(row.claimed_until is None and row.attempts == 0 for row in left)
    seen = []
    assert dispatch_pending(chat.engine, [ConsoleChannel(seen.append)]) == 3  # another, at once
    assert len(seen) == 3


class Interrupted:
    name = "console"

    def wants(self, notification):
        return True

    def deliver(self, notification):
        raise KeyboardInterrupt


def test_a_send_cut_short_by_an_interrupt_releases_its_lease_at_once(chat):
    chat.ok("wang", "praise @alice kind words")
    with pytest.raises(KeyboardInterrupt):
        dispatch_pending(chat.engine, [Interrupted()])
    first, _second = sorted(rows(chat.engine, Outbox), key=lambda row: row.id)
    assert first.claimed_until is None and first.attempts == 1 and first.delivered_at is None
    seen = []
    assert dispatch_pending(chat.engine, [ConsoleChannel(seen.append)]) == 2  # not after a lease
    assert [row.attempts for row in sorted(rows(chat.engine, Outbox), key=lambda row: row.id)
            ] == [2, 1]


class HeldUp:
    """A send that takes until the test lets it go."""

    name = "console"

    def __init__(self):
        self.sending, self.go_on, self.sent = threading.Event(), threading.Event(), []

    def wants(self, notification):
        return True

    def deliver(self, notification):
        self.sending.set()
        assert self.go_on.wait(10)
        self.sent.append(notification.outbox_id)


def test_stopping_the_background_waits_for_the_send_in_flight_and_claims_no_more(chat):
    queue_four(chat)
    channel = HeldUp()
    background = Background(chat.engine, chat.config, [channel], every=0.05)
    background.start()
    assert channel.sending.wait(10)
    stopping = threading.Thread(target=background.stop)
    stopping.start()
    stopping.join(0.3)
    assert stopping.is_alive()  # it waits for the notification being sent
    channel.go_on.set()
    stopping.join(10)
    assert not stopping.is_alive() and not background.scheduler.running
    assert channel.sent == [1]
    left = sorted((row for row in rows(chat.engine, Outbox) if row.delivered_at is None),
                  key=lambda row: row.id)
    assert [row.id for row in left] == [2, 3, 4]
    assert all(row.claimed_until is None for row in left)


class SharedRoom:
    """An all-staff chat: keeps the text and the touching button's label it was sent."""

    name = "room"

    def __init__(self):
        self.posts = []

    def wants(self, notification):
        return notification.audience == "all"

    def deliver(self, notification):
        self.posts.append((notification.shared(),
                           notification.shared_label("action.touching")))


def test_shared_chats_carry_every_language_the_organisation_reads(chat):
    room = SharedRoom()
    chat.ok("wang", "praise @alice She found my ring")
    dispatch_pending(chat.engine, [room])
    (text, label), = room.posts
    assert "A customer praised" in text and label == "❤️ Touching · 感动"  # en and zh readers
    chat.ok("lilei", "lang zh-Hant")  # one person reads Traditional: posts carry it too
    chat.ok("wang", "praise @bob He carried the boxes")
    dispatch_pending(chat.engine, [room])
    assert room.posts[1][1] == "❤️ Touching · 感动 · 感動"
    chat.ok("wang", "praise @bob He stayed late")
    dispatch_pending(chat.engine, [room], languages=["zh-Hant"])  # the organisation's choice
    assert room.posts[2][1] == "❤️ 感動"
    assert "A customer praised" not in room.posts[2][0]


class RateLimitedAfter:
    """A channel that takes `room` notifications, then is rate limited."""

    name = "console"

    def __init__(self, room: int):
        self.room, self.sent = room, []

    def wants(self, notification):
        return True

    def deliver(self, notification):
        if len(self.sent) >= self.room:
            raise RuntimeError("429 Too Many Requests")
        self.sent.append(notification.outbox_id)


def test_drain_sends_batch_after_batch_until_one_comes_back_short(chat):
    for n in range(5):
        chat.ok("wang", f"praise @alice kind words {n}")  # 10 notifications
    seen = []
    assert outbox.drain(chat.engine, [ConsoleChannel(seen.append)], batch=3) == 10
    assert len(seen) == 10  # four batches in one turn, not one batch per turn
    chat.ok("wang", "praise @bob kind words")
    limited = RateLimitedAfter(room=1)
    assert outbox.drain(chat.engine, [limited], batch=1) == 1  # held back: the turn ends
    assert count(chat.engine, Outbox, delivered_at=None) == 1
