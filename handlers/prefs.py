"""`prefs`: a person's own working hours (quiet hours outside them) and whether the
all-staff posts sent to them personally are muted."""

from dataclasses import dataclass

from handlers import quiet
from handlers.base import Context, Message, Reply
from handlers.calendar import local_time
from handlers.registry import Command, handles, verb
from handlers.words import Usage, is_word, require
from storage.models import PersonPrefs

# What people type between the two times, or for a colon, on a phone or a Chinese keyboard.
_SEPARATORS = str.maketrans({"：": ":", "–": "-", "—": "-", "~": "-", "～": "-", "－": "-"})


@dataclass(frozen=True)
class ShowPrefs(Command):
    """The sender's working hours and broadcast setting."""


@dataclass(frozen=True)
class SetHours(Command):
    """The sender's own working hours, or "" for their team's."""

    hours: str


@dataclass(frozen=True)
class MuteBroadcasts(Command):
    muted: bool


@verb("prefs")
def parse_prefs(rest: list[str]) -> ShowPrefs | SetHours | MuteBroadcasts:
    if not rest:
        return ShowPrefs()
    what, value = rest[0], "".join(rest[1:]).translate(_SEPARATORS)
    if is_word(what, "word.prefs.hours"):
        if is_word(value, "word.prefs.off"):
            return SetHours("")
        hours = quiet.parse_hours(value)
        require(hours is not None, "error.prefs_hours")
        return SetHours(quiet.shown(hours))
    if is_word(what, "word.prefs.broadcasts"):
        require(is_word(value, "word.prefs.off") or is_word(value, "word.prefs.on"))
        return MuteBroadcasts(is_word(value, "word.prefs.off"))
    raise Usage()


def _mine(ctx: Context) -> PersonPrefs:
    prefs = ctx.session.get(PersonPrefs, ctx.actor.id)
    if prefs is None:
        prefs = PersonPrefs(employee_id=ctx.actor.id)
        ctx.session.add(prefs)
    return prefs


@handles(ShowPrefs)
def show(ctx: Context, command: ShowPrefs) -> Reply:
    schedule = quiet.schedules(ctx.session, ctx.config, [ctx.actor.id], ctx.now)[ctx.actor.id]
    lines = [] if ctx.config.quiet_hours.enabled else [Message("prefs.quiet_off")]
    if schedule.shifts:
        start, end = schedule.shifts[0]
        lines.append(Message("prefs.shift", {"start": local_time(start, schedule.tz),
                                             "end": local_time(end, schedule.tz)}))
    elif schedule.hours:
        lines.append(Message(f"prefs.hours_{schedule.source}", {
            "hours": schedule.hours, "timezone": str(schedule.tz)}))
    else:
        lines.append(Message("prefs.hours_any"))
    lines.append(Message("prefs.broadcasts_off" if schedule.muted else "prefs.broadcasts_on"))
    return Reply(lines)


@handles(SetHours)
def set_hours(ctx: Context, command: SetHours) -> Reply:
    _mine(ctx).hours = command.hours
    quiet.reconsider(ctx.session, [ctx.actor.id])
    if command.hours:
        return Reply.of("prefs.hours_set", hours=command.hours)
    return Reply.of("prefs.hours_cleared")


@handles(MuteBroadcasts)
def mute(ctx: Context, command: MuteBroadcasts) -> Reply:
    _mine(ctx).broadcasts_muted = command.muted
    return Reply.of("prefs.muted" if command.muted else "prefs.unmuted")
