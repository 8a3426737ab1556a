"""Where a platform's command work runs once the request is acknowledged: a few
threads and a bounded queue, apart from the threads that answer HTTP. When the
queue is full, `submit` says so at once, so the ack still goes out (telling the
user to send it again); the idempotency key makes that retry safe. Work given a key
(e.g. the person who sent it) runs after the earlier work of the same key, so one
person's quick messages are handled in the order they came; other keys run beside."""

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)
WARN_EVERY = 10.0  # seconds: an overload is logged once per this, with its count


class WorkPool:
    def __init__(self, name: str, threads: int, queue: int) -> None:
        self.name = name
        self._room = threading.BoundedSemaphore(threads + queue)  # running + waiting
        self._taken = 0  # places reserved and not yet given back
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix=name)
        self._refused, self._warned = 0, 0.0
        self._lines: dict[str, deque[Callable[[], None]]] = {}  # key -> work waiting its turn
        self._lines_lock = threading.Condition()

    def submit(self, work: Callable[[], None]) -> bool:
        """Queue `work`; False, without queueing it, when the pool is full."""
        return self.reserve() and self.run_reserved(work)

    def reserve(self, quiet: bool = False) -> bool:
        """Take a place for work to come (False when full): what must be stored before
        it is queued (bot/kit/inbox.py) is stored only once it has a place."""
        if self._room.acquire(blocking=False):
            with self._lines_lock:
                self._taken += 1
            return True
        if not quiet:
            self._overloaded()
        return False

    def unreserve(self) -> None:
        """Give back a place taken with `reserve` and not used."""
        with self._lines_lock:
            self._taken -= 1
        self._room.release()

    def run_reserved(self, work: Callable[[], None], key: str | None = None) -> bool:
        """Queue `work` in a place taken with `reserve`, after the earlier work of the
        same `key` if any is still to finish; False when shutting down."""
        if key is not None:
            with self._lines_lock:
                if key in self._lines:  # keeps its place until its turn comes
                    self._lines[key].append(work)
                    return True
                self._lines[key] = deque()
        if self._submit(work, key):
            return True
        if key is not None:
            self._next_of(key)
        return False

    def _submit(self, work: Callable[[], None], key: str | None) -> bool:
        def run() -> None:
            try:
                work()
            except Exception:
                log.exception("%s: a command's work failed after its ack", self.name)
            finally:
                self.unreserve()
                if key is not None:
                    self._next_of(key)

        try:
            self._executor.submit(run)
        except RuntimeError:  # shutting down: refuse rather than drop it
            self.unreserve()
            return False
        return True

    def _next_of(self, key: str) -> None:
        """Queue the next work of `key`, if any waits. Shutting down, what waits is
        given up with its place (a stored request is run by another worker)."""
        while True:
            with self._lines_lock:
                line = self._lines[key]
                if not line:
                    del self._lines[key]
                    self._lines_lock.notify_all()
                    return
                work = line.popleft()
            if self._submit(work, key):
                return

    def idle(self) -> bool:
        """Whether no work is running, queued or about to be (a place reserved)."""
        with self._lines_lock:
            return self._taken == 0

    def _overloaded(self) -> None:
        self._refused += 1  # a count for the log only: races cost nothing
        if time.monotonic() - self._warned >= WARN_EVERY:
            self._warned = time.monotonic()
            log.warning("%s is full: %d requests were asked to be sent again",
                        self.name, self._refused)
            self._refused = 0

    def stop(self) -> None:
        """Finish what was queued (it was acknowledged), work waiting for its key's
        turn included, and accept nothing more."""
        with self._lines_lock:
            self._lines_lock.wait_for(lambda: not self._lines)
        self._executor.shutdown(wait=True)
