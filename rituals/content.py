"""What each ritual posts: selection and figures from the records. Every function
runs inside the caller's transaction and queues its posts in the outbox."""

import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from handlers.base import PRIVILEGED, queue
from handlers.calendar import month_of
from handlers.golden_ear import close_month, standings
from handlers.policy import Policy
from handlers.praise import recording_id
from handlers.pulse import team_pulse
from handlers.quiet import at_shift_start
from handlers.recovery.weekly import week as recovery_week
from handlers.registry import with_approver
from handlers.reports.authority import coaching_lines
from handlers.reports.signals import Signal, month_signals, visible_to_each
from handlers.reports.voices import CustomerVoice, customer_voice
from handlers.scope import Scope, scope_of
from handlers.signals import signal_messages
from storage.enums import (
    CaseStatus,
    CompensationStatus,
    LedgerReason,
    PraiseStatus,
    RunOutcome,
)
from storage.models import (
    Compensation,
    Employee,
    LedgerEntry,
    MajorIssue,
    Praise,
    RitualRun,
    SentOnce,
    Suggestion,
    Team,
    Waiver,
)


def _team_members(team: Team):
    return select(Employee.id).where(Employee.team_id == team.id)


def _recording(praise: Praise) -> str:
    return f"\n🎧 {praise.attachment_ref}" if praise.attachment_ref else ""


def morning_praise(session: Session, config: Policy, team: Team, since: datetime,
                   until: datetime, today: str, now: datetime) -> str:
    """Post the most touching praise received since the previous morning (most marks,
    then most recent); with none, replay a favourite not shown lately, or skip."""
    credited = select(Praise).where(Praise.status == "credited",
                                    Praise.employee_id.in_(_team_members(team)))
    best = session.exec(credited.where(Praise.created_at >= since, Praise.created_at < until)
                        .order_by(Praise.touching_count.desc(), Praise.created_at.desc())
                        ).first()
    key = "ritual.morning_praise"
    settings = config.rituals.morning_praise
    if best is None and settings.fallback == "replay":
        shown_since = (datetime.fromisoformat(today)
                       - timedelta(days=settings.replay_unseen_days)).date().isoformat()
        shown = session.exec(select(RitualRun.detail).where(
            RitualRun.ritual == "morning_praise", RitualRun.team_id == team.id,
            RitualRun.period >= shown_since, RitualRun.status == RunOutcome.DONE)).all()
        shown_ids = [int(d[1:]) for d in shown if d.startswith("P")]
        best = session.exec(credited.where(Praise.id.not_in(shown_ids))
                            .order_by(Praise.touching_count.desc(), Praise.created_at.desc())
                            ).first()
        key = "ritual.morning_replay"
    if best is None:
        return "none"
    who = session.get(Employee, best.employee_id)
    params = {"who": who.name, "text": best.text, "touching": best.touching_count,
              "recording": _recording(best), "ref": f"P{best.id}",
              "recording_id": recording_id(best)}
    queue(session, now, "team", key, params, team_id=team.id)
    at_shift_start(session, config, team.id, now, key, params)  # shift workers: at its start
    return f"P{best.id}"


def golden_ear_open(session: Session, config: Policy, month: str, now: datetime) -> str:
    queue(session, now, "all", "ritual.goldenear_open", {"month": month})
    return "announced"


def golden_ear_reminder(session: Session, config: Policy, month: str, now: datetime) -> str:
    nominees = len(standings(session, month))
    queue(session, now, "all", "ritual.goldenear_reminder", {"month": month, "count": nominees})
    return f"{nominees} nominees"


def golden_ear_close(session: Session, config: Policy, month: str, now: datetime) -> str:
    award = close_month(session, config, month, now)
    if award is None:
        return "already closed"
    return f"winner employee {award.winner_id}" if award.winner_id else "no nominations"


def _count(session: Session, query) -> int:
    return int(session.exec(query).one() or 0)


