"""Reading the points ledger: one's own history, a team member's for their
supervisor, anyone's for HR."""

from dataclasses import dataclass

from sqlmodel import select

from handlers.base import PRIVILEGED, Context, Refusal, Reply
from handlers.registry import Command, handles, verb
from handlers.words import Usage, handle
from points import ledger
from storage.enums import Role
from storage.models import LedgerEntry


@dataclass(frozen=True)
class Ledger(Command):
    """Ledger history: one's own, a team member's, or (HR) anyone's."""

    employee: str | None = None
    limit: int = 10


@verb("ledger")
def parse_ledger(rest: list[str]) -> Ledger:
    employee, limit = None, 10
    for word in rest:
        if word.startswith("@") and employee is None:
            employee = handle(word)
        elif word.isascii() and word.isdigit() and 0 < int(word) <= 200:
            limit = int(word)
        else:
            raise Usage()
    return Ledger(employee, limit)


@handles(Ledger, reads_only=True)
def show(ctx: Context, command: Ledger) -> Reply:
    employee = ctx.employee(command.employee) if command.employee else ctx.actor
    allowed = (employee.id == ctx.actor.id or ctx.actor.role in PRIVILEGED
               or (ctx.actor.role == Role.SUPERVISOR and employee.supervisor_id == ctx.actor.id))
    if not allowed:
        raise Refusal("refuse.ledger_other", who=employee.name)
    entries = ctx.session.exec(
        select(LedgerEntry).where(LedgerEntry.employee_id == employee.id)
        .order_by(LedgerEntry.id.desc()).limit(command.limit)).all()
    reply = Reply.of("ledger.header" if entries else "ledger.header_empty", who=employee.name,
                     balance=ledger.balance(ctx.session, employee.id), count=len(entries))
    for entry in entries:
        source = entry.source_type + (f"#{entry.source_id}" if entry.source_id else "")
        reply.messages.append(Reply.of(
            # E12: the entry's reference, which HR's `revoke` takes
            "ledger.line", ref=f"E{entry.id}", when=ctx.local(entry.created_at),
            amount=f"{entry.amount:+d}",
            reason_key=f"reason.{entry.reason}", source=source).messages[0])
    return reply
