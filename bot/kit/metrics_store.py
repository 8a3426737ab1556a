"""The metrics read from the database when `/metrics` is scraped: the outbox backlog,
ritual runs and misses, and the engine's connection pool."""

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from storage.engine import transaction
from storage.models import Outbox, RitualRun

log = logging.getLogger(__name__)
POOL_STATES = ("size", "checked_out", "idle", "overflow")


class StoreCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> list[Metric]:
        return []  # read at scrape time only: registering it touches no database

    def collect(self) -> Iterator[Metric]:
        yield from self._pool()
        up = GaugeMetricFamily("frontline_store_up", "1 when the database answered this "
                               "scrape's questions, else 0.")
        try:
            found = list(self._stored(datetime.now(UTC)))
        except SQLAlchemyError:
            log.warning("metrics: the database did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from found

    def _stored(self, now: datetime) -> Iterator[Metric]:
        pending = Outbox.delivered_at.is_(None)
        with transaction(self.engine) as session:
            backlog, oldest = session.exec(
                select(func.count(), func.min(Outbox.created_at)).where(pending)).one()
            failing = session.exec(select(func.count()).where(
                pending, Outbox.last_error != "")).one()
            runs = session.exec(select(RitualRun.ritual, RitualRun.status, func.count())
                                .group_by(RitualRun.ritual, RitualRun.status)).all()
        yield GaugeMetricFamily("frontline_outbox_pending",
                                "Notifications not yet delivered.", value=backlog)
        yield GaugeMetricFamily(
            "frontline_outbox_oldest_pending_seconds", "Age of the oldest notification "
            "not yet delivered (0 when none waits).",
            value=(now - oldest).total_seconds() if oldest is not None else 0)
        yield GaugeMetricFamily(
            "frontline_outbox_failing", "Notifications not yet delivered whose last "
            "attempt failed (waiting for their retry).", value=failing)
        ritual_runs = CounterMetricFamily(
            "frontline_ritual_runs", "Ritual runs recorded, by ritual and status (done, "
            "or missed while Frontline was stopped).", labels=["ritual", "status"])
        for ritual, status, count in runs:
            ritual_runs.add_metric([ritual, status], count)
        yield ritual_runs

    def _pool(self) -> Iterator[Metric]:
        """The connection pool's status, for pools that keep connections (QueuePool)."""
        pool = self.engine.pool
        if not all(hasattr(pool, name) for name in ("size", "checkedout", "checkedin",
                                                       "overflow")):
            return
        connections = GaugeMetricFamily(
            "frontline_db_pool_connections", "The database connection pool: its size, "
            "connections checked out, idle, and in overflow.", labels=["state"])
        for state, value in zip(POOL_STATES, (pool.size(), pool.checkedout(),
                                              pool.checkedin(), pool.overflow()), strict=True):
            connections.add_metric([state], value)
        yield connections