def team_figures(session: Session, team: Team, since: datetime, until: datetime) -> dict:
    members = _team_members(team)
    praise = _count(session, select(func.count()).select_from(Praise).where(
        Praise.status == PraiseStatus.CREDITED, Praise.employee_id.in_(members),
        Praise.created_at >= since, Praise.created_at < until))
    points = _count(session, select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.employee_id.in_(members), LedgerEntry.amount > 0,
        LedgerEntry.reason != LedgerReason.REVERSAL, LedgerEntry.created_at >= since,
        LedgerEntry.created_at < until))
    cases = sum(_count(session, select(func.count()).select_from(model).where(
        model.employee_id.in_(members), model.status == status,
        model.decided_at >= since, model.decided_at < until))
        for model, status in ((Suggestion, CaseStatus.ACCEPTED),
                              (MajorIssue, CaseStatus.CONFIRMED)))
    return {"praise": praise, "points": points, "improvement_cases": cases}


def weekly_digest(session: Session, config: Policy, team: Team, since: datetime,
                  until: datetime, now: datetime) -> str:
    figures = team_figures(session, team, since, until)
    members = _team_members(team)
    given = session.exec(select(Compensation.status, func.count(),
                                func.coalesce(func.sum(Compensation.amount_minor), 0))
                         .where(Compensation.employee_id.in_(members),
                                Compensation.currency == config.organisation.currency,
                                Compensation.created_at >= since, Compensation.created_at < until)
                         .group_by(Compensation.status)).all()
    by_status = {status: (count, total) for status, count, total in given}
    own_count, own_total = by_status.get(CompensationStatus.SELF_AUTHORISED, (0, 0))
    approved_count, approved_total = by_status.get(CompensationStatus.APPROVED, (0, 0))
    rules = Counter(session.exec(select(Waiver.rule).where(
        Waiver.employee_id.in_(members), Waiver.occurred_at >= since,
        Waiver.occurred_at < until)).all())
    pending = sum(_count(session, select(func.count()).select_from(kind.model).where(
        kind.model.employee_id.in_(members), kind.model.status == kind.awaiting))
        for kind in with_approver())
    currency = config.organisation.currency
    queue(session, now, "team", "ritual.weekly_digest", {
        "team": team.name, "praise": figures["praise"], "points": figures["points"],
        "own_count": own_count, "own_total": f"{own_total / 100:.2f} {currency}",
        "approved_count": approved_count,
        "approved_total": f"{approved_total / 100:.2f} {currency}",
        "rules": ", ".join(f"{rule} ×{n}" for rule, n in rules.most_common(5)) or "-",
        "pending": pending}, team_id=team.id)
    cases = recovery_week(session, team.id, since, until)
    if any(cases.values()):  # a team that had no unhappy customer hears nothing of it
        queue(session, now, "team", "ritual.weekly_recovery", {"team": team.name, **cases},
              team_id=team.id)
    signals_digest(session, config, team, until, now)
    return f"{figures['praise']} praise, {figures['points']} points"


@dataclass(frozen=True)
class _Moment:
    """What every team's digest at one moment shares: the month's open signals, indexed
    by whom they are about, and who reads the whole organisation's (HR)."""

    shown_to: Callable[[Scope], list[Signal]]
    privileged: tuple[int, ...]
    config: weakref.ref  # the configuration it was worked out for (ids are reused)


# One per digest moment, shared by every team whose weekly digest fires then (a thousand
# teams in one timezone: one pass, not a thousand). A signal found or dismissed while
# they run shows in next week's digest.
_MOMENTS: dict[tuple[str, int, str, datetime], _Moment] = {}


def _moment(session: Session, config: Policy, month: str, until: datetime) -> _Moment:
    key = (str(session.get_bind().url), id(config), month, until)
    if key not in _MOMENTS or _MOMENTS[key].config() is not config:
        while len(_MOMENTS) >= 8:  # the oldest moments go first
            del _MOMENTS[next(iter(_MOMENTS))]
        _MOMENTS[key] = _Moment(
            visible_to_each([s for s in month_signals(session, config, month)
                             if s.dismissal is None]),
            tuple(session.exec(select(Employee.id).where(
                Employee.active, Employee.role.in_(PRIVILEGED)).order_by(Employee.id))),
            weakref.ref(config))
    return _MOMENTS[key]


