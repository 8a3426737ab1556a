"""A council item's steps: proposed → approved → in progress → done → validated or
reopened, with notes and customer scripts on the way; who may take each step, what it
sets on the item, and who is told."""

from dataclasses import dataclass
from datetime import date

from handlers.base import Context, Message, Refusal, Reply
from handlers.council.notices import OPEN, record, send_script, status_key, tell_reporters
from handlers.council.validation import validation
from handlers.registry import Command, handles
from handlers.themes import theme_names
from storage.enums import CouncilStatus as Status
from storage.models import CouncilItem
from storage.rows import transition

# step word -> (the statuses it leaves, the status it reaches)
STEPS = {"approve": ((Status.PROPOSED,), Status.APPROVED),
         "start": ((Status.APPROVED, Status.REOPENED), Status.IN_PROGRESS),
         "done": ((Status.IN_PROGRESS,), Status.DONE),
         "validate": ((Status.DONE,), Status.VALIDATED),
         "reopen": ((Status.DONE, Status.VALIDATED), Status.REOPENED)}
MEMBERS_ONLY = {"approve", "validate", "reopen"}  # the others: a member or the owner


@dataclass(frozen=True)
class CouncilStep(Command):
    item_id: int
    step: str  # "note", "script" (what to tell customers meanwhile), or a key of STEPS
    text: str = ""
    owner: str | None = None  # start: the new owner's @handle; None: keep the owner
    due: date | None = None  # start: the owner's due date


def find_item(ctx: Context, item_id: int) -> CouncilItem:
    item = ctx.session.get(CouncilItem, item_id)
    if item is None:
        raise Refusal("refuse.not_found", ref=f"X{item_id}")
    return item


@handles(CouncilStep)
def step(ctx: Context, command: CouncilStep) -> Reply:
    item = find_item(ctx, command.item_id)
    ref = f"X{item.id}"
    member = ctx.config.council.has_member(ctx.actor.handle, ctx.actor.role)
    if not member and (command.step in MEMBERS_ONLY or ctx.actor.id != item.owner_id):
        raise Refusal("refuse.council_member")
    if command.step in ("note", "script"):
        if not command.text.strip():
            raise Refusal("refuse.council_note")
        if command.step == "script":
            return send_script(ctx, item, command.text)
        record(ctx, item, item.status, command.text)
        return Reply.of("council.noted", ref=ref)
    if command.step == "approve" and ctx.actor.id == item.opened_by_id:
        raise Refusal("refuse.council_own", ref=ref)
    leaves, reaches = STEPS[command.step]
    values = {"status": reaches, **_stamps(ctx, item, command)}
    if not transition(ctx.session, CouncilItem, item.id, leaves, values):
        raise Refusal("refuse.council_step", ref=ref, status_key=status_key(item.status),
                      to_key=status_key(reaches))
    ctx.session.refresh(item)
    if reaches in (Status.VALIDATED, Status.REOPENED):
        item.case = {**item.case, "validation": {
            **validation(ctx, item), "status_key": status_key(reaches), "at": ctx.local(ctx.now)}}
        ctx.session.add(item)
    record(ctx, item, reaches, command.text)
    if reaches == Status.IN_PROGRESS and item.owner_id != ctx.actor.id:
        ctx.notify(item.owner_id, "notify.council_assigned", ref=ref,
                   theme_names=theme_names(ctx.config, item.theme), due=item.due_on.isoformat())
    reply = Reply.of("council.moved", ref=ref, status_key=status_key(reaches))
    if reaches in OPEN:
        tell_reporters(ctx, item)
    if reaches == Status.DONE:
        reply.messages.append(Message("council.validation", validation(ctx, item)))
    elif reaches in (Status.VALIDATED, Status.REOPENED):
        reply.messages.append(Message("council.validation", item.case["validation"]))
    return reply


def _stamps(ctx: Context, item: CouncilItem, command: CouncilStep) -> dict:
    """The columns a step sets besides the status. Validation is measured from the first
    start, so a reopened item keeps its fixing_at."""
    if command.step == "approve":
        return {"approved_by_id": ctx.actor.id, "approved_at": ctx.now}
    if command.step == "start":
        if command.due < ctx.now.astimezone(ctx.config.organisation.tz).date():
            raise Refusal("refuse.council_due_past", due=command.due.isoformat())
        owner = ctx.employee(command.owner) if command.owner else None
        return {"owner_id": owner.id if owner else item.owner_id, "due_on": command.due,
                "fixing_at": item.fixing_at or ctx.now}
    if command.step == "done":
        return {"fixed_at": ctx.now}
    if command.step == "validate":
        return {"closed_at": ctx.now}
    return {"closed_at": None}  # reopen: done is undone when it is started again
