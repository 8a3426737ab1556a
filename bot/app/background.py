"""What a `frontline run` process does besides answering: the rituals' scheduler and
the outbox dispatcher, started together and stopped without dropping work midway."""

import threading
from collections.abc import Sequence

from sqlalchemy import Engine

from bot.kit.outbox import Channel, drain
from handlers.policy import Policy
from rituals import schedule


class Background:
    def __init__(self, engine: Engine, config: Policy, channels: Sequence[Channel],
                 every: float = 2) -> None:
        self.stopping = threading.Event()
        self.scheduler = schedule.build_scheduler(engine, config)
        self.scheduler.add_job(drain, "interval", seconds=every, id="outbox",
                               args=(engine, list(channels)), kwargs={
                                   "stop": self.stopping,
                                   "languages": config.organisation.shared_languages,
                                   "policy": config},
                               max_instances=1, coalesce=True)

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        """Blocks until the work under way is done: the outbox finishes the notification
        it is sending and claims no other, and a ritual run under way completes (it is
        one transaction, so it is never left half-posted). No job starts after this."""
        self.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
