"""The durable inbox: what a platform sent and was acknowledged for is stored
before the ack, so that it runs even if the worker that took it dies.

`accept` takes a place on the work pool, stores the request already claimed under
a lease (bot/kit/leases.py) and queues it; the ack follows. A full pool stores
nothing (the ack asks to send it again), or, for a request the platform will not
send again (a polled update), stores it unclaimed for a sweep. A platform's retry
of a stored request is acknowledged and not stored again (the key is unique). The
pool runs the request while a heartbeat renews the lease, then marks it done. A
worker that dies leaves its lease to run out; every worker's sweeper then takes
such requests, the ones stored and never started included, and runs them. The
command's own idempotency key makes a second run answer with the stored reply and
change nothing, so a death between the command and "done" sends the answer again
at worst.
"""

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, or_, select

from bot.kit.inbound import Event, idempotency_key
from bot.kit.leases import Keeper, Lease, claim_row, finish_on, held
from bot.kit.platform import PlatformSettings
from bot.kit.together import Together
from bot.kit.work_pool import WorkPool
from storage.engine import transaction
from storage.models import InboxItem
from storage.rows import dialect_insert

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # a request that failed this often is left, with its error, for a look
BATCH = 100  # requests a sweep takes at most (no more than the pool has room for)

Runner = Callable[[str, dict], None]  # (kind, payload): does what the request asks
Order = Callable[[str, dict], str | None]  # (kind, payload) -> runs after others of this key


def _now() -> datetime:
    return datetime.now(UTC)


