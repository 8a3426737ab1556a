"""approve / decline by reference, and the list of what waits for a person."""

from sqlmodel import select

from handlers import compensation, improvements, praise, redemptions, waivers
from handlers.base import PRIVILEGED, Context, Reply, decision_actions
from handlers.commands import Decide
from storage.models import Compensation, MajorIssue, Praise, Redemption, Suggestion, Waiver


def decide(ctx: Context, command: Decide) -> Reply:
    args = (ctx, command.record_id, command.approve, command.comment)
    if command.kind == "C":
        return compensation.decide(*args)
    if command.kind == "W":
        return waivers.decide(*args)
    if command.kind == "P":
        return praise.decide(*args)
    if command.kind == "R":
        return redemptions.decide(*args)
    return improvements.decide(ctx, improvements.KINDS[command.kind], *args[1:])


# What each reference letter names, and the status in which it waits for its approver.
RECORDS = {"C": Compensation, "W": Waiver, "P": Praise, "S": Suggestion, "M": MajorIssue,
           "R": Redemption}
AWAITING = {"C": "pending", "W": "reported", "P": "pending", "S": "pending", "M": "pending"}


def waiting_for(ctx: Context) -> list[str]:
    """References of every record waiting for this person's decision, oldest first."""
    me = ctx.actor.id
    refs: list[tuple[object, str]] = []
    for letter, status in AWAITING.items():
        model = RECORDS[letter]
        for record in ctx.session.exec(select(model).where(
                model.approver_id == me, model.status == status)).all():
            refs.append((record.created_at if letter != "W" else record.reported_at,
                         f"{letter}{record.id}"))
    if ctx.actor.role in PRIVILEGED:
        for record in ctx.session.exec(select(Redemption).where(
                Redemption.status == "pending", Redemption.employee_id != me)).all():
            refs.append((record.created_at, f"R{record.id}"))
    return [ref for _when, ref in sorted(refs, key=lambda pair: pair[0])]


def pending(ctx: Context) -> Reply:
    refs = waiting_for(ctx)
    reply = Reply.of("pending.header", count=len(refs))
    for ref in refs:
        reply.messages.append(Reply.of("pending.line", ref=ref).messages[0])
        reply.actions.extend(decision_actions(ref))
    return reply