def signals_digest(session: Session, config: Policy, team: Team, until: datetime,
                   now: datetime) -> int:
    """The week's signals, told privately to the supervisors of the team's people and to
    HR (never in the team's channel, never to the person one is about): each reader once
    a week, every open signal they may see with the records behind it, and who never
    used their authority this month while peers did. A reader told already this week
    (HR, by the first team's digest) costs one lookup."""
    from rituals.reminders import send_once  # reminders imports the handlers' rituals

    month = month_of(until - timedelta(seconds=1), config.organisation.tz)
    week = "{}-W{:02d}".format(*until.astimezone(config.organisation.tz).isocalendar()[:2])
    moment = _moment(session, config, month, until)
    supervisors = select(Employee.supervisor_id).where(Employee.id.in_(_team_members(team)))
    ids = [*moment.privileged, *session.exec(select(Employee.id).where(
        Employee.active, Employee.role.not_in(PRIVILEGED), Employee.id.in_(supervisors))
        .order_by(Employee.id))]
    keys = {reader: f"signals_digest:{week}:{reader}" for reader in ids}
    sent = set(session.exec(select(SentOnce.key).where(SentOnce.key.in_(keys.values()))).all())
    waiting = [reader for reader in ids if keys[reader] not in sent]
    if not waiting:
        return 0
    people = {e.id: e for e in session.exec(select(Employee).where(Employee.id.in_(waiting)))}
    readers = [people[reader] for reader in waiting if reader in people]
    shown_to = moment.shown_to
    told = 0
    for reader in readers:  # each reader's week is claimed even when there is nothing to say
        if not send_once(session, keys[reader.id], now):
            continue
        scope = scope_of(session, reader)
        lines = [*signal_messages(session, config, shown_to(scope)),
                 *coaching_lines(session, config, scope, month)]
        if not lines:
            continue
        queue(session, now, "person", "notify.signals_digest", {
            "count": len(lines), "month": month, "url": config.web.public_url},
            employee_id=reader.id)
        for line in lines:  # one message each, in order, after the header
            queue(session, now, "person", line.key, line.params, employee_id=reader.id)
        told += 1
    return told


def measured_scores(session: Session, config: Policy, team: Team, since: datetime,
                    until: datetime) -> dict[str, int]:
    """The team's scores Frontline measures itself — NPS and CSAT (% satisfied) from
    customer feedback, eNPS from the pulse when enough answered; a score with no
    answers is left out, so a number typed under `measured` stands in for it."""
    voice = customer_voice(session, since, until, [team.id]).get(team.id, CustomerVoice())
    pulse = team_pulse(session, config, team.id, since, until)
    scores = {"nps": voice.nps, "csat": voice.csat, "enps": pulse.enps}
    return {name: value for name, value in scores.items() if value is not None}


def red_carpet(session: Session, config: Policy, year_start: datetime, until: datetime,
               now: datetime) -> str:
    """Announce the teams that met every configured target for the year."""
    settings = config.rituals.red_carpet
    winners = []
    for team in session.exec(select(Team).order_by(Team.name)).all():
        targets = settings.targets.get(team.name)
        if not targets:
            continue
        actual = {**settings.measured.get(team.name, {}),
                  **team_figures(session, team, year_start, until),
                  **measured_scores(session, config, team, year_start, until)}
        if all(name in actual and actual[name] >= goal for name, goal in targets.items()):
            winners.append(team.name)
    year = year_start.astimezone(config.organisation.tz).year
    if winners:
        queue(session, now, "all", "ritual.red_carpet", {"year": year,
                                                          "teams": ", ".join(winners)})
    else:
        queue(session, now, "all", "ritual.red_carpet_none", {"year": year})
    return ", ".join(winners) or "none"
