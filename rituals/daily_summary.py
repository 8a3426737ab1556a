"""The daily summary's round, run with the reminders every few minutes: whoever chose it
gets, at the start of their working time, one message of what waited for it (nothing
when nothing did). Each person's day is claimed once (a `SentOnce` key, in the same
transaction as the message), so a second worker or a run again sends nothing more."""

from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session, select

from handlers import quiet, summary
from handlers.policy import Policy
from storage.models import Employee, PersonPrefs
from storage.rows import send_once

MIDNIGHT = time(0)


def working_start(schedule: quiet.Schedule, now: datetime, fallback: time) -> datetime | None:
    """When the working time `now` falls in began: its shift, or that day's hours; with
    neither, `fallback` on the local day (the rest of the day counts). None outside."""
    if schedule.shifts:
        return next((start for start, end in schedule.shifts if start <= now < end), None)
    start, end = quiet.parse_hours(schedule.hours or "") or (fallback, MIDNIGHT)
    if quiet.next_in_hours(now, schedule.tz, start, end) != now:
        return None
    local = now.astimezone(schedule.tz)
    began = datetime.combine(local.date(), start, tzinfo=schedule.tz)
    if began > local:  # hours across midnight, begun the evening before
        began = datetime.combine(local.date() - timedelta(days=1), start, tzinfo=schedule.tz)
    return began.astimezone(UTC)


def send_due(session: Session, config: Policy, now: datetime) -> int:
    """Send each due person's summary of the day; returns how many went."""
    people = session.exec(select(PersonPrefs.employee_id).join(
        Employee, Employee.id == PersonPrefs.employee_id).where(
        PersonPrefs.daily_summary, Employee.active)).all()
    if not people:
        return 0
    fallback = time.fromisoformat(config.rituals.morning_praise.time)
    sent = 0
    for person, schedule in sorted(quiet.schedules(session, config, people, now).items()):
        began = working_start(schedule, now, fallback)
        if began is None:
            continue
        day = began.astimezone(schedule.tz).date().isoformat()
        if send_once(session, f"summary:{person}:{day}", now):
            sent += summary.send(session, now, person)
    return sent
