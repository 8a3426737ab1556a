"""`signals [YYYY-MM]`: the month's signals for a supervisor (about the people in their
care) or HR (everyone), each with the records behind it, and who never used their
authority while peers did; HR dismisses a signal with a note (`signals dismiss <key>
<note>`, or from the web console's signals page)."""

from dataclasses import dataclass

from sqlmodel import Session, select

from handlers import limits
from handlers.base import PRIVILEGED, Context, Message, Refusal, Reply
from handlers.calendar import month_bounds
from handlers.policy import Policy
from handlers.registry import Command, handles, verb
from handlers.reports.authority import coaching_lines
from handlers.reports.signals import Signal, dismiss, month_signals, visible
from handlers.scope import scope_of
from handlers.words import MONTH, is_word, require
from storage.enums import Role
from storage.models import Employee

SUPERVISING = (Role.SUPERVISOR, *PRIVILEGED)
NOTE_LIMIT = limits.limit("note")
SHOWN, COACH_SHOWN = 20, 10  # signals and people to coach said in chat; the web has all


@dataclass(frozen=True)
class ShowSignals(Command):
    month: str = ""


@dataclass(frozen=True)
class DismissSignal(Command):
    """HR looked into a signal: it is no longer shown; the note is kept."""

    key: str
    note: str


@verb("signals")
def parse_signals(rest: list[str]) -> ShowSignals | DismissSignal:
    if rest and is_word(rest[0], "word.signals.dismiss"):
        require(len(rest) >= 3, "error.text")
        return DismissSignal(rest[1], " ".join(rest[2:]))
    require(len(rest) <= 1 and all(MONTH.match(w) for w in rest), "error.month")
    return ShowSignals(rest[0] if rest else "")


@handles(ShowSignals, roles=SUPERVISING)
def show_signals(ctx: Context, command: ShowSignals) -> Reply:
    month = command.month or ctx.month()
    scope = scope_of(ctx.session, ctx.actor)
    found = [s for s in visible(month_signals(ctx.session, ctx.config, month, scope), scope)
             if s.dismissal is None]
    coach = coaching_lines(ctx.session, ctx.config, scope, month, limit=COACH_SHOWN)
    reply = Reply.of("signals.header" if found or coach else "signals.none", month=month,
                     count=len(found) + len(coach))
    reply.messages.extend(signal_messages(ctx.session, ctx.config, found[:SHOWN]))
    if len(found) > SHOWN:  # the rest on the web console's page, not in one chat message
        reply.messages.append(Message("signals.more", {
            "count": len(found) - SHOWN, "month": month, "url": ctx.config.web.public_url}))
    reply.messages.extend(coach)
    return reply


def signal_messages(session: Session, config: Policy, shown: list[Signal]) -> list[Message]:
    """Each signal said in a line, with the records behind it beneath."""
    ids = {r.employee_id for s in shown for r in s.records}
    names = dict(session.exec(select(Employee.id, Employee.name).where(
        Employee.id.in_(ids))).all()) if ids else {}
    tz = config.organisation.tz
    return [Message(f"signal.{s.kind}", {**s.params, "records": s.refs + s.details(names, tz),
                                         "id": s.key}) for s in shown]


@handles(DismissSignal, roles=PRIVILEGED)
def dismiss_signal(ctx: Context, command: DismissSignal) -> Reply:
    month = command.key.rsplit(":", 1)[-1]
    note = command.note.strip()
    if not note or len(note) > NOTE_LIMIT:
        raise Refusal("refuse.signal_note", limit=NOTE_LIMIT)
    try:
        month_bounds(month, ctx.config.organisation.tz)
    except ValueError:
        raise Refusal("refuse.signal_unknown", key=command.key[:80]) from None
    if command.key not in {s.key for s in month_signals(ctx.session, ctx.config, month)}:
        raise Refusal("refuse.signal_unknown", key=command.key[:80])
    if not dismiss(ctx.session, command.key, ctx.actor, note, ctx.now):
        raise Refusal("refuse.signal_dismissed", key=command.key)
    return Reply.of("signals.dismissed", key=command.key)