class Inbox:
    def __init__(self, engine: Engine, platform: str, pool: WorkPool, run: Runner, *,
                 lease_seconds: float = 15.0, sweep_seconds: float = 3.0,
                 now: Callable[[], datetime] = _now, order: Order | None = None) -> None:
        self.engine, self.platform, self.pool, self.run = engine, platform, pool, run
        self.order = order or (lambda _kind, _payload: None)
        self.length = timedelta(seconds=lease_seconds)
        self.sweep_seconds, self.now = sweep_seconds, now
        self._stopping = threading.Event()
        self._sweeper: threading.Thread | None = None
        self.keeper = Keeper(f"{platform}-inbox", self.length)
        self.together = Together(engine)  # stores and "done" marks, group-committed
        self._insert = dialect_insert(engine.dialect.name)(InboxItem.__table__) \
            .on_conflict_do_nothing(index_elements=["key"]).returning(InboxItem.__table__.c.id)

    def accept(self, event: Event, kind: str, payload: dict, *,
               kept_if_full: bool = False) -> bool:
        """Store the request and queue it: True to acknowledge it (a repeat of a stored
        one too); False, having stored nothing, when the pool is full. With
        `kept_if_full` (a request the platform will not send again), a full pool
        stores it unclaimed instead, for a sweep to take once there is room."""
        pool, key = self.pool, idempotency_key(self.platform, event)
        if not pool.reserve():
            if kept_if_full:
                self._store(key, kind, payload, claimed=False)
            return kept_if_full
        try:
            row_id = self._store(key, kind, payload)
        except BaseException:
            pool.unreserve()
            raise
        if row_id is None:  # the platform sent it again: it is stored, and runs once
            pool.unreserve()
            return True
        lease = held(self.engine, InboxItem, row_id, 1, self.now, self.length, "done_at")
        if not pool.run_reserved(self._queued(lease, kind, payload), self._line_of(kind, payload)):
            lease.release()  # shutting down: another worker takes it at once
        return True

    def _store(self, key: str, kind: str, payload: dict, claimed: bool = True,
               ) -> int | None:
        """The new row's id, claimed as attempt 1 (or left for a sweep); None when
        the key is stored already."""
        moment = self.now()
        return self.together.run(lambda connection: connection.execute(
            self._insert, {"key": key, "platform": self.platform, "kind": kind,
                           "payload": payload, "received_at": moment,
                           "claimed_until": moment + self.length if claimed else None,
                           "attempts": int(claimed), "done_at": None, "last_error": ""},
            ).scalar_one_or_none())

    def _line_of(self, kind: str, payload: dict) -> str | None:
        """The request's place in line; a payload it cannot read runs unordered rather
        than leaving its place on the pool and its lease held."""
        try:
            return self.order(kind, payload)
        except Exception:
            log.exception("%s: no order for a %s request", self.platform, kind)
            return None

    def _queued(self, lease: Lease, kind: str, payload: dict) -> Callable[[], None]:
        """The pool's work for a request: if it waited in the queue long enough for its
        lease to be near its end, renew it first, and leave it if another worker has
        taken it meanwhile."""
        queued = self.now()

        def work() -> None:
            if self.now() - queued > self.length / 3 and not lease.renew():
                return
            self._run(lease, kind, payload)

        return work

    def _run(self, lease: Lease, kind: str, payload: dict) -> None:
        failed = ""
        with self.keeper.kept(lease):
            try:
                self.run(kind, payload)
            except Exception as error:  # retried after a back-off, a few times
                log.exception("%s: request %s failed", self.platform, lease.key)
                failed = f"{type(error).__name__}: {error}"[:500] or "failed"
        finished = lease.finish(failed) if failed else self.together.run(
            lambda connection: finish_on(connection, lease))
        if not finished:
            log.warning("%s: request %s was taken over before it was done",
                        self.platform, lease.key)

    def sweep(self) -> int:
        """Take the requests nobody holds (their worker died, or their retry is due) as
        far as the pool has room, and queue them; how many were taken."""
        moment, taken = self.now(), 0
        with transaction(self.engine) as session:
            due = session.execute(
                select(InboxItem.id, InboxItem.kind, InboxItem.payload).where(
                    InboxItem.platform == self.platform, InboxItem.done_at.is_(None),
                    InboxItem.attempts < MAX_ATTEMPTS,
                    or_(InboxItem.claimed_until.is_(None),
                        InboxItem.claimed_until < moment))
                .order_by(InboxItem.id).limit(BATCH)).all()
        for row_id, kind, payload in due:
            if not self.pool.reserve(quiet=True):
                break
            lease = claim_row(self.engine, InboxItem, row_id, self.now, self.length,
                              "done_at")
            if lease is None:  # another worker was quicker
                self.pool.unreserve()
                continue
            if not self.pool.run_reserved(self._queued(lease, kind, payload),
                                          self._line_of(kind, payload)):
                lease.release()
                break
            taken += 1
        if taken:
            log.info("%s: took over %d stored requests", self.platform, taken)
        return taken

    def start(self) -> None:
        """Sweep now (what a previous run left) and every few seconds until `stop`."""
        def sweeping() -> None:
            while True:
                try:
                    self.sweep()
                except Exception:
                    log.exception("%s: could not sweep the inbox", self.platform)
                if self._stopping.wait(self.sweep_seconds):
                    return

        self._stopping.clear()
        self._sweeper = threading.Thread(target=sweeping, daemon=True,
                                         name=f"{self.platform}-inbox")
        self._sweeper.start()

    def stop(self) -> None:
        """Stop sweeping, then finish what is queued (it was acknowledged)."""
        self._stopping.set()
        if self._sweeper is not None:
            self._sweeper.join()
        self.pool.stop()
        self.keeper.stop()


def inbox_for(engine: Engine, settings: PlatformSettings, run: Runner,
              order: Order | None = None) -> Inbox:
    """A platform's inbox, its work pool and lease as its settings say."""
    name = settings.section
    return Inbox(engine, name, WorkPool(f"{name}-work", settings.work_threads,
                                        settings.work_queue), run,
                 lease_seconds=settings.inbox_lease_seconds,
                 sweep_seconds=settings.inbox_sweep_seconds, order=order)
