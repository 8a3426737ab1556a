"""Plays the demo history through the domain, in time order: each command as chat runs
it (`execute` with its own now), customers' responses through the survey import, and
the rituals at their fire times (the pulse and Golden Ear all along; every ritual in the
window a restart looks back on, so the first start finds nothing missed)."""

import csv
import heapq
import io
import itertools
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, update
from sqlmodel import select

from bot.demo.timeline import Say, Voice
from handlers import feedback
from handlers.dispatch import execute
from handlers.grammar import parse
from handlers.policy import Policy
from rituals.schedule import Target, fire_times, run_once, targets
from storage.engine import transaction
from storage.models import Feedback, Outbox, RecoveryCase

# Rituals played over the whole history; the others only in their look-back window.
ALL_ALONG = ("pulse", "golden_ear_open", "golden_ear_reminder", "golden_ear_close",
             "monthly_digest")


@dataclass(frozen=True)
class Fire:
    at: datetime
    target: Target


@dataclass
class Played:
    commands: int = 0
    responses: int = 0
    rituals: int = 0
    refused: list[str] = field(default_factory=list)  # what a custom config did not allow


def fires(engine: Engine, config: Policy, start: datetime, now: datetime) -> list[Fire]:
    found = []
    for target in targets(engine, config):
        since = start if target.ritual.name in ALL_ALONG else \
            max(start, now - target.ritual.lookback)
        found += (Fire(at, target) for at in fire_times(target.trigger(config), since, now))
    return found


def play(engine: Engine, config: Policy, events: list[Say | Voice | Fire]) -> Played:
    played, refs = Played(), {}
    order = itertools.count()
    queue = [(event.at, next(order), event) for event in events]
    heapq.heapify(queue)
    while queue:
        _at, _n, event = heapq.heappop(queue)
        if isinstance(event, Fire):
            played.rituals += run_once(engine, config, event.target, event.at, event.at) is not None
        elif isinstance(event, Voice):
            played.responses += _import(engine, config, event, refs)
        else:
            follow = _say(engine, config, event, refs, played)
            if follow is not None:
                heapq.heappush(queue, (follow.at, next(order), follow))
    return played


def _say(engine: Engine, config: Policy, say: Say, refs: dict[str, str],
         played: Played) -> Say | None:
    """Run the command; returns what follows it when it waits for a decision."""
    try:
        line = say.line.format_map(refs)
    except KeyError:  # it names a record that was refused
        played.refused.append(f"{say.who}: {say.line}")
        return None
    reply, _locale = execute(engine, config, "console", say.who, parse(line), now=say.at)
    played.commands += 1
    if not reply.ok:
        played.refused.append(f"{say.who}: {line} -> {reply.messages[-1].key}")
        return None
    first = reply.messages[0]
    if say.label is not None and "ref" in first.params:
        refs[say.label] = first.params["ref"]
    return None if first.key == "comp.recorded" else say.follow


def _import(engine: Engine, config: Policy, voice: Voice, refs: dict[str, str]) -> int:
    """One export of the survey tool, imported as `frontline feedback import` does; the
    cases it opens are named by their response's source id in `refs`."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=feedback.CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(voice.rows)
    with transaction(engine) as session:
        added = feedback.import_csv(session, text.getvalue(), voice.at, config.themes,
                                    config if voice.recovery else None).added
        if voice.recovery:
            refs.update((source_id, f"K{case_id}") for case_id, source_id in session.exec(
                select(RecoveryCase.id, Feedback.source_id)
                .join(Feedback, Feedback.id == RecoveryCase.feedback_id)
                .where(Feedback.source_id.in_([row["source_id"] for row in voice.rows]))))
        return added


def delivered(engine: Engine, until: datetime) -> None:
    """The history's notifications went out when they were written: the console is not
    sent six months of them when it starts."""
    with transaction(engine) as session:
        session.execute(update(Outbox).where(Outbox.delivered_at.is_(None),
                                             Outbox.created_at <= until)
                        .values(delivered_at=Outbox.created_at))
