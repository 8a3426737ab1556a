"""The skeleton every fake platform API shares: a loopback HTTP server (the
platform's own SDK talks to it over real HTTP), a record of the calls it answered
and the messages it was asked to send, waiting for something to arrive, and
failures injected for the next calls of a method.

A fake extends `FakeApi`: `app()` declares the platform's routes, which call
`injected(method)` first (a platform-shaped failure, if one is due) and
`record(method, params)` for what they answer; `failure_response` gives a
failure the platform's shape; `MESSAGES` names the method that sends a message.
"""

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from tests.http_servers import serve
from tests.support import wait_until

T = TypeVar("T")


@dataclass(frozen=True)
class Failure:
    """What the next call of a method gets instead of its answer: an HTTP status,
    the platform's error (a name or a code), a Retry-After in seconds."""

    status: int | None = None
    error: str | int | None = None
    retry_after: int | None = None


class Arrivals:
    """Wakes a fake server's coroutine when the test, in its own thread, gives the fake
    something to serve (an update to poll, an envelope to push): a signal, not a poll."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrived: asyncio.Event | None = None

    def notify(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._arrived.set)

    async def wait(self, *, until: asyncio.Future | None = None,
                   timeout: float | None = None) -> None:
        """Until something arrives, `until` is done (a client that went away) or
        `timeout` passes; the caller looks again at what it serves."""
        if self._loop is not asyncio.get_running_loop():  # first wait, or served again
            self._loop, self._arrived = asyncio.get_running_loop(), asyncio.Event()
        arrival = asyncio.ensure_future(self._arrived.wait())
        try:
            await asyncio.wait({arrival, *([until] if until else [])}, timeout=timeout,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            arrival.cancel()
            self._arrived.clear()


@dataclass
class FakeApi:
    MESSAGES: ClassVar[str]  # the method that sends a message
    RECIPIENT: ClassVar[str]  # its parameter naming who receives it

    calls: list[tuple[str, dict]] = field(default_factory=list)  # every call answered
    failures: dict[str, list[Failure]] = field(default_factory=dict)  # method -> to come
    failed: list[tuple[str, Failure]] = field(default_factory=list)  # the ones given

    # --- the server -------------------------------------------------------
    def app(self) -> FastAPI:
        raise NotImplementedError

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serve the fake on 127.0.0.1; yields its base URL."""
        with serve(self.app()) as url:
            yield url

    # --- recording ----------------------------------------------------------
    def record(self, method: str, params: dict) -> None:
        self.calls.append((method, params))

    def sent(self, method: str | None = None) -> list[dict]:
        """The parameters of every answered call of `method` (default: the messages)."""
        method = method or self.MESSAGES
        return [params for name, params in self.calls if name == method]

    def texts_to(self, recipient: str | int) -> list[str]:
        """The texts of the messages sent to `recipient`, in order."""
        return [self.text_of(p) for p in self.sent() if str(p[self.RECIPIENT]) == str(recipient)]

    def text_of(self, params: dict) -> str:
        return params.get("text", "")

    # --- waiting ------------------------------------------------------------
    def wait_for(self, predicate: Callable[[], T], timeout: float = 10,
                 what: str = "the expected calls") -> T:
        """Poll until `predicate()` is truthy; returns its value."""
        try:
            return wait_until(predicate, what, timeout)
        except AssertionError as missing:
            raise AssertionError(f"{missing}; calls: {[name for name, _ in self.calls]}"
                                 ) from None

    def wait_for_calls(self, method: str, count: int, timeout: float = 10) -> list[dict]:
        """Wait until `method` was called `count` times; returns all its calls."""
        self.wait_for(lambda: len(self.sent(method)) >= count, timeout,
                      f"{count} calls of {method}")
        return self.sent(method)

    # --- failures -----------------------------------------------------------
    def fail(self, method: str, *, status: int | None = None, error: str | int | None = None,
             retry_after: int | None = None, times: int = 1) -> None:
        """The next `times` calls of `method` fail so (after the ones queued already)."""
        self.failures.setdefault(method, []).extend(
            [Failure(status, error, retry_after)] * times)

    def injected(self, method: str) -> Response | None:
        """The failure due for this call of `method`, as the platform would answer it."""
        queued = self.failures.get(method)
        if not queued:
            return None
        failure = queued.pop(0)
        self.failed.append((method, failure))
        return self.failure_response(method, failure)

    def failure_response(self, method: str, failure: Failure) -> Response:
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
        return JSONResponse({"error": failure.error}, status_code=failure.status or 500,
                            headers=headers)
