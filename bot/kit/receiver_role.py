"""A receiver that only one worker may run at a time (Telegram polling; a
long-connection client such as DingTalk Stream or Feishu's), run under a named
lease in the database (bot/kit/leases.py): the worker that takes the lease
starts the receiver and renews the lease while it runs; a worker that loses it,
or cannot renew it in time, stops the receiver; a dead worker's lease runs out and
another worker takes over; a graceful stop releases it at once."""

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bot.kit.leases import Lease, claim_role

log = logging.getLogger(__name__)


class ReceiverRole:
    def __init__(self, engine: Engine, name: str, seconds: float,
                 start: Callable[[], Awaitable[None]],
                 stop: Callable[[], Awaitable[None]]) -> None:
        self.engine, self.name = engine, name
        self.length = timedelta(seconds=seconds)
        self.beat = seconds / 3  # renewals per lease length: two may fail before it ends
        self.start_receiver, self.stop_receiver = start, stop
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.lease: Lease | None = None  # held while this worker runs the receiver

    async def run(self) -> None:
        """Until cancelled: wait for the role, run the receiver while holding it."""
        while True:
            try:
                self.lease = await asyncio.to_thread(
                    claim_role, self.engine, self.name, self.holder,
                    lambda: datetime.now(UTC), self.length)
            except Exception:
                log.exception("could not ask for the %s lease", self.name)
            if self.lease is None:
                await asyncio.sleep(self.beat)
                continue
            log.info("this worker runs %s now (lease %s)", self.name, self.lease.attempt)
            try:
                await self.start_receiver()
                await self._keep(self.lease)
                log.warning("this worker lost the %s lease; standing by", self.name)
            except Exception:  # the platform unreachable, say: give the role up for now
                log.exception("%s failed; standing by", self.name)
            finally:
                await self.stop_receiver()
                lease, self.lease = self.lease, None
                if not lease.lost:  # the next holder need not wait for it to run out
                    await asyncio.to_thread(lease.release)
            await asyncio.sleep(self.beat)

    async def _keep(self, lease: Lease) -> None:
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(self.beat)
            try:
                if not await asyncio.to_thread(lease.renew):
                    return
                renewed = time.monotonic()
            except Exception:
                log.exception("could not renew the %s lease", self.name)
                if time.monotonic() - renewed > 2 * self.beat:  # stop before another starts
                    return
