"""`me` and the language switch: what a person can see and set about themselves."""

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Select, bindparam, func, select

from handlers import approvals, compensation, improvements
from handlers.base import Context, Message, Reply, money
from handlers.registry import Command, handles, verb, verb_alone
from handlers.reports.board import BoardMonth, columns, current_month, parameters, rows
from handlers.words import languages, require
from storage.enums import WaiverStatus
from storage.models import Employee, PointsAccount, Team, Waiver


@dataclass(frozen=True)
class Me(Command):
    """The sender's authority, budget used, points and open items."""


verb_alone("me", Me)


@dataclass(frozen=True)
class SetLanguage(Command):
    """The language the bot uses with the sender."""

    locale: str


@verb("lang")
def parse_lang(rest: list[str]) -> SetLanguage:
    require(len(rest) == 1 and rest[0].lower() in languages())
    return SetLanguage(languages()[rest[0].lower()])


# The person's team, points, improvement cases, open waivers, budgets used and board in
# one round trip.
_SUMMARY = (
    select(Team.name).where(Team.id == bindparam("team")).scalar_subquery(),
    select(PointsAccount.balance).where(
        PointsAccount.employee_id == bindparam("who")).scalar_subquery(),
    improvements.CASES,
    select(func.count()).select_from(Waiver).where(
        Waiver.employee_id == bindparam("who"),
        Waiver.status == WaiverStatus.OPEN).scalar_subquery(),
    *compensation.SPENT_COLUMNS)
BOARD_MONTHS = 3


@cache
def _statement(currency: str) -> Select:
    return select(*_SUMMARY, *columns(currency, BOARD_MONTHS))


@handles(Me, reads_only=True)
def me(ctx: Context, command: Me | None = None) -> Reply:
    actor, config = ctx.actor, ctx.config
    month = current_month(config, ctx.now)
    team, balance, cases, open_waivers, today, this_month, *shown = ctx.session.execute(
        _statement(config.organisation.currency), {
            "team": actor.team_id, **compensation.spent_parameters(ctx),
            **parameters(config, actor.id, month, BOARD_MONTHS)}).one()
    authority = compensation.authority_summary(
        ctx, actor, compensation.Usage(int(today), int(this_month)))
    needed = config.points.career_improvement_cases
    reply = Reply.of(
        "me.summary", name=actor.name, role_key=f"role.{actor.role}",
        team=team or "-", limit=authority["limit"], today=authority["today"],
        month=authority["month"], balance=balance or 0,
        cases=int(cases), needed=needed,
        career_key="me.career_met" if cases >= needed else "me.career_not_met",
        waivers=int(open_waivers), pending=len(approvals.waiting_for(ctx)))
    reply.messages += [Message("me.board"), *(board_line(row, config.organisation.currency,
                                                         needed) for row in rows(month, shown))]
    return reply


def board_line(row: BoardMonth, currency: str, needed: int) -> Message:
    shown = lambda value: "—" if value is None else str(value)  # noqa: E731
    return Message("me.board_line", {
        "month": row.month, "nps": shown(row.customers.nps), "csat": shown(row.customers.csat),
        "responses": row.customers.responses, "praise": row.praise,
        "given": money(row.given_minor, currency), "within": row.within, "above": row.above,
        "cases": row.cases, "needed": needed})


@handles(SetLanguage)
def set_language(ctx: Context, command: SetLanguage) -> Reply:
    employee = ctx.session.get(Employee, ctx.actor.id)
    employee.locale = command.locale
    ctx.actor.locale = command.locale
    return Reply.of("lang.set")
