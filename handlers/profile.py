"""`me` and the language switch: what a person can see and set about themselves."""

from sqlalchemy import func
from sqlmodel import select

from handlers import approvals, compensation, improvements
from handlers.base import Context, Reply
from handlers.commands import SetLanguage
from points import ledger
from storage.models import Employee, Team, Waiver


def me(ctx: Context) -> Reply:
    actor = ctx.actor
    team = ctx.session.get(Team, actor.team_id) if actor.team_id else None
    authority = compensation.authority_summary(ctx, actor)
    cases = improvements.improvement_cases(ctx, actor.id)
    needed = ctx.config.points.career_improvement_cases
    open_waivers = ctx.session.exec(select(func.count()).select_from(Waiver).where(
        Waiver.employee_id == actor.id, Waiver.status == "open")).one()
    return Reply.of(
        "me.summary", name=actor.name, role_key=f"role.{actor.role}",
        team=team.name if team else "-", limit=authority["limit"], today=authority["today"],
        month=authority["month"], balance=ledger.balance(ctx.session, actor.id),
        cases=cases, needed=needed,
        career_key="me.career_met" if cases >= needed else "me.career_not_met",
        waivers=int(open_waivers), pending=len(approvals.waiting_for(ctx)))


def set_language(ctx: Context, command: SetLanguage) -> Reply:
    employee = ctx.session.get(Employee, ctx.actor.id)
    employee.locale = command.locale
    ctx.actor.locale = command.locale
    return Reply.of("lang.set")
