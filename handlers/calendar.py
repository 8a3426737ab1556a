"""Local days, months and times. Records are stored in UTC; budgets, reports,
filters and rituals count in the local days and months of a timezone (usually the
organisation's), and people read local times."""

from datetime import date, datetime, time, timedelta, tzinfo


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The instant a local day starts."""
    return datetime.combine(day, time(), tzinfo=tz)


def day_start(moment: datetime, tz: tzinfo) -> datetime:
    """The instant the local day holding `moment` started."""
    return local_midnight(moment.astimezone(tz).date(), tz)


def local_time(moment: datetime, tz: tzinfo) -> str:
    """A moment as the local wall time people read ("2026-11-23 10:00")."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def month_of(moment: datetime, tz: tzinfo) -> str:
    """The local month holding `moment`, as "2026-11"."""
    return moment.astimezone(tz).strftime("%Y-%m")


def month_start(moment: datetime, tz: tzinfo) -> datetime:
    """The instant the local month holding `moment` started."""
    return local_midnight(moment.astimezone(tz).date().replace(day=1), tz)


def month_bounds(month: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """The instants a local month ("2026-11") starts and ends; ValueError if malformed."""
    first = date.fromisoformat(f"{month}-01")
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return local_midnight(first, tz), local_midnight(following, tz)


def months_back(month: str, count: int) -> list[str]:
    """`count` months ending with `month`, oldest first."""
    year, number = map(int, month.split("-"))
    index = year * 12 + number - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


def last_days(now: datetime, tz: tzinfo, days: int) -> tuple[datetime, datetime]:
    """The instants the last `days` local days (today included) start and end."""
    until = local_midnight(now.astimezone(tz).date() + timedelta(days=1), tz)
    return until - timedelta(days=days), until
