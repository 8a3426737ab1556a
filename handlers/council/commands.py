"""The `council` verb: list the items not closed yet, open one on a theme, show one with
its business case and validation, or take a step on one (handled in `workflow`)."""

from dataclasses import dataclass
from datetime import date

from sqlmodel import select

from handlers.base import PRIVILEGED, Context, Message, Refusal, Reply
from handlers.council.case import case_params, open_with_case
from handlers.council.notices import status_key
from handlers.council.validation import validation
from handlers.council.workflow import STEPS, CouncilStep, find_item
from handlers.registry import Command, handles, verb
from handlers.themes import theme_names
from handlers.words import is_word, leading_handle, reference, require
from storage.enums import CouncilStatus as Status
from storage.models import CouncilItem, Employee, Team


@dataclass(frozen=True)
class CouncilList(Command):
    """The council's items not closed yet."""


@dataclass(frozen=True)
class CouncilOpen(Command):
    theme: str
    owner: str | None = None  # @handle; None: the sender
    team: str = ""  # team name; "": the owner's team


@dataclass(frozen=True)
class CouncilShow(Command):
    item_id: int


@verb("council")
def parse_council(rest: list[str]) -> Command:
    """nothing · `open <theme> [@owner] [team]` · `X1` · `update|script X1 <text>` ·
    `approve|done|validate|reopen X1 [text]` · `start X1 [@owner] <YYYY-MM-DD> [text]`"""
    if not rest:
        return CouncilList()
    if is_word(rest[0], "word.council.open"):
        require(len(rest) >= 2)
        owner, team = leading_handle(rest[2:])
        return CouncilOpen(rest[1].lower(), owner, " ".join(team))
    if len(rest) == 1:
        return CouncilShow(reference(rest[0], "X")[1])
    step = next((name for name in ("update", "script", *STEPS)
                 if is_word(rest[0], f"word.council.{name}")), None)
    require(step is not None and len(rest) >= 2)
    item_id = reference(rest[1], "X")[1]
    if step != "start":
        return CouncilStep(item_id, "note" if step == "update" else step, " ".join(rest[2:]))
    owner, rest = leading_handle(rest[2:])
    require(bool(rest), "error.council_due")
    try:
        due = date.fromisoformat(rest[0])
    except ValueError:
        require(False, "error.council_due")
    return CouncilStep(item_id, step, " ".join(rest[1:]), owner, due)


@handles(CouncilList)
def list_items(ctx: Context, command: CouncilList) -> Reply:
    items = ctx.session.exec(select(CouncilItem, Team.name, Employee.name)
                             .join(Team, Team.id == CouncilItem.team_id)
                             .join(Employee, Employee.id == CouncilItem.owner_id)
                             .where(CouncilItem.status != Status.VALIDATED)
                             .order_by(CouncilItem.id)).all()
    if not items:
        return Reply.of("council.none")
    return Reply([Message("council.header"), *(Message("council.line", {
        "ref": f"X{item.id}", "theme_names": theme_names(ctx.config, item.theme), "team": team,
        "owner": owner,
        "status_key": status_key(item.status)}) for item, team, owner in items)])


@handles(CouncilOpen, roles=PRIVILEGED)
def open_item(ctx: Context, command: CouncilOpen) -> Reply:
    if ctx.config.theme(command.theme) is None:
        raise Refusal("refuse.council_theme", theme=command.theme,
                      themes=", ".join(t.key for t in ctx.config.themes))
    owner = ctx.employee(command.owner) if command.owner else ctx.actor
    team_id = (ctx.session.exec(select(Team.id).where(Team.name == command.team)).first()
               if command.team else owner.team_id)
    if team_id is None:
        raise Refusal("refuse.council_team", team=command.team or owner.name)
    return Reply.of("council.opened", **open_with_case(ctx, command.theme, owner, team_id))


@handles(CouncilShow)
def show(ctx: Context, command: CouncilShow) -> Reply:
    item = find_item(ctx, command.item_id)
    owner = ctx.session.get(Employee, item.owner_id)
    messages = [Message("council.case", {
        **case_params(ctx.config, item), "owner": owner.name, "status_key": status_key(item.status),
        "due": item.due_on.isoformat() if item.due_on else "—"})]
    if item.fixed_at is not None:
        messages.append(Message("council.validation", validation(ctx, item)))
    return Reply(messages)
