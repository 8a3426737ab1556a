"""The durable inbox (bot/kit/inbox.py): a request stored and acknowledged runs even if
the worker that took it dies, once; a retry while it waits is stored and answered
once; a full pool stores nothing. Two inboxes on one database stand for two
workers; a worker whose only thread is held up stands for one that died after the
ack, and its lease runs out when the test moves their clock past it."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select, update

from bot.kit.inbound import Event
from bot.kit.inbox import Inbox
from bot.kit.leases import Keeper, finish_on, held
from bot.kit.together import Together
from bot.kit.work_pool import WorkPool
from handlers.dispatch import execute
from handlers.grammar import parse
from handlers.i18n import render_reply
from storage.engine import transaction
from storage.models import InboxItem, Praise
from tests.support import Clock, Heartbeat, balance, count, rows, settled, wait_until

LEASE = 15.0  # seconds of the workers' clock: how long a dead worker's request waits


def worker(org, config, name: str, answers: list, *, threads: int = 1, queue: int = 4,
           clock: Clock | None = None) -> Inbox:
    """One worker's inbox: it runs a stored chat line as the stored user (the command
    keyed by the request's key, as the platforms do) and notes who answered what."""
    def run(kind: str, stored: dict) -> None:
        reply, _locale = execute(org, config, "console", stored["user"],
                                 parse(stored["text"]), idempotency_key=stored["key"])
        answers.append((name, render_reply(reply, "en")))

    return Inbox(org, "console", WorkPool(f"{name}-work", threads, queue), run,
                 lease_seconds=LEASE, now=clock or Clock())


def request(n: int) -> tuple[Event, str, dict]:
    return Event("msg", n), "line", {"user": "wang", "text": f"praise @alice thanks {n}",
                                     "key": f"console:msg:{n}"}


def test_a_request_acknowledged_by_a_worker_that_died_is_run_by_another_once(org, config):
    answers: list = []
    clock = Clock()
    first, second = (worker(org, config, name, answers, clock=clock)
                     for name in ("first", "second"))
    stuck = threading.Event()
    assert first.pool.submit(stuck.wait)  # the first worker's one thread never gets to it
    try:
        assert first.accept(*request(1))  # stored, then acknowledged
        assert first.accept(*request(2))
        assert count(org, InboxItem) == 2 and answers == []
        assert second.sweep() == 0  # the first worker's leases still hold
        clock.advance(LEASE + 1)
        assert second.sweep() == 2
        settled(second.pool)  # both run and marked done
        assert {name for name, _text in answers} == {"second"}
        assert all("P" in text for _name, text in answers)
        assert count(org, Praise) == 2 and balance(org, "alice") == 20
        assert all(item.done_at is not None and item.attempts == 2
                   for item in rows(org, InboxItem))
    finally:
        stuck.set()  # the first worker wakes: its leases were taken over, it runs nothing
        first.stop()
        second.stop()
    assert len(answers) == 2 and count(org, Praise) == 2


def test_a_request_stored_and_never_started_is_taken_by_a_worker_that_starts_later(
        org, config):
    answers: list = []
    _event, kind, payload = request(3)
    with transaction(org) as session:  # left by a worker killed between storing and running
        session.add(InboxItem(key=payload["key"], platform="console", kind=kind,
                              payload=payload, attempts=1,
                              received_at=datetime.now(UTC) - timedelta(seconds=20),
                              claimed_until=datetime.now(UTC) - timedelta(seconds=5)))
    later = worker(org, config, "later", answers)
    assert later.sweep() == 1
    later.stop()
    assert answers[0][0] == "later" and count(org, Praise) == 1
    assert later.sweep() == 0  # done: nobody takes it again


def test_a_retry_while_the_request_waits_is_stored_once_and_answered_once(org, config):
    answers: list = []
    inbox = worker(org, config, "only", answers)
    gate = threading.Event()
    assert inbox.pool.submit(gate.wait)
    try:
        for _ in range(3):  # the platform sends it again while it waits in the queue
            assert inbox.accept(*request(4))
        assert count(org, InboxItem) == 1
    finally:
        gate.set()
    inbox.stop()
    assert [name for name, _text in answers] == ["only"]
    assert count(org, Praise) == 1 and balance(org, "alice") == 10


def test_a_full_pool_stores_nothing_and_the_retry_is_taken(org, config):
    answers: list = []
    inbox = worker(org, config, "busy", answers, threads=1, queue=0)
    gate = threading.Event()
    assert inbox.pool.submit(gate.wait)
    try:
        assert not inbox.accept(*request(5))  # the ack asks to send it again
        assert count(org, InboxItem) == 0
    finally:
        gate.set()
    wait_until(lambda: inbox.accept(*request(5)), "room in the pool")  # sent again: taken
    inbox.stop()
    assert len(answers) == 1 and count(org, InboxItem) == 1 and count(org, Praise) == 1


