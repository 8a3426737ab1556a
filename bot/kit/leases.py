"""A worker's hold on something only one worker may do at a time: an outbox
notification while it sends it, an inbox request while it runs (bot/kit/inbox.py), or
a named role such as the Telegram poller.

A claim is a conditional update that also counts the attempt; the attempt number
it leaves is the claim's fencing token. Renewing, finishing and giving up are
conditional on that number, so a worker whose lease ran out and was taken over
finds out at its next step instead of overwriting the new holder's work. While a
notification is being sent a heartbeat renews its lease, so a send slower than the
lease (a rate-limited platform) is not taken over by another worker; a named role
is renewed the same way for as long as its holder lives.
"""

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Connection, Engine, Update, bindparam, or_, update

from storage.engine import transaction
from storage.models import HeldLease, Outbox
from storage.rows import dialect_insert

log = logging.getLogger(__name__)

RETRY_FIRST, RETRY_MAX = timedelta(seconds=5), timedelta(minutes=10)


@cache
def _update(table: type, key_column: str, done: str | None, sets: tuple[str, ...]) -> Update:
    """The update of `sets` that applies only while a claim is the current one (its key
    and attempt, and its row not done), built once: leases are taken and let go on
    every request, and composing a statement cost more than running it."""
    rows = table.__table__.c  # Core: the ORM's bulk update bookkeeping adds nothing here
    current = [rows[key_column] == bindparam("lease_key"),
               rows.attempts == bindparam("lease_attempt")]
    if done is not None:
        current.append(rows[done].is_(None))
    return update(table.__table__).where(*current).values(
        {column: bindparam(f"set_{column}") for column in sets})


@dataclass
class Lease:
    engine: Engine
    key: int | str  # the notification's id, or the role's name
    attempt: int  # the fencing token: the attempt number this claim set
    length: timedelta
    now: Callable[[], datetime]
    table: type  # the leased table: a row's (by id) or a role's (HeldLease, by name)
    done: str | None = "delivered_at"  # the column `finish` sets when the work is done
    key_column: str = "id"
    lost: bool = False
    ended: bool = False
    # renew (from the heartbeat too) and finish take turns, so a renewal can never
    # land after finish and stretch a failed notification's back-off to a lease
    _steps: threading.Lock = field(default_factory=threading.Lock)

    def set_on(self, connection: Connection, **values) -> bool:
        """Set `values` on the row if this claim is still the current one."""
        statement = _update(self.table, self.key_column, self.done, tuple(sorted(values)))
        return connection.execute(statement, {
            "lease_key": self.key, "lease_attempt": self.attempt,
            **{f"set_{column}": value for column, value in values.items()}}).rowcount == 1

    def renew(self) -> bool:
        """Extend the lease; False (and `lost`) once another worker has taken it over."""
        with self._steps:
            if not self.lost and not self.ended:
                with self.engine.begin() as connection:
                    held = self.set_on(connection, claimed_until=self.now() + self.length)
                self.lost = not held
            return not self.lost

    def finish(self, failed: str) -> bool:
        """Mark the notification delivered, or schedule its retry after a back-off that
        grows with each attempt. False when the lease was lost first."""
        if failed:
            delay = min(RETRY_FIRST * 2 ** (self.attempt - 1), RETRY_MAX)
            values = dict(last_error=failed, claimed_until=self.now() + delay)
        else:
            values = {self.done: self.now()}
        with self._steps, self.engine.begin() as connection:
            self.ended = True
            return self.set_on(connection, **values)

    def release(self) -> bool:
        """Give the notification back undelivered, due at once, for another worker (or
        this one's next round) to take without waiting for the lease to run out. False
        when the lease was lost or ended first."""
        with self._steps:
            if self.lost or self.ended:
                return False
            self.ended = True
            with self.engine.begin() as connection:
                return self.set_on(connection, claimed_until=None)


def claim(engine: Engine, outbox_id: int, now: Callable[[], datetime],
          length: timedelta) -> Lease | None:
    """Take one due notification for `length`; None when it is not due or another
    worker holds it."""
    return claim_row(engine, Outbox, outbox_id, now, length)


