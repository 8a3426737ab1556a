"""The experience council: a mirror problem (one theme in one team) is opened as an item
with a business case that prices both losses from the records, given an owner, moved
open → fixing → validating → closed, and each step is told to the team's staff. Once
fixed, it is validated by comparing equal windows before the fix and after it."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from handlers.base import (
    PRIVILEGED,
    Context,
    Message,
    Refusal,
    Reply,
    money,
    queue,
    to_minor,
)
from handlers.policy import Policy
from handlers.registry import Command, handles, verb
from handlers.reports.theme_voices import RULE, ThemeVoices, losses, theme_voices
from handlers.words import is_word, leading_handle, reference, require
from storage.enums import CouncilStatus as Status
from storage.models import CouncilItem, CouncilUpdate, Employee, Team, Waiver
from storage.rows import insert_row, transition

# step word -> (the statuses it leaves, the status it reaches)
STEPS = {"fix": ((Status.OPEN, Status.VALIDATING), Status.FIXING),
         "done": ((Status.FIXING,), Status.VALIDATING),
         "close": ((Status.VALIDATING,), Status.CLOSED)}


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


@dataclass(frozen=True)
class CouncilStep(Command):
    item_id: int
    step: str  # "note", "script" (what to tell customers meanwhile), or a key of STEPS
    text: str = ""


@verb("council")
def parse_council(rest: list[str]) -> Command:
    """nothing · `open <theme> [@owner] [team]` · `X1` · `update|fix|done|close X1 [text]`"""
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
    require(step is not None)
    return CouncilStep(reference(rest[1], "X")[1], "note" if step == "update" else step,
                       " ".join(rest[2:]))


def _status_key(status: str) -> str:
    return f"council.status.{status}"


@handles(CouncilList)
def list_items(ctx: Context, command: CouncilList) -> Reply:
    items = ctx.session.exec(select(CouncilItem, Team.name, Employee.name)
                             .join(Team, Team.id == CouncilItem.team_id)
                             .join(Employee, Employee.id == CouncilItem.owner_id)
                             .where(CouncilItem.status != Status.CLOSED)
                             .order_by(CouncilItem.id)).all()
    if not items:
        return Reply.of("council.none")
    return Reply([Message("council.header"), *(Message("council.line", {
        "ref": f"X{item.id}", "theme": item.theme, "team": team, "owner": owner,
        "status_key": _status_key(item.status)}) for item, team, owner in items)])


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
    return Reply.of("council.opened", **_open(ctx, command.theme, owner, team_id))


def _open(ctx: Context, theme: str, owner: Employee, team_id: int) -> dict:
    """Open an item with its business case priced over the last window; tell the owner
    and the team. Returns the case's message parameters."""
    since = ctx.now - timedelta(days=ctx.config.council.window_days)
    voices = theme_voices(ctx.session, ctx.config, theme, team_id, since, ctx.now)
    customers, staff = losses(ctx.config, voices)
    item = insert_row(ctx.session, CouncilItem(
        theme=theme, team_id=team_id, owner_id=owner.id, opened_by_id=ctx.actor.id,
        status=Status.OPEN, currency=ctx.config.organisation.currency,
        customer_loss_minor=to_minor(customers), staff_loss_minor=to_minor(staff),
        opened_at=ctx.now,
        case={**voices.as_dict(), "since": ctx.local(since), "until": ctx.local(ctx.now)}))
    _record(ctx, item, Status.OPEN, "")
    case = _case(item)
    if owner.id != ctx.actor.id:
        ctx.notify(owner.id, "notify.council_owner", **case)
    return case


def auto_open(session: Session, config: Policy, now: datetime) -> int:
    """Open an item by itself for every rule waived more than the configured number of
    times in a team within the window, unless one is open for it already; its theme is
    the rule itself (`rule:<rule>`), owned by HR, and HR is told."""
    limit = config.council.auto_open_waivers
    hr = session.exec(select(Employee).where(Employee.role.in_(PRIVILEGED), Employee.active)
                      .order_by(Employee.role != "hr", Employee.id)).first()
    if not limit or hr is None:
        return 0
    since = now - timedelta(days=config.council.window_days)
    frequent = session.exec(select(Employee.team_id, Waiver.rule).join(
        Employee, Employee.id == Waiver.employee_id).where(
        Waiver.occurred_at >= since, Employee.team_id.is_not(None))
        .group_by(Employee.team_id, Waiver.rule).having(func.count() > limit)).all()
    ctx, opened = Context(session, config, hr, now), 0
    for team_id, rule in frequent:
        theme = f"{RULE}{rule}"
        items = session.exec(select(CouncilItem.status, CouncilItem.closed_at).where(
            CouncilItem.team_id == team_id, CouncilItem.theme == theme)).all()
        if any(status != Status.CLOSED for status, _closed in items):
            continue
        # After an item was closed, only the waivers since then count toward a new one.
        counted_from = max([since, *(closed for _status, closed in items)])
        again = session.exec(select(func.count()).select_from(Waiver).join(
            Employee, Employee.id == Waiver.employee_id).where(
            Employee.team_id == team_id, Waiver.rule == rule,
            Waiver.occurred_at >= counted_from)).one()
        if again <= limit:
            continue
        case = _open(ctx, theme, hr, team_id)
        for person in session.exec(select(Employee.id).where(
                Employee.role.in_(PRIVILEGED), Employee.active)).all():
            ctx.notify(person, "notify.council_auto", limit=limit, **case)
        opened += 1
    return opened