def test_a_request_whose_run_failed_is_retried_after_a_back_off(org, config):
    calls: list = []

    def flaky(kind: str, stored: dict) -> None:
        calls.append(stored)
        if len(calls) == 1:
            raise ConnectionError("the platform did not answer")

    inbox = Inbox(org, "console", WorkPool("flaky", 1, 1), flaky, lease_seconds=LEASE)
    assert inbox.accept(*request(6))
    inbox.pool.stop()
    (item,) = rows(org, InboxItem)
    assert item.done_at is None and "ConnectionError" in item.last_error
    assert inbox.sweep() == 0  # not before its back-off
    with transaction(org) as session:
        session.execute(update(InboxItem).values(
            claimed_until=datetime.now(UTC) - timedelta(seconds=1)))
    inbox.pool = WorkPool("flaky-again", 1, 1)
    assert inbox.sweep() == 1
    inbox.stop()
    assert len(calls) == 2 and rows(org, InboxItem)[0].done_at is not None


def test_one_keys_work_runs_in_order_while_other_keys_run_beside():
    """Work of one key (one person) waits for that key's earlier work; another key's
    runs meanwhile; every place taken is given back."""
    pool, ran, gate = WorkPool("ordered", threads=4, queue=10), [], threading.Event()

    def work(name: str, wait: bool = False):
        def run() -> None:
            if wait:
                assert gate.wait(10)
            ran.append(name)
        return run

    for name, key, wait in (("a1", "alice", True), ("a2", "alice", False),
                            ("b1", "bob", False), ("a3", "alice", False)):
        assert pool.reserve() and pool.run_reserved(work(name, wait), key)
    wait_until(lambda: "b1" in ran, "bob's work")
    assert ran == ["b1"]  # alice's second and third wait for her first
    gate.set()
    pool.stop()
    assert ran == ["b1", "a1", "a2", "a3"]
    assert all(pool.reserve() for _ in range(14)) and not pool.reserve(quiet=True)


def test_one_thread_keeps_the_leases_of_every_running_request(org, config):
    """A request that runs longer than a third of its lease is renewed by the inbox's one
    keeper thread; many quick requests start no thread of their own."""
    answers: list = []
    clock, heart = Clock(), Heartbeat()
    inbox = worker(org, config, "only", answers, threads=2, queue=20, clock=clock)
    inbox.keeper = Keeper("only-inbox", inbox.length, pause=heart.pause)
    running, go_on = threading.Event(), threading.Event()
    quick = inbox.run

    def slow_then_quick(kind: str, stored: dict) -> None:
        if stored["key"].endswith(":1"):
            running.set()
            assert go_on.wait(10)
        quick(kind, stored)

    inbox.run = slow_then_quick
    try:
        assert inbox.accept(*request(1))
        assert running.wait(10)
        before = rows(org, InboxItem)[0].claimed_until
        clock.advance(LEASE / 3)
        heart.beat()  # the keeper renews the slow request's lease
        assert rows(org, InboxItem)[0].claimed_until > before
        threads = threading.active_count()
        for n in range(2, 12):
            assert inbox.accept(*request(n))
        wait_until(lambda: len(answers) == 10, "the quick requests run")
        assert threading.active_count() <= threads + 1  # the pool's second thread at most
        assert [t.name for t in threading.enumerate()].count("only-inbox-leases") == 1
    finally:
        go_on.set()
        inbox.stop()
    assert len(answers) == 11 and all(item.done_at for item in rows(org, InboxItem))


def test_done_marks_that_arrive_together_share_a_transaction(org, config):
    """Twenty workers finishing while another's mark is being written: every row is
    marked, in fewer transactions than rows; a lease another worker took over is not
    marked by its old holder."""
    inbox = worker(org, config, "only", [])
    clock = Clock()
    for n in range(21):
        inbox._store(f"k{n}", "line", {"n": n})
    leases = [held(org, InboxItem, row.id, 1, clock, inbox.length, "done_at")
              for row in rows(org, InboxItem)]
    with transaction(org) as session:  # the last was taken over: attempt 2 is current
        session.execute(update(InboxItem).where(InboxItem.id == leases[-1].key)
                        .values(attempts=2))
    commits: list[int] = []

    def committed(_connection) -> None:
        commits.append(1)

    event.listen(org, "commit", committed)
    together, inside, go_on = Together(org), threading.Event(), threading.Event()

    def first(connection) -> bool:  # holds its transaction while the others arrive
        inside.set()
        assert go_on.wait(10)
        return finish_on(connection, leases[0])

    try:
        with ThreadPoolExecutor(max_workers=21) as pool:
            leading = pool.submit(together.run, first)
            assert inside.wait(10)
            rest = [pool.submit(together.run, lambda connection, lease=lease:
                                finish_on(connection, lease)) for lease in leases[1:]]
            wait_until(lambda: len(together._queue) == 20, "the others queued")
            go_on.set()
            held_ = [leading.result(10), *(future.result(10) for future in rest)]
    finally:
        event.remove(org, "commit", committed)
    assert held_ == [True] * 20 + [False]
    assert [row.done_at is not None for row in rows(org, InboxItem)] == [True] * 20 + [False]
    assert len(commits) < 20


def test_a_write_that_fails_fails_its_transaction_for_every_caller_alike(org):
    together = Together(org)
    with pytest.raises(ZeroDivisionError):
        together.run(lambda _connection: 1 / 0)
    assert together.run(lambda connection: connection.execute(
        select(func.count()).select_from(InboxItem)).scalar_one()) == 0  # the next one runs
