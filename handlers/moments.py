"""Moments: service anniversaries, from the directory's start_date, and birthdays, only
of those who chose to share theirs (`birthday 03-14`, `birthday off`; nobody's is known
otherwise). The moments ritual posts them in the team's channel on the day, in the
team's timezone."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from handlers.base import Context, Reply, queue
from handlers.registry import Command, handles, verb
from handlers.words import is_word, require
from storage.models import Employee, Team


@dataclass(frozen=True)
class Birthday(Command):
    """Share one's birthday (MM-DD) with the team, or stop (None)."""

    day: str | None


def month_day(text: str) -> str | None:
    """"03-14" as it is kept, or None for no such day (02-29 is one)."""
    try:
        return date.fromisoformat(f"2000-{text}").strftime("%m-%d") if len(text) == 5 else None
    except ValueError:
        return None


@verb("birthday")
def parse_birthday(rest: list[str]) -> Birthday:
    require(len(rest) == 1, "error.birthday")
    if is_word(rest[0], "word.away.off"):
        return Birthday(None)
    day = month_day(rest[0])
    require(day is not None, "error.birthday")
    return Birthday(day)


@handles(Birthday)
def birthday(ctx: Context, command: Birthday) -> Reply:
    ctx.actor.birthday = command.day
    ctx.session.add(ctx.actor)
    if command.day is None:
        return Reply.of("birthday.off")
    return Reply.of("birthday.set", day=command.day)


def _falls_on(month_and_day: str, day: date) -> bool:
    """A moment of 02-29 falls on 02-28 in a year that has no 29th."""
    if month_and_day == "02-29" and not _leap(day.year):
        month_and_day = "02-28"
    return month_and_day == day.strftime("%m-%d")


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def post_moments(session: Session, team: Team, day: date, now: datetime) -> int:
    """Queue the team's moments of the local `day` in its channel; returns how many."""
    posted = 0
    for person in session.exec(select(Employee).where(
            Employee.team_id == team.id, Employee.active).order_by(Employee.id)).all():
        start = person.start_date
        if start is not None and start.year < day.year and \
                _falls_on(start.strftime("%m-%d"), day):
            queue(session, now, "team", "broadcast.anniversary",
                  {"who": person.name, "years": day.year - start.year}, team_id=team.id)
            posted += 1
        if person.birthday and _falls_on(person.birthday, day):
            queue(session, now, "team", "broadcast.birthday", {"who": person.name},
                  team_id=team.id)
            posted += 1
    return posted
