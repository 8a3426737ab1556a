"""What the tests share: reading the database, waiting for another thread or process,
a clock the test moves, and the `frontline` command run in-process."""

import contextlib
import io
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from unittest import mock

from sqlalchemy import func
from sqlmodel import select

from bot import cli
from points import ledger
from storage.engine import make_engine, transaction
from storage.models import Employee, Outbox

T = TypeVar("T")


def rows(engine, model, **filters):
    """The rows of `model` matching `filters`, in the order they were added (the primary
    key's; PostgreSQL returns an unordered select in whatever order its pages hold)."""
    with transaction(engine) as session:
        query = select(model).order_by(*model.__table__.primary_key.columns)
        for column, value in filters.items():
            query = query.where(getattr(model, column) == value)
        return list(session.exec(query).all())


def count(engine, model, **filters) -> int:
    with transaction(engine) as session:
        query = select(func.count()).select_from(model)
        for column, value in filters.items():
            query = query.where(getattr(model, column) == value)
        return int(session.exec(query).one())


def employee(engine, handle: str) -> Employee:
    return rows(engine, Employee, handle=handle)[0]


def balance(engine, handle: str) -> int:
    with transaction(engine) as session:
        return ledger.balance(session, employee(engine, handle).id)


def credit(engine, handle: str, amount: int, key: str, *, reason: str = "praise",
           note: str = "", when: datetime | None = None) -> int | None:
    """Post points straight to the ledger (a debit when negative)."""
    with transaction(engine) as session:
        return ledger.post(session, employee_id=employee(engine, handle).id, amount=amount,
                           reason=reason, source_type="test", source_id=None, actor_id=None,
                           idempotency_key=key, now=when or datetime.now(UTC), note=note)


def notifications(engine, handle: str | None = None) -> list[Outbox]:
    """Queued notifications to a person (or to all staff when handle is None), oldest first."""
    if handle is None:
        return rows(engine, Outbox, audience="all")
    return rows(engine, Outbox, audience="person", employee_id=employee(engine, handle).id)


def has_room(pool) -> bool:
    """Whether a work pool would take work now; the place tried is given back, so the
    next request finds it free (submitting a no-op would hold it a moment)."""
    if not pool.reserve(quiet=True):
        return False
    pool.unreserve()
    return True


def held(inbox, gate: threading.Event, first: Callable[[dict], bool]) -> list[dict]:
    """Make the inbox run the stored request that `first` picks only once `gate` is
    set; the payloads of the requests that have run, in the order they finished."""
    run, ran = inbox.run, []

    def gated(kind: str, payload: dict) -> None:
        if first(payload):
            assert gate.wait(10)
        run(kind, payload)
        ran.append(payload)

    inbox.run = gated
    return ran


def wait_until(condition: Callable[[], T], what: str, timeout: float = 10) -> T:
    """Poll `condition` until it is truthy; its value. The one way tests wait for
    something another thread or process does."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.01)
    return value


def settled(pool) -> None:
    """Wait until a work pool has nothing running or queued: whatever a request could
    still have caused has happened (a request is queued before its ack)."""
    wait_until(pool.idle, f"{pool.name} idle")


class Clock:
    """A clock the test moves, for code that takes `now`: leases run out, back-offs
    end and deadlines pass when the test says, not after a real wait."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


def frontline(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """`frontline --config CONFIG ARGS…` with `stdin` as its input, run in this process
    from the config's folder: its exit code and output as the process gives them, in a
    fraction of the time. (What only a process shows, the entry point, a server, a
    terminal, is tested by starting one.)"""
    out, err, engines = io.StringIO(), io.StringIO(), []

    def opened(url: str, *more, **options):
        engines.append(make_engine(url, *more, **options))
        return engines[-1]

    with (contextlib.chdir(config.parent), contextlib.redirect_stdout(out),
          contextlib.redirect_stderr(err), mock.patch.object(sys, "stdin", io.StringIO(stdin)),
          mock.patch.object(cli, "make_engine", opened)):
        try:
            code = cli.main(["--config", str(config), *args])
        except SystemExit as exit_:  # argparse's refusals
            code = exit_.code
        finally:
            for engine in engines:  # a process's end would close its connections
                engine.dispose()
    return subprocess.CompletedProcess(["frontline", *args], code, out.getvalue(),
                                       err.getvalue())


class Heartbeat:
    """The lease's heartbeat, paced by the test: `beat()` lets it renew once and returns
    when it has, instead of every third of the lease in real time."""

    def __init__(self):
        self.ready = threading.Semaphore(0)  # the heart waits for its next beat
        self.due = threading.Semaphore(0)

    def pause(self, stop: threading.Event, seconds: float) -> bool:
        self.ready.release()
        while not self.due.acquire(timeout=0.01):  # until beaten, or its send is over
            if stop.is_set():
                return True
        return False

    def beat(self) -> None:
        assert self.ready.acquire(timeout=10), "the heartbeat is not waiting"
        self.due.release()
        assert self.ready.acquire(timeout=10), "the heartbeat did not renew"
        self.ready.release()  # it waits again