def _case(item: CouncilItem) -> dict:
    return {**item.case, "ref": f"X{item.id}", "theme": item.theme,
            "customer_loss": money(item.customer_loss_minor, item.currency),
            "staff_loss": money(item.staff_loss_minor, item.currency),
            "goodwill": money(item.case["goodwill_minor"], item.currency)}


def _item(ctx: Context, item_id: int) -> CouncilItem:
    item = ctx.session.get(CouncilItem, item_id)
    if item is None:
        raise Refusal("refuse.not_found", ref=f"X{item_id}")
    return item


@handles(CouncilShow)
def show(ctx: Context, command: CouncilShow) -> Reply:
    item = _item(ctx, command.item_id)
    owner = ctx.session.get(Employee, item.owner_id)
    messages = [Message("council.case", {**_case(item), "owner": owner.name,
                                         "status_key": _status_key(item.status)})]
    if item.fixed_at is not None:
        messages.append(Message("council.validation", validation(ctx, item)))
    return Reply(messages)


@handles(CouncilStep)
def step(ctx: Context, command: CouncilStep) -> Reply:
    item = _item(ctx, command.item_id)
    ref = f"X{item.id}"
    if ctx.actor.role not in PRIVILEGED and ctx.actor.id != item.owner_id:
        raise Refusal("refuse.council_member")
    if command.step in ("note", "script"):
        if not command.text.strip():
            raise Refusal("refuse.council_note")
        if command.step == "script":
            return _script(ctx, item, command.text)
        _record(ctx, item, item.status, command.text)
        return Reply.of("council.noted", ref=ref)
    leaves, reaches = STEPS[command.step]
    stamp = {Status.FIXING: "fixing_at", Status.VALIDATING: "fixed_at",
             Status.CLOSED: "closed_at"}[reaches]
    if not transition(ctx.session, CouncilItem, item.id, leaves,
                      {"status": reaches, stamp: ctx.now}):
        raise Refusal("refuse.council_step", ref=ref, status_key=_status_key(item.status),
                      to_key=_status_key(reaches))
    ctx.session.refresh(item)
    _record(ctx, item, reaches, command.text)
    reply = Reply.of("council.moved", ref=ref, status_key=_status_key(reaches))
    if reaches in (Status.VALIDATING, Status.CLOSED):
        reply.messages.append(Message("council.validation", validation(ctx, item)))
    return reply


def _script(ctx: Context, item: CouncilItem, line: str) -> Reply:
    """The customer micro-loop: the team's supervisors get one line to tell customers
    who meet the problem while it is being fixed."""
    insert_row(ctx.session, CouncilUpdate(item_id=item.id, author_id=ctx.actor.id,
                                          status=item.status, text=f"script: {line}",
                                          created_at=ctx.now))
    supervisors = ctx.session.exec(select(Employee.id).where(
        Employee.team_id == item.team_id, Employee.role == "supervisor", Employee.active)).all()
    for supervisor in supervisors:
        ctx.notify(supervisor, "notify.council_script", ref=f"X{item.id}", theme=item.theme,
                   script=line)
    return Reply.of("council.scripted", ref=f"X{item.id}", count=len(supervisors))


def _record(ctx: Context, item: CouncilItem, status: str, text: str) -> None:
    """Keep the step and tell the team's staff (the frontline hears it is being fixed)."""
    insert_row(ctx.session, CouncilUpdate(item_id=item.id, author_id=ctx.actor.id,
                                          status=status, text=text, created_at=ctx.now))
    queue(ctx.session, ctx.now, "team", "notify.council_update", {
        "ref": f"X{item.id}", "theme": item.theme, "status_key": _status_key(status),
        "text": f" — {text}" if text else "", "who": ctx.actor.name}, team_id=item.team_id)


def validation(ctx: Context, item: CouncilItem) -> dict:
    """Equal windows before the fix began and after it was done (the after-window as
    long as has passed, at most the configured days), on both sides."""
    started = item.fixing_at or item.opened_at
    length = min(timedelta(days=ctx.config.council.window_days), ctx.now - item.fixed_at)
    before = theme_voices(ctx.session, ctx.config, item.theme, item.team_id,
                          started - length, started)
    after = theme_voices(ctx.session, ctx.config, item.theme, item.team_id,
                         item.fixed_at, item.fixed_at + length)
    return {"ref": f"X{item.id}", "days": length.days, **_compare(before, after)}


def _compare(before: ThemeVoices, after: ThemeVoices) -> dict:
    def shown(value: int | None) -> str:
        return "—" if value is None else str(value)

    customers = before.complaints + before.detractors, after.complaints + after.detractors
    staff = before.waivers + before.staff_mentions, after.waivers + after.staff_mentions
    fell = (customers[1] < customers[0], staff[1] < staff[0])
    verdict = {(True, True): "both", (True, False): "customers", (False, True): "staff",
               (False, False): "neither"}[fell]
    return {"complaints": f"{before.complaints} → {after.complaints}",
            "detractors": f"{before.detractors} → {after.detractors}",
            "waivers": f"{before.waivers} → {after.waivers}",
            "mentions": f"{before.staff_mentions} → {after.staff_mentions}",
            "nps": f"{shown(before.nps)} → {shown(after.nps)}",
            "enps": f"{shown(before.enps)} → {shown(after.enps)}",
            "verdict_key": f"council.verdict.{verdict}"}
