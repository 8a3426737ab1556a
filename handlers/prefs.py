"""`prefs`: a person's own working hours (quiet hours outside them), whether the
all-staff posts sent to them personally are muted, and whether customer voice and those
posts come as they arrive or in one daily summary."""

from dataclasses import dataclass

from handlers import quiet, summary
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


@dataclass(frozen=True)
class ChooseSummary(Command):
    """Customer voice and personal praise posts once a day (True) or as they arrive."""

    daily: bool


@verb("prefs")
def parse_prefs(rest: list[str]) -> ShowPrefs | SetHours | MuteBroadcasts | ChooseSummary:
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
    if is_word(what, "word.prefs.summary"):
        require(is_word(value, "word.prefs.off") or is_word(value, "word.prefs.on"))
        return ChooseSummary(is_word(value, "word.prefs.on"))
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
    prefs = ctx.session.get(PersonPrefs, ctx.actor.id)
    daily = prefs is not None and prefs.daily_summary
    lines.append(Message("prefs.summary_on" if daily else "prefs.summary_off"))
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


@handles(ChooseSummary)
def choose_summary(ctx: Context, command: ChooseSummary) -> Reply:
    _mine(ctx).daily_summary = command.daily
    if command.daily:
        return Reply.of("prefs.summary_chosen")
    # what waited for the next summary is not left behind: it goes now, in one message
    summary.send(ctx.session, ctx.now, ctx.actor.id)
    return Reply.of("prefs.summary_stopped")
