"""A demo organisation, so Frontline can be tried with no chat account at all: two
stores and head office with six months of history (`bot.demo.story`,
`bot.demo.episodes`), played through the domain so every page has something to show."""

import random
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import select

from bot.demo.cast import DEMO_ORGANISATION, DEMO_STAFF
from bot.demo.episodes import it_fixed, scripted
from bot.demo.play import Played, delivered, fires, play
from bot.demo.story import everyday
from bot.demo.timeline import Timeline
from handlers.calendar import local_midnight
from handlers.directory import import_csv
from handlers.policy import Policy
from storage.engine import transaction
from storage.models import Employee

__all__ = ["DEMO_ORGANISATION", "DEMO_STAFF", "HISTORY_DAYS", "history", "seed_if_empty"]
HISTORY_DAYS = 183  # six months, ending now
SEED = 32  # the same now gives the same history


def seed_if_empty(engine: Engine, config: Policy, *, with_history: bool = True,
                  now: datetime | None = None, days: int = HISTORY_DAYS) -> Played | None:
    """Load the demo organisation and its history into an empty directory; returns what
    was played, or None when the directory had people already. Without the history, the
    five people of `DEMO_STAFF` alone (a scripted `frontline chat` starts from nothing)."""
    with transaction(engine) as session:
        if session.exec(select(Employee.id)).first() is not None:
            return None
        import_csv(session, config, DEMO_ORGANISATION if with_history else DEMO_STAFF)
    if not with_history:
        return Played()
    return history(engine, config, now or datetime.now(UTC), days)


def history(engine: Engine, config: Policy, now: datetime, days: int) -> Played:
    line = Timeline(config.organisation.tz, now, days, random.Random(SEED))
    everyday(line, config, it_fixed(line))
    scripted(line, config)
    start = local_midnight(line.first_day, line.tz)
    played = play(engine, config, [*line.events, *fires(engine, config, start, now)])
    delivered(engine, now)
    return played
