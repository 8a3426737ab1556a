"""approve / decline by reference, and the list of what waits for a person. What a
reference letter names, and how it is decided, is declared by each kind's module
(`@decides`); this module only routes to it."""

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, literal_column, select, union_all

from handlers.base import PRIVILEGED, Context, Message, Reply, decision_actions
from handlers.registry import DECIDABLE, FOLLOWED, Command, handles, verb, verb_alone
from handlers.words import reference, require
from storage.models import Employee


@dataclass(frozen=True)
class Pending(Command):
    """What waits for the sender's decision."""


verb_alone("pending", Pending)


@dataclass(frozen=True)
class Decide(Command):
    """approve / decline anything that waits for a decision, by its reference (C12, W3, ...)."""

    kind: str  # the reference letter
    record_id: int
    approve: bool
    comment: str = ""


def _parse_decision(rest: list[str], approve: bool) -> Decide:
    require(bool(rest))
    kind, record_id = reference(rest[0], "".join(DECIDABLE))
    return Decide(kind, record_id, approve, " ".join(rest[1:]))


@verb("approve")
def parse_approve(rest: list[str]) -> Decide:
    return _parse_decision(rest, True)


@verb("decline")
def parse_decline(rest: list[str]) -> Decide:
    return _parse_decision(rest, False)


@handles(Decide)
def decide(ctx: Context, command: Decide) -> Reply:
    return DECIDABLE[command.kind].decide(ctx, command.record_id, command.approve,
                                          command.comment)


def described(ctx: Context, ref: str) -> dict[str, Any]:
    """Who asks, since when and (by the kind's own `describe`) for what: the parameters
    of `pending.line.<letter>` and `pending.what.<letter>`."""
    kind = DECIDABLE[ref[0]]
    record = ctx.session.get(kind.model, int(ref[1:]))
    who = ctx.session.get(Employee, record.employee_id)
    since = getattr(record, kind.since)  # None until it waits (a waiver not reported yet)
    return {"ref": ref, "who": who.name if who else "?",
            "since": ctx.local(since) if since is not None else "",
            **kind.describe(ctx, record)}


@cache
def _waiting(privileged: bool, letters: str) -> Select:
    """Every kind's waiting records in one statement (built once per case): those naming
    the person as approver, and for HR the ones any HR colleague decides; with followed
    kinds' letters among `letters`, the records of theirs the person holds."""
    parts = []
    for order, letter in enumerate(letters):
        if letter in FOLLOWED:
            held = FOLLOWED[letter]
            table = held.model.__table__
            parts.append(select(literal_column(str(order)).label("kind"),
                                table.c.id.label("id"), table.c[held.since].label("since"))
                         .where(table.c.status == held.open_status,
                                table.c[held.holder_column] == bindparam("me")))
            continue
        kind = DECIDABLE[letter]
        table = kind.model.__table__
        query = select(literal_column(str(order)).label("kind"), table.c.id.label("id"),
                       table.c[kind.since].label("since")).where(
            table.c.status == kind.awaiting)
        if kind.approver_column is not None:
            parts.append(query.where(table.c[kind.approver_column] == bindparam("me")))
        elif privileged:
            parts.append(query.where(table.c.employee_id != bindparam("me")))
    waiting = union_all(*parts).subquery()
    return select(waiting.c.kind, waiting.c.id).order_by(waiting.c.since, waiting.c.kind,
                                                         waiting.c.id)


def waiting_for(ctx: Context, held: bool = False) -> list[str]:
    """References of every record waiting for this person's decision, oldest first:
    those naming them as approver, and for HR every one that any HR colleague decides
    (never their own); with `held`, also the followed records they hold."""
    letters = "".join(DECIDABLE) + ("".join(FOLLOWED) if held else "")
    rows = ctx.session.execute(_waiting(ctx.actor.role in PRIVILEGED, letters),
                               {"me": ctx.actor.id}).all()
    return [f"{letters[order]}{record_id}" for order, record_id in rows]


@handles(Pending, reads_only=True)
def pending(ctx: Context, command: Pending | None = None) -> Reply:
    found = waiting_for(ctx, held=True)
    refs = [ref for ref in found if ref[0] in DECIDABLE]
    reply = Reply.of("pending.header" if refs else "pending.none", count=len(refs))
    for ref in refs:
        reply.messages.append(Message(f"pending.line.{ref[0]}", described(ctx, ref)))
        reply.actions.extend(decision_actions(ref))
    for letter in dict.fromkeys(ref[0] for ref in found if ref[0] in FOLLOWED):
        held = FOLLOWED[letter].held(ctx)  # and what the sender holds to follow up (cases)
        if held is not None:
            reply.messages.extend(held.messages)
            reply.actions.extend(held.actions)
    return reply