def claim_row(engine: Engine, table: type, row_id: int, now: Callable[[], datetime],
              length: timedelta, done: str = "delivered_at") -> Lease | None:
    """Take one row of a leased table (id, claimed_until, attempts and a `done`
    moment) for `length`, if it is not done and nobody holds it."""
    moment, rows = now(), table.__table__.c
    with engine.begin() as connection:
        attempt = connection.execute(
            update(table.__table__).where(
                rows.id == row_id, rows[done].is_(None),
                or_(rows.claimed_until.is_(None), rows.claimed_until < moment))
            .values(claimed_until=moment + length, attempts=rows.attempts + 1)
            .returning(rows.attempts)).scalar_one_or_none()
    if attempt is None:
        return None
    return held(engine, table, row_id, attempt, now, length, done)


def held(engine: Engine, table: type, row_id: int, attempt: int,
         now: Callable[[], datetime], length: timedelta, done: str = "delivered_at",
         ) -> Lease:
    """The lease a worker holds on a row it has just claimed as attempt `attempt`
    (by `claim_row`, or by inserting it already claimed)."""
    return Lease(engine, row_id, attempt, length, now, table, done)


def claim_role(engine: Engine, name: str, holder: str, now: Callable[[], datetime],
               length: timedelta) -> Lease | None:
    """Take the role `name` for `length` if nobody holds it (or their lease ran out);
    None while another worker holds it. Renew it with `kept`, give it up with
    `release`."""
    moment = now()
    with transaction(engine) as session:
        session.execute(dialect_insert(engine.dialect.name)(HeldLease.__table__)
                        .values(name=name, holder="", attempts=0, claimed_until=None)
                        .on_conflict_do_nothing(index_elements=["name"]))
        attempt = session.execute(
            update(HeldLease).where(
                HeldLease.name == name,
                or_(HeldLease.claimed_until.is_(None), HeldLease.claimed_until < moment))
            .values(claimed_until=moment + length, attempts=HeldLease.attempts + 1,
                    holder=holder)
            .returning(HeldLease.attempts)).scalar_one_or_none()
    if attempt is None:
        return None
    return Lease(engine, name, attempt, length, now, HeldLease, None, "name")


# Waits up to the given seconds for the event; True once it is set. A test passes one
# it drives, so the heartbeat beats when the test says, not after a real wait.
Pause = Callable[[threading.Event, float], bool]


class Keeper:
    """One thread that renews every lease it holds, three times per lease length, while
    its work runs (a send slower than the lease, on a rate-limited platform, is not
    taken over by another worker). One per inbox or dispatch, not one per lease: most
    work is done in milliseconds, and starting a heartbeat thread for each cost more
    than the work's own statements. A lease lost to another worker is not renewed."""

    def __init__(self, name: str, length: timedelta, pause: Pause = threading.Event.wait,
                 ) -> None:
        self.name, self.length, self.pause = name, length, pause
        self._leases: dict[int, Lease] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def kept(self, lease: Lease) -> Iterator[Lease]:
        with self._lock:
            self._leases[id(lease)] = lease
            if self._thread is None:
                self._thread = threading.Thread(target=self._beat, daemon=True,
                                                name=f"{self.name}-leases")
                self._thread.start()
        try:
            yield lease
        finally:
            with self._lock:
                self._leases.pop(id(lease), None)

    def _beat(self) -> None:
        while not self.pause(self._stop, self.length.total_seconds() / 3):
            with self._lock:
                leases = list(self._leases.values())
            for lease in leases:
                try:
                    lease.renew()
                except Exception:  # the next beat, or the next step, tries again
                    log.exception("could not renew the lease on %s", lease.key)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def finish_on(connection: Connection, lease: Lease) -> bool:
    """`Lease.finish` of work done, in a transaction shared with others (see
    bot/kit/together.py); False when the lease was lost first."""
    with lease._steps:
        lease.ended = True
        return lease.set_on(connection, **{lease.done: lease.now()})
