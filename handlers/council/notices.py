"""Who hears of a council item: the team's staff at every step (kept as the item's
update), the staff who reported on its theme once it is worked on (the employee
micro-loop), and the team's supervisors a line to tell customers meanwhile (the customer
micro-loop)."""

from datetime import datetime, timedelta

from sqlmodel import Session, select

from handlers.base import Context, Reply, queue
from handlers.policy import Policy
from handlers.reports.theme_voices import reporters
from handlers.themes import theme_names
from storage.enums import CouncilStatus as Status
from storage.models import CouncilItem, CouncilUpdate, Employee
from storage.rows import insert_row, send_once

OPEN = (Status.APPROVED, Status.IN_PROGRESS, Status.REOPENED)  # staff hear it is worked on


def status_key(status: str) -> str:
    return f"council.status.{status}"


def record(ctx: Context, item: CouncilItem, status: str, text: str) -> None:
    """Keep the step and tell the team's staff (the frontline hears it is being fixed)."""
    insert_row(ctx.session, CouncilUpdate(item_id=item.id, author_id=ctx.actor.id,
                                          status=status, text=text, created_at=ctx.now))
    queue(ctx.session, ctx.now, "team", "notify.council_update", {
        "ref": f"X{item.id}", "theme_names": theme_names(ctx.config, item.theme),
        "status_key": status_key(status),
        "text": f" — {text}" if text else "", "who": ctx.actor.name}, team_id=item.team_id)


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
                       theme_names=theme_names(ctx.config, item.theme),
                       status_key=status_key(item.status))
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


def send_script(ctx: Context, item: CouncilItem, line: str) -> Reply:
    """The customer micro-loop: the team's supervisors get one line to tell customers
    who meet the problem while it is being fixed."""
    insert_row(ctx.session, CouncilUpdate(item_id=item.id, author_id=ctx.actor.id,
                                          status=item.status, text=f"script: {line}",
                                          created_at=ctx.now))
    supervisors = ctx.session.exec(select(Employee.id).where(
        Employee.team_id == item.team_id, Employee.role == "supervisor", Employee.active)).all()
    for supervisor in supervisors:
        ctx.notify(supervisor, "notify.council_script", ref=f"X{item.id}",
                   theme_names=theme_names(ctx.config, item.theme), script=line)
    return Reply.of("council.scripted", ref=f"X{item.id}", count=len(supervisors))
