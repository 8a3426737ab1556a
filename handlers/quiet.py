"""Quiet hours: when a person works, and so when a notification may reach them.

A person's working time is their imported shifts while they have any ahead, else their
own hours (`prefs hours`), else their team's or the organisation's (`[quiet_hours]`),
in their team's timezone; with none, any time. The outbox dispatcher asks `sort_due`
which due notifications to hold (their `not_before` set to the person's next working
time, so they wait durably in the table) and which the person muted. It decides when it
is about to send rather than when the notification is queued, so one that waited for a
busy dispatcher still keeps the hours, and hours changed meanwhile apply."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, select

from handlers import summary
from handlers.base import outbox_row
from handlers.policy import Policy, QuietHours
from storage.models import Employee, Outbox, PersonPrefs, Shift, Team

HOURS = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)-([01]?\d|2[0-3]):([0-5]\d)$")
# Posts to everyone that a person may mute where they reach them personally; a pulse
# asks them something, so it is not one.
BROADCASTS, NOT_BROADCASTS = ("broadcast.", "ritual."), ("ritual.pulse",)
# Reminders of a request waiting on the reader (the requests themselves carry an
# `approve` button).
APPROVAL_REMINDERS = ("notify.approval_waiting", "notify.approval_escalated")


def parse_hours(text: str) -> tuple[time, time] | None:
    """`07:00-15:00` or `7:00-15:00` (22:00-06:00 spans midnight) -> (start, end); None
    if malformed or empty (starts when it ends)."""
    match = HOURS.match(text)
    if match is None:
        return None
    start, end = (time(int(match[i]), int(match[i + 1])) for i in (1, 3))
    return None if start == end else (start, end)


def shown(hours: tuple[time, time]) -> str:
    return "-".join(moment.strftime("%H:%M") for moment in hours)


def next_in_hours(now: datetime, tz: tzinfo, start: time, end: time) -> datetime:
    """`now` if it falls within the daily hours, else when they next begin."""
    local = now.astimezone(tz)
    clock = local.time()
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if inside:
        return now
    day = local.date() if clock < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=tz).astimezone(UTC)


@dataclass
class Schedule:
    """A person's working time: shifts ahead (UTC start, end), or daily hours."""

    tz: tzinfo
    hours: str | None = None
    source: str = "none"  # shifts | own | team | organisation | none
    shifts: list[tuple[datetime, datetime]] = field(default_factory=list)
    muted: bool = False

    def next_working(self, now: datetime) -> datetime:
        if self.shifts:
            if any(start <= now < end for start, end in self.shifts):
                return now
            return min(start for start, _end in self.shifts if start > now)
        parsed = parse_hours(self.hours or "")
        return now if parsed is None else next_in_hours(now, self.tz, *parsed)


def schedules(session: Session, policy: Policy, people: Iterable[int],
              now: datetime) -> dict[int, Schedule]:
    """Each person's working time, in three queries however many people."""
    people, quiet = sorted(set(people)), policy.quiet_hours
    found: dict[int, Schedule] = {}
    for person, team, zone in session.exec(select(Employee.id, Team.name, Team.timezone)
                                           .outerjoin(Team, Team.id == Employee.team_id)
                                           .where(Employee.id.in_(people))).all():
        hours, source = ((quiet.teams[team], "team") if team in quiet.teams else
                         (quiet.hours, "organisation") if quiet.hours else (None, "none"))
        found[person] = Schedule(ZoneInfo(zone) if zone else policy.organisation.tz,
                                 hours, source)
    for prefs in session.exec(select(PersonPrefs).where(
            PersonPrefs.employee_id.in_(people))).all():
        schedule = found[prefs.employee_id]
        schedule.muted = prefs.broadcasts_muted
        if prefs.hours:
            schedule.hours, schedule.source = prefs.hours, "own"
    for shift in session.exec(select(Shift).where(
            Shift.employee_id.in_(people), Shift.ends_at > now)
            .order_by(Shift.starts_at)).all():
        schedule = found[shift.employee_id]
        schedule.shifts.append((shift.starts_at, shift.ends_at))
        schedule.source = "shifts"
    return found


def urgent(quiet: QuietHours, key: str, actions: Sequence[dict[str, Any]]) -> bool:
    """Sent at once whatever the hour: a key the organisation names, or (unless it says
    otherwise) a request waiting on the reader's decision."""
    if any(key == name or (name.endswith("*") and key.startswith(name[:-1]))
           for name in quiet.urgent):
        return True
    return quiet.approvals_urgent and (key in APPROVAL_REMINDERS or any(
        str(action.get("command", "")).startswith("approve ") for action in actions))


def broadcast(key: str) -> bool:
    return key.startswith(BROADCASTS) and not key.startswith(NOT_BROADCASTS)


def sort_due(session: Session, policy: Policy, now: datetime,
             due: Sequence[Any]) -> tuple[dict[int, datetime], list[int]]:
    """Of due outbox rows (id, audience, employee_id, message_key, actions): those to
    hold, with when they are next due, and those their reader muted."""
    personal = [row for row in due if row.audience == "person" and row.employee_id]
    wanted = {row.employee_id for row in personal if broadcast(row.message_key)}
    if policy.quiet_hours.enabled:
        wanted |= {row.employee_id for row in personal}
    if not wanted:
        return {}, []
    known = schedules(session, policy, wanted, now)
    held, muted = {}, []
    for row in personal:
        schedule = known.get(row.employee_id)
        if schedule is None:
            continue
        if schedule.muted and broadcast(row.message_key):
            muted.append(row.id)
        elif policy.quiet_hours.enabled and not urgent(policy.quiet_hours, row.message_key,
                                                       row.actions):
            due_at = schedule.next_working(now)
            if due_at > now:
                held[row.id] = due_at
    return held, muted


def reconsider(session: Session, people: Iterable[int]) -> None:
    """Their working time changed: what waits for them is due again, to be held anew
    for the new hours."""
    session.execute(update(Outbox).where(
        Outbox.employee_id.in_(sorted(set(people))), Outbox.delivered_at.is_(None),
        Outbox.not_before.is_not(None)).values(not_before=None))


def at_shift_start(session: Session, policy: Policy, team_id: int, now: datetime, key: str,
                   params: dict[str, Any]) -> int:
    """A team's post sent again to each member whose shift starts later today (or who is
    on one), so it reaches them as it starts: the dispatcher holds it until then (or
    their daily summary carries it, if they chose one)."""
    if not policy.quiet_hours.enabled:
        return 0
    members = session.exec(select(Employee.id).where(Employee.team_id == team_id,
                                                     Employee.active)).all()
    copies = []
    for person, schedule in schedules(session, policy, members, now).items():
        if schedule.shifts and schedule.next_working(now).astimezone(
                schedule.tz).date() == now.astimezone(schedule.tz).date():
            copies.append(outbox_row(now, "person", key, params, employee_id=person))
    if copies:
        summary.queue_or_keep(session, copies)
    return len(copies)
