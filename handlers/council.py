"""The experience council: a mirror problem (one theme in one team) is proposed as an
item with a business case that prices both losses from the records, approved by a
council member (never its proposer), put in progress with an owner and a due date,
done, then validated or reopened; each step is told to the team's staff. While it is
open, the staff who reported waivers and suggestions on its theme hear it is being
worked on, once each. Once done, it is validated by comparing equal windows before the
fix and after it."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

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
from handlers.reports.theme_voices import (
    RULE,
    ThemeVoices,
    losses,
    reporters,
    theme_voices,
)
from handlers.words import is_word, leading_handle, reference, require
from storage.enums import CouncilStatus as Status
from storage.models import CouncilItem, CouncilUpdate, Employee, Team, Waiver
from storage.rows import insert_row, send_once, transition

# step word -> (the statuses it leaves, the status it reaches)
STEPS = {"approve": ((Status.PROPOSED,), Status.APPROVED),
         "start": ((Status.APPROVED, Status.REOPENED), Status.IN_PROGRESS),
         "done": ((Status.IN_PROGRESS,), Status.DONE),
         "validate": ((Status.DONE,), Status.VALIDATED),
         "reopen": ((Status.DONE, Status.VALIDATED), Status.REOPENED)}
MEMBERS_ONLY = {"approve", "validate", "reopen"}  # the others: a member or the owner
OPEN = (Status.APPROVED, Status.IN_PROGRESS, Status.REOPENED)  # staff hear it is worked on


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
    owner: str | None = None  # start: the new owner's @handle; None: keep the owner
    due: date | None = None  # start: the owner's due date


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


def _status_key(status: str) -> str:
    return f"council.status.{status}"


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
        status=Status.PROPOSED, currency=ctx.config.organisation.currency,
        customer_loss_minor=to_minor(customers), staff_loss_minor=to_minor(staff),
        opened_at=ctx.now,
        case={**voices.as_dict(), "since": ctx.local(since), "until": ctx.local(ctx.now)}))
    _record(ctx, item, Status.PROPOSED, "")
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
        if any(status != Status.VALIDATED for status, _closed in items):
            continue
        # After an item was validated, only the waivers since then count toward a new one.
        counted_from = max([since, *(closed for _status, closed in items if closed)])
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
    case = {key: value for key, value in item.case.items() if key != "validation"}
    return {**case, "ref": f"X{item.id}", "theme": item.theme,
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
    messages = [Message("council.case", {
        **_case(item), "owner": owner.name, "status_key": _status_key(item.status),
        "due": item.due_on.isoformat() if item.due_on else "—"})]
    if item.fixed_at is not None:
        messages.append(Message("council.validation", validation(ctx, item)))
    return Reply(messages)


@handles(CouncilStep)
def step(ctx: Context, command: CouncilStep) -> Reply:
    item = _item(ctx, command.item_id)
    ref = f"X{item.id}"
    member = ctx.config.council.has_member(ctx.actor.handle, ctx.actor.role)
    if not member and (command.step in MEMBERS_ONLY or ctx.actor.id != item.owner_id):
        raise Refusal("refuse.council_member")
    if command.step in ("note", "script"):
        if not command.text.strip():
            raise Refusal("refuse.council_note")
        if command.step == "script":
            return _script(ctx, item, command.text)
        _record(ctx, item, item.status, command.text)
        return Reply.of("council.noted", ref=ref)
    if command.step == "approve" and ctx.actor.id == item.opened_by_id:
        raise Refusal("refuse.council_own", ref=ref)
    leaves, reaches = STEPS[command.step]
    values = {"status": reaches, **_stamps(ctx, item, command)}
    if not transition(ctx.session, CouncilItem, item.id, leaves, values):
        raise Refusal("refuse.council_step", ref=ref, status_key=_status_key(item.status),
                      to_key=_status_key(reaches))
    ctx.session.refresh(item)
    if reaches in (Status.VALIDATED, Status.REOPENED):
        item.case = {**item.case, "validation": {
            **validation(ctx, item), "status_key": _status_key(reaches), "at": ctx.local(ctx.now)}}
        ctx.session.add(item)
    _record(ctx, item, reaches, command.text)
    if reaches == Status.IN_PROGRESS and item.owner_id != ctx.actor.id:
        ctx.notify(item.owner_id, "notify.council_assigned", ref=ref, theme=item.theme,
                   due=item.due_on.isoformat())
    reply = Reply.of("council.moved", ref=ref, status_key=_status_key(reaches))
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


def tell_reporters(ctx: Context, item: CouncilItem) -> int:
    """The employee micro-loop: everyone of the team who reported a waiver or made a
    suggestion on the item's theme, within the window before it was opened or since, is
    told it is being worked on — once per item and person. Pulse comments are anonymous
    and customers' comments are no staff's, so nobody else can be told."""
    since = item.opened_at - timedelta(days=ctx.config.council.window_days)
    told = 0
    for employee_id in reporters(ctx.session, ctx.config, item.theme, item.team_id, since,
                                 ctx.now):
        if send_once(ctx.session, f"council_heard:{item.id}:{employee_id}", ctx.now):
            ctx.notify(employee_id, "notify.council_heard", ref=f"X{item.id}",
                       theme=item.theme, status_key=_status_key(item.status))
            told += 1
    return told


def tell_all_reporters(session: Session, config: Policy, now: datetime) -> int:
    """For the reminders' run: those who reported on an open item's theme since it was
    last moved hear of it too."""
    items = session.exec(select(CouncilItem).where(CouncilItem.status.in_(OPEN))).all()
    told = 0
    for item in items:
        actor = session.get(Employee, item.owner_id)
        told += tell_reporters(Context(session, config, actor, now), item)
    return told


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


def month_digest(session: Session, config: Policy, month: str, since: datetime,
                 until: datetime, now: datetime) -> int:
    """The monthly digest's council part: every item validated or reopened within the
    month, with its before/after counts, told to its team and to the council's members."""
    moved = session.exec(select(CouncilItem, Team.name).join(Team, Team.id == CouncilItem.team_id)
                         .where(CouncilItem.id.in_(select(CouncilUpdate.item_id).where(
                             CouncilUpdate.status.in_((Status.VALIDATED, Status.REOPENED)),
                             CouncilUpdate.created_at >= since, CouncilUpdate.created_at < until)))
                         .order_by(CouncilItem.id)).all()
    members = [person.id for person in session.exec(select(Employee).where(Employee.active))
               if config.council.has_member(person.handle, person.role)]
    for item, team in moved:
        params = {**item.case["validation"], "month": month, "theme": item.theme, "team": team}
        queue(session, now, "team", "ritual.council_month", params, team_id=item.team_id)
        for member in members:
            queue(session, now, "person", "ritual.council_month", params, employee_id=member)
    return len(moved)
