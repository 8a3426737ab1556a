"""Prometheus metrics, one registry per web app (`/metrics`).

What happens in the process is counted as it happens: every command that comes in
through `bot/kit/inbound.py` (by platform, command and outcome, with its latency), every
outbox delivery that fails (by channel), and how long each webhook took to answer
(`AckTimer`). An app counts only while it serves (`serving`) and only the work done
on its own engine, so several apps in one process (the tests) keep apart. What is
stored is read from the database when scraped (bot/kit/metrics_store.py).

With several workers (`frontline run --workers N`) each worker counts into files in a
directory they share and a scrape, whichever worker answers it, adds them all up:
prometheus-client's multiprocess mode, started by the parent (`shared_by_workers`).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    multiprocess,
    values,
)
from prometheus_client.exposition import generate_latest
from sqlalchemy import Engine

from bot.kit.metrics_store import StoreCollector
from handlers.base import Reply
from handlers.registry import Command, OpenForm, Unparsed

if TYPE_CHECKING:  # the web framework is imported by the app that serves /metrics only
    from fastapi import APIRouter  # (a CLI command counts commands, it serves nothing)
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
SHARED_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's multiprocess mode


def command_label(command: Command) -> str:
    """The command's kind in snake case (`PraiseLog` -> `praise_log`); for text that
    did not parse, the verb it was meant as (or `unknown`)."""
    if isinstance(command, Unparsed | OpenForm):
        return command.topic or "unknown"
    return _CAMEL.sub("_", type(command).__name__).lower()


def outcome(command: Command, reply: Reply) -> str:
    if isinstance(command, Unparsed | OpenForm):
        return "unparsed"
    return "ok" if reply.ok else "refused"


class _SizedFilesCollector(multiprocess.MultiProcessCollector):
    """Every worker's files but one a worker is creating this instant: prometheus_client
    opens a metrics file before it sizes it, and reading it empty fails the whole
    scrape (a worker restarting after a crash would make /metrics answer 500)."""

    def collect(self):
        return self.merge([path for path in glob.glob(os.path.join(self._path, "*.db"))
                           if _sized(path)], accumulate=True)


def _sized(path: str) -> bool:
    try:
        return os.path.getsize(path) > 0
    except OSError:  # gone with its worker since the listing
        return False


class Metrics:
    """The metrics of one app on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        own = CollectorRegistry(auto_describe=True)
        self.commands = Counter(
            "frontline_commands", "Commands run, by platform, command and outcome "
            "(ok, refused, unparsed).", ["platform", "command", "outcome"], registry=own)
        self.command_seconds = Histogram(
            "frontline_command_seconds", "Time to run one command (its transaction "
            "included).", ["platform", "command"], registry=own)
        self.ack_seconds = Histogram(
            "frontline_ack_seconds", "Time from a webhook request's arrival to the end "
            "of its answer, by platform.", ["platform"], registry=own)
        self.delivery_failures = Counter(
            "frontline_outbox_delivery_failures", "Outbox sends that failed, by channel.",
            ["channel"], registry=own)
        shared = os.environ.get(SHARED_DIR)
        if shared:  # every worker's files, not this process's registry (it is in them)
            self.registry = CollectorRegistry()
            _SizedFilesCollector(self.registry, shared)
        else:
            self.registry = own
        self.registry.register(StoreCollector(engine))  # once, from the answering worker

    def command(self, platform: str, command: Command, reply: Reply, seconds: float) -> None:
        label = command_label(command)
        self.commands.labels(platform, label, outcome(command, reply)).inc()
        self.command_seconds.labels(platform, label).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


@contextmanager
def shared_by_workers() -> Iterator[str]:
    """In the parent of several workers, before they are forked: the metrics they make
    are kept in a fresh directory, removed when the run ends."""
    path = tempfile.mkdtemp(prefix="frontline-metrics-")
    before = os.environ.get(SHARED_DIR), values.ValueClass
    os.environ[SHARED_DIR] = path
    # prometheus-client chooses where values live when it is imported, before
    # `--workers` was read: choose again (its own tests switch modes this way)
    values.ValueClass = values.MultiProcessValue()
    try:
        yield path
    finally:
        if before[0] is None:
            os.environ.pop(SHARED_DIR, None)
        else:
            os.environ[SHARED_DIR] = before[0]
        values.ValueClass = before[1]
        shutil.rmtree(path, ignore_errors=True)


def worker_ended(pid: int) -> None:
    """A worker has ended: its live gauges go; its counts stay in the totals."""
    multiprocess.mark_process_dead(pid)


_SERVING: list[Metrics] = []  # the apps serving in this process
_SERVING_LOCK = threading.Lock()


@contextmanager
def serving(metrics: Metrics) -> Iterator[Metrics]:
    """Count this process's work into `metrics` while the block runs (an app's life)."""
    with _SERVING_LOCK:
        _SERVING.append(metrics)
    try:
        yield metrics
    finally:
        with _SERVING_LOCK:
            _SERVING.remove(metrics)


def _on(engine: Engine) -> list[Metrics]:
    with _SERVING_LOCK:
        return [metrics for metrics in _SERVING if metrics.engine is engine]


def command_ran(engine: Engine, platform: str, command: Command, reply: Reply,
                seconds: float) -> None:
    for metrics in _on(engine):
        metrics.command(platform, command, reply, seconds)


def delivery_failed(engine: Engine, channel: str) -> None:
    for metrics in _on(engine):
        metrics.delivery_failures.labels(channel).inc()


class AckTimer:
    """ASGI middleware: times each webhook (`webhooks`: path -> the platform it
    acknowledges for, from the platforms' own routes) until its answer is sent."""

    def __init__(self, app: ASGIApp, metrics: Metrics, webhooks: Mapping[str, str]) -> None:
        self.app, self.metrics, self.webhooks = app, metrics, webhooks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        platform = self.webhooks.get(scope["path"]) if scope["type"] == "http" else None
        if platform is None:
            await self.app(scope, receive, send)
            return
        started, timed = time.perf_counter(), False

        async def timing(message: Message) -> None:
            nonlocal timed
            await send(message)
            if (not timed and message["type"] == "http.response.body"
                    and not message.get("more_body", False)):
                timed = True
                self.metrics.ack_seconds.labels(platform).observe(
                    time.perf_counter() - started)

        await self.app(scope, receive, timing)


def router(metrics: Metrics) -> APIRouter:
    from fastapi import APIRouter, Response

    routes = APIRouter()

    @routes.get("/metrics", include_in_schema=False)
    def scrape() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return routes
