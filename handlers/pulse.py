"""Voice of the employee: a short pulse asked of each team on a schedule (eNPS 0-10 and
one free question), answered in chat, anonymous by default.

An answer is stored without the person and without a time. One answer per person per
pulse is kept by a keyed hash of (pulse, person) as the answer's key: the key is the
pulse's random salt (erased when the pulse closes) plus, when configured, a secret
from the environment, so the stored rows cannot be traced back to anyone. A team's
figures are shown only once it has the configured minimum of answers."""

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, case, func, update
from sqlmodel import Session, select

from handlers.base import Action, Context, Refusal, Reply, queue
from handlers.policy import Policy
from handlers.registry import Command, handles, verb
from handlers.scores import DETRACTOR, PROMOTER
from handlers.themes import tags
from handlers.words import require
from storage.models import Employee, Pulse, PulseAnswer, Team
from storage.rows import dialect_insert

BUTTONS = (10, 9, 8, 7, 5, 0)  # the scores offered as buttons; any 0-10 can be typed


@dataclass(frozen=True)
class PulseAnswerCommand(Command):
    """An answer to the team's open pulse: eNPS and what got in a customer's way."""

    score: int
    comment: str = ""


@verb("pulse")
def parse_pulse(rest: list[str]) -> PulseAnswerCommand:
    """`<0-10> [what got in the way of a customer]`"""
    require(bool(rest))
    word = rest[0]
    require(word.isascii() and word.isdigit() and int(word) <= 10, "error.score")
    return PulseAnswerCommand(int(word), " ".join(rest[1:]))


def voter(config: Policy, pulse: Pulse, employee_id: int) -> str:
    """The keyed hash that makes a second answer of the same person collide."""
    env = config.rituals.pulse.key_env
    pepper = os.environ.get(env, "").encode() if env else b""
    return hmac.new(pepper + bytes.fromhex(pulse.salt), f"{pulse.id}:{employee_id}".encode(),
                    hashlib.sha256).hexdigest()


def open_pulse(session: Session, team_id: int, now: datetime) -> Pulse | None:
    return session.exec(select(Pulse).where(
        Pulse.team_id == team_id, Pulse.salt.is_not(None), Pulse.opened_at <= now,
        Pulse.closes_at > now).order_by(Pulse.opened_at.desc())).first()


@handles(PulseAnswerCommand)
def answer(ctx: Context, command: PulseAnswerCommand) -> Reply:
    pulse = open_pulse(ctx.session, ctx.actor.team_id, ctx.now) if ctx.actor.team_id else None
    if pulse is None:
        raise Refusal("refuse.pulse_none")
    insert = dialect_insert(ctx.session.get_bind().dialect.name)
    table = PulseAnswer.__table__
    kept = ctx.session.execute(insert(table).values(
        pulse_id=pulse.id, voter=voter(ctx.config, pulse, ctx.actor.id), enps=command.score,
        comment=command.comment, themes=tags(command.comment, ctx.config.themes),
    ).on_conflict_do_nothing().returning(table.c.pulse_id)).scalar()
    if kept is None:
        raise Refusal("refuse.pulse_answered")
    return Reply.of("pulse.thanks", closes=ctx.local(pulse.closes_at))


def ask(session: Session, config: Policy, team: Team, period: str, fired: datetime,
        now: datetime) -> str:
    """The ritual: close the team's earlier pulses, open this period's and ask every
    member in private (a group chat would show who answered what)."""
    close_pulses(session, now, team.id)
    settings = config.rituals.pulse
    insert = dialect_insert(session.get_bind().dialect.name)
    table = Pulse.__table__
    pulse_id = session.execute(insert(table).values(
        team_id=team.id, period=period, opened_at=now,
        closes_at=fired + timedelta(days=settings.open_days), salt=secrets.token_hex(16),
    ).on_conflict_do_nothing(index_elements=["team_id", "period"]).returning(table.c.id)
    ).scalar()
    if pulse_id is None:
        return "asked already"
    pulse = session.get(Pulse, pulse_id)
    members = session.exec(select(Employee.id).where(Employee.team_id == team.id,
                                                     Employee.active)).all()
    actions = [Action(f"action.pulse_{score}", f"pulse {score}") for score in BUTTONS]
    for member in members:
        queue(session, now, "person", "ritual.pulse", {
            "closes": pulse.closes_at.astimezone(config.organisation.tz).strftime(
                "%Y-%m-%d %H:%M"), "minimum": settings.min_answers}, actions,
            employee_id=member)
    return f"asked {len(members)}"


def close_pulses(session: Session, now: datetime, team_id: int | None = None) -> int:
    """Erase the salt of pulses that have closed (or, for a team, of all its earlier
    ones): from then on no answer can be tied to anyone, even with the secret."""
    where = [Pulse.salt.is_not(None)]
    where.append(Pulse.team_id == team_id if team_id is not None else Pulse.closes_at <= now)
    return session.execute(update(Pulse).where(*where).values(salt=None)).rowcount


@dataclass(frozen=True)
class PulseFigures:
    answers: int
    enps: int | None  # None: fewer answers than the minimum, nothing shown
    promoters: int = 0
    detractors: int = 0
    comments: tuple[str, ...] = ()


def pulse_ids(team_id: int, since: datetime, until: datetime) -> Select:
    """The team's pulses opened in [since, until)."""
    return select(Pulse.id).where(Pulse.team_id == team_id, Pulse.opened_at >= since,
                                  Pulse.opened_at < until)


def team_pulse(session: Session, config: Policy, team_id: int, since: datetime,
               until: datetime, with_comments: bool = False) -> PulseFigures:
    """The team's pulse answers to the pulses opened in [since, until): eNPS (promoters
    9-10 minus detractors 0-6, in % of answers), and only with enough answers."""
    of_team = pulse_ids(team_id, since, until)
    answers, promoters, detractors = session.exec(select(
        func.count(), func.coalesce(func.sum(case((PulseAnswer.enps >= PROMOTER, 1), else_=0)), 0),
        func.coalesce(func.sum(case((PulseAnswer.enps <= DETRACTOR, 1), else_=0)), 0),
    ).where(PulseAnswer.pulse_id.in_(of_team))).one()
    if answers < config.rituals.pulse.min_answers:
        return PulseFigures(int(answers), None)
    comments = tuple(session.exec(select(PulseAnswer.comment).where(
        PulseAnswer.pulse_id.in_(of_team), PulseAnswer.comment != "")
        .order_by(PulseAnswer.comment)).all()) if with_comments else ()
    return PulseFigures(int(answers), percent(promoters - detractors, answers),
                        int(promoters), int(detractors), comments)


def percent(part: int, whole: int) -> int:
    """100 * part / whole rounded half away from zero, in integers (no float)."""
    sign = -1 if part < 0 else 1
    return sign * ((200 * abs(part) + whole) // (2 * whole))
