"""The demo history's timeline: what happens when, in the organisation's local days,
ending before a given "now", with one seeded random so that the same now gives the same
history."""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.calendar import local_midnight

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Say:
    """A chat command; `{label}` in the line names a record an earlier one made, and
    `label` names the record this one makes (its reference, e.g. C12)."""

    at: datetime
    who: str
    line: str
    label: str | None = None
    follow: "Say | None" = None  # what comes next, when this one waits for a decision


@dataclass(frozen=True)
class Voice:
    """Customer responses imported from a survey tool's export (feedback.CSV_COLUMNS).
    With `recovery`, imported under the organisation's policy: its unhappy responses
    open cases, its good ones are told and credited (the scripted exports only, so the
    history holds a few cases rather than hundreds left open); each case opened is
    named in later lines by its response's source id (`recover {demo-case-1} …`)."""

    at: datetime
    rows: tuple[dict[str, str], ...]
    recovery: bool = False


@dataclass
class Timeline:
    tz: ZoneInfo
    now: datetime
    days: int
    rng: random.Random
    events: list[Say | Voice] = field(default_factory=list)
    labels: int = 0

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    @property
    def first_day(self) -> date:
        return self.today - timedelta(days=self.days)

    @property
    def last(self) -> datetime:
        """Nothing in the history happens later than this."""
        return self.now - MINUTE

    def history_days(self) -> list[date]:
        """Every local day of the history before today."""
        return [self.first_day + timedelta(days=n) for n in range(self.days)]

    def at(self, day: date, earliest: int = 9, latest: int = 20) -> datetime:
        """A moment of the local working day, from `earliest` to `latest` o'clock."""
        minutes = self.rng.randrange(earliest * 60, latest * 60)
        return (local_midnight(day, self.tz) + timedelta(minutes=minutes)).astimezone(UTC)

    def share(self, fraction: float) -> date:
        """The day `fraction` of the way through the history."""
        return self.first_day + timedelta(days=int(self.days * fraction))

    def clock(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.tz).astimezone(UTC)

    def later(self, moment: datetime, hours: float) -> datetime:
        """`hours` after `moment`, but before now (a follow-up the history has seen)."""
        return max(moment + MINUTE, min(moment + timedelta(hours=hours), self.last))

    def label(self) -> str:
        self.labels += 1
        return f"r{self.labels}"

    def say(self, at: datetime, who: str, line: str) -> None:
        """A command, unless it would be in the future."""
        self.chain((at, who, line))

    def chain(self, *steps: tuple[datetime, str, str]) -> None:
        """A command and what follows it while it waits for a decision (an approval, a
        report, a ratification); `{ref}` in a later step is the first one's reference."""
        if steps[0][0] > self.last:
            return
        label, follow = self.label(), None
        for at, who, line in reversed(steps[1:]):
            follow = Say(at, who, line.replace("{ref}", f"{{{label}}}"), None, follow)
        self.events.append(Say(*steps[0], label, follow))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p
