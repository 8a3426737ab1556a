"""The shift roster, imported from CSV: `handle,date,start,end` (times in the person's
team's timezone; an end at or before the start is the next day's). While a person has
shifts ahead, their shifts are their working time (handlers/quiet.py).

The whole file is checked first; if any row is wrong, every problem is reported with
its line number and nothing is written. A day in the file replaces that person's shifts
starting on it, so a corrected roster can be imported again."""

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, tuple_
from sqlmodel import Session, select

from handlers import quiet
from handlers.directory import DirectoryError
from handlers.policy import Policy
from storage.models import Employee, Shift, Team

COLUMNS = ("handle", "date", "start", "end")


def _when(day: date, clock: str, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.strptime(clock, "%H:%M").time(), tzinfo=zone)


def _check(line: int, row: dict[str, str], people: dict[str, tuple[int, str | None]],
           seen: set[tuple[str, str, str]]) -> list[str]:
    problems = []
    if row["handle"] not in people:
        problems.append(f"line {line}: nobody active called {row['handle']!r}")
    try:
        date.fromisoformat(row["date"])
    except ValueError:
        problems.append(f"line {line}: date {row['date']!r} must be YYYY-MM-DD")
    if quiet.parse_hours(f"{row['start']}-{row['end']}") is None:
        problems.append(f"line {line}: start {row['start']!r} and end {row['end']!r} must be "
                        "different times HH:MM (00:00 to 23:59)")
    key = (row["handle"], row["date"], row["start"])
    if key in seen:
        problems.append(f"line {line}: the same shift appears twice")
    seen.add(key)
    return problems


def import_csv(session: Session, config: Policy, text: str) -> int:
    """Write every shift in the file, or none; returns how many."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if sorted(header) != sorted(COLUMNS):
        raise DirectoryError([f"line 1: the columns must be {','.join(COLUMNS)}"])
    reader.fieldnames = header
    rows = [(reader.line_num, {c: (raw.get(c) or "").strip() for c in COLUMNS})
            for raw in reader]
    for _line, row in rows:
        row["handle"] = row["handle"].lstrip("@").lower()
    people = {handle: (person, zone) for handle, person, zone in session.exec(
        select(Employee.handle, Employee.id, Team.timezone)
        .outerjoin(Team, Team.id == Employee.team_id).where(Employee.active)).all()}
    problems, seen = [], set()
    for line, row in rows:
        problems += _check(line, row, people, seen)
    if problems:
        raise DirectoryError(problems)
    shifts = []
    for _line, row in rows:
        person, zone = people[row["handle"]]
        tz, day = ZoneInfo(zone) if zone else config.organisation.tz, date.fromisoformat(
            row["date"])
        starts, ends = _when(day, row["start"], tz), _when(day, row["end"], tz)
        ends += timedelta(days=1) if ends <= starts else timedelta()
        shifts.append(Shift(employee_id=person, day=day, starts_at=starts, ends_at=ends))
    replaced = sorted({(shift.employee_id, shift.day) for shift in shifts})
    if replaced:
        session.execute(delete(Shift).where(tuple_(Shift.employee_id, Shift.day).in_(replaced)))
    session.add_all(shifts)
    quiet.reconsider(session, {shift.employee_id for shift in shifts})
    return len(shifts)
