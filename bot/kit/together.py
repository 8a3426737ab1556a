"""Group commit: small writes that arrive together share one transaction.

The first thread to arrive leads: it runs its own write and every write queued
meanwhile in one transaction, while the others wait for it; whoever arrives during
that transaction leads the next. A quiet process pays nothing (a lone write is its
own transaction, at once); a busy one pays one transaction (on SQLite, one turn at
the writers' lock) for many writes, e.g. the inbox's stores before their acks and
its "done" marks. A write that fails fails the transaction, and so every write in
it: each caller gets the error, as it would have alone."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine

T = TypeVar("T")


@dataclass
class _Write(Generic[T]):
    work: Callable[[Connection], T]
    done: bool = False
    result: Any = None
    error: BaseException | None = None


class Together:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: list[_Write] = []
        self._leading = False
        self._turn = threading.Condition()

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run `work` on a connection in a transaction shared with the writes that
        arrived with it; its result once that transaction has committed."""
        write = _Write(work)
        with self._turn:
            self._queue.append(write)
            while not write.done and self._leading:
                self._turn.wait()
            if not write.done:
                self._leading, batch, self._queue = True, self._queue, []
        if not write.done:
            try:
                self._commit(batch)
            finally:
                with self._turn:
                    self._leading = False
                    self._turn.notify_all()
        if write.error is not None:
            raise write.error
        return write.result

    def _commit(self, batch: list[_Write]) -> None:
        try:
            with self.engine.begin() as connection:
                for write in batch:
                    write.result = write.work(connection)
        except BaseException as error:
            for write in batch:
                write.result, write.error = None, error
        finally:
            for write in batch:
                write.done = True
