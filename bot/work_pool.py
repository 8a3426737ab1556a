"""Where a platform's command work runs once the request is acknowledged: a few
threads and a bounded queue, apart from the threads that answer HTTP. When the
queue is full, `submit` says so at once, so the ack still goes out (telling the
user to send it again); the idempotency key makes that retry safe."""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


class WorkPool:
    def __init__(self, name: str, threads: int, queue: int) -> None:
        self.name = name
        self._room = threading.BoundedSemaphore(threads + queue)  # running + waiting
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix=name)

    def submit(self, work: Callable[[], None]) -> bool:
        """Queue `work`; False, without queueing it, when the pool is full."""
        if not self._room.acquire(blocking=False):
            return False

        def run() -> None:
            try:
                work()
            except Exception:
                log.exception("%s: a command's work failed after its ack", self.name)
            finally:
                self._room.release()

        try:
            self._executor.submit(run)
        except RuntimeError:  # shutting down: refuse rather than drop it
            self._room.release()
            return False
        return True

    def stop(self) -> None:
        """Finish what was queued (it was acknowledged), accept nothing more."""
        self._executor.shutdown(wait=True)
