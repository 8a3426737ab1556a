"""A lock that serves threads in the order they asked for it.

SQLite lets one writer in at a time and makes the others poll: a waiting writer
sleeps, retries, and loses to whichever thread happens to retry first when the
lock comes free, so one command can wait seconds while another thread commits
hundreds. Within one process Frontline queues its SQLite transactions on this
lock instead: the releasing thread hands it straight to the longest waiter.
"""

import threading
from collections import deque


class FairLock:
    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[tuple[int, threading.Event]] = deque()
        self._owner: int | None = None

    def held_by_me(self) -> bool:
        return self._owner == threading.get_ident()

    def waiting(self) -> int:
        """How many threads are queued (for tests and diagnostics)."""
        with self._mutex:
            return len(self._waiters)

    def acquire(self, timeout: float) -> bool:
        """Wait for our turn, at most `timeout` seconds; False when it did not come."""
        me = threading.get_ident()
        with self._mutex:
            if self._owner is None:
                self._owner = me
                return True
            waiter = (me, threading.Event())
            self._waiters.append(waiter)
        if waiter[1].wait(timeout):
            return True
        with self._mutex:
            if waiter[1].is_set():  # handed over just as the wait ran out
                return True
            self._waiters.remove(waiter)
            return False

    def release(self) -> None:
        """Hand the lock to the longest waiter, who owns it from this moment."""
        with self._mutex:
            if not self._waiters:
                self._owner = None
                return
            self._owner, turn = self._waiters.popleft()
            turn.set()
