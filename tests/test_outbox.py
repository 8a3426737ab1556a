"""The outbox dispatcher under failure: killed workers, slow channels, lost leases."""

import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from bot.app.background import Background
from bot.kit import outbox
from bot.kit.outbox import ConsoleChannel, dispatch_pending
from storage.models import Outbox, OutboxDelivery
from tests.support import count, rows


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
    dying = DiesAfterSending()
    with pytest.raises(Killed):
        dispatch_pending(chat.engine, [dying])
    assert dying.sent == [1]
    seen = []
    assert dispatch_pending(chat.engine, [ConsoleChannel(seen.append)]) == 3  # at once
    assert [row.id for row in rows(chat.engine, Outbox) if row.delivered_at is None] == [1]
    after_lease = lambda: real_now() + outbox.LEASE + timedelta(seconds=1)  # noqa: E731
    assert dispatch_pending(chat.engine, [ConsoleChannel(seen.append)], now=after_lease) == 1
    assert len(seen) == 4  # the one in flight went out twice: once before the crash
    assert count(chat.engine, OutboxDelivery) == 4


class SlowChannel:
    """A rate-limited platform: each send takes longer than the whole lease."""

    name = "slow"

    def __init__(self, seconds):
        self.seconds, self.sent, self.changed = seconds, [], threading.Condition()

    def wants(self, notification):
        return True

    def deliver(self, notification):
        time.sleep(self.seconds)  # the send itself: longer than the lease it holds
        with self.changed:
            self.sent.append(notification.outbox_id)
            self.changed.notify_all()


def test_two_dispatchers_on_a_channel_slower_than_the_lease_send_each_once(chat, monkeypatch):
    queue_four(chat)
    monkeypatch.setattr(outbox, "LEASE", timedelta(seconds=0.3))
    slow = SlowChannel(seconds=0.5)
    deadline = time.monotonic() + 30

    def worker(_n):
        while count(chat.engine, Outbox, delivered_at=None) and time.monotonic() < deadline:
            if not dispatch_pending(chat.engine, [slow]):  # the other holds what is left:
                with slow.changed:  # look again when it has sent one (or its lease ends)
                    slow.changed.wait(outbox.LEASE.total_seconds())

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(worker, range(2)))  # re-raises anything a dispatcher raised
    assert Counter(slow.sent) == {1: 1, 2: 1, 3: 1, 4: 1}
    assert all(row.delivered_at is not None for row in rows(chat.engine, Outbox))
    assert count(chat.engine, OutboxDelivery) == 4


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
