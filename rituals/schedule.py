"""The rituals, their timing, and the run that happens once per period.

APScheduler decides *when*; the database decides *whether*: a run first inserts
its (ritual, team, period) row, and the unique key lets exactly one worker, one
DST double-fire or one catch-up through. The period is the local date, ISO week,
month or year the run stands for, so a 01:30 job firing twice on the fall-back
night still posts once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from handlers import moments, pulse, seasons
from handlers.calendar import day_start, local_midnight, month_of, months_back
from handlers.council.validation import month_digest
from handlers.policy import Policy
from rituals import content, retention
from rituals.reminders import run_reminders, send_once
from storage.engine import transaction
from storage.enums import RunOutcome
from storage.models import LedgerEntry, Outbox, RitualRun, SentOnce, Team

ORGANISATION = 0  # team id of organisation-wide runs


def _clock(value: str) -> dict:
    hour, minute = value.split(":")
    return {"hour": int(hour), "minute": int(minute)}


@dataclass(frozen=True)
class Ritual:
    name: str
    per_team: bool
    lookback: timedelta  # how far back a missed run may be found
    trigger: Callable[[Policy, ZoneInfo], CronTrigger]
    period: Callable[[datetime], str]  # the local fire time -> the period it stands for
    # (session, config, team or None, scheduled fire time (aware), now) -> detail, in the
    # claim's transaction, so what it posts is posted once
    run: Callable[[Session, Policy, Team | None, datetime, datetime], str] | None
    # (engine, config, now) -> detail: work done once the claim has committed, in
    # transactions of its own, so a long job holds no lock for its whole length (one
    # that dies half-way leaves the rest to the next period)
    apart: Callable[[Engine, Policy, datetime], str] | None = None


def _morning(session, config, team, fired, now):
    tz = ZoneInfo(team.timezone)
    today = day_start(fired, tz)
    trigger = RITUALS["morning_praise"].trigger(config, tz)
    previous = last_fire_before(trigger, today - timedelta(microseconds=1), timedelta(days=8))
    since = day_start(previous, tz) if previous else today - timedelta(days=1)
    return content.morning_praise(session, config, team, since, today,
                                  today.date().isoformat(), now)


def _weekly(session, config, team, fired, now):
    today = day_start(fired, ZoneInfo(team.timezone))
    return content.weekly_digest(session, config, team, today - timedelta(days=7), today, now)


def _red_carpet(session, config, team, fired, now):
    tz = config.organisation.tz
    year_start = local_midnight(date(fired.astimezone(tz).year, 1, 1), tz)
    return content.red_carpet(session, config, year_start, fired, now)


def _week(local: datetime) -> str:
    return "{}-W{:02d}".format(*local.isocalendar()[:2])


def _pulse(session, config, team, fired, now):
    return pulse.ask(session, config, team, _week(fired.astimezone(ZoneInfo(team.timezone))),
                     fired, now)


def _month(local: datetime) -> str:
    return month_of(local, local.tzinfo)


def _monthly(session, config, team, fired, now):
    """The month before the one it fires in."""
    tz = config.organisation.tz
    local = fired.astimezone(tz)
    start = local_midnight(date(local.year, local.month, 1), tz)
    previous = start - timedelta(days=1)
    since = local_midnight(date(previous.year, previous.month, 1), tz)
    moved = month_digest(session, config, month_of(since, tz), since, start, now)
    return f"{moved} council items validated or reopened"


def _closed_month(local: datetime) -> str:
    """The month before the one a run fires in: the month it closes."""
    return months_back(month_of(local, local.tzinfo), 2)[0]


def _season_close(session, config, team, fired, now):
    month = _closed_month(fired.astimezone(config.organisation.tz))
    return f"{seasons.close_month(session, config, month, now)} board lines of {month} kept"


def _moments(session, config, team, fired, now):
    day = fired.astimezone(ZoneInfo(team.timezone)).date()
    return f"{moments.post_moments(session, team, day, now)} moments"


def _golden(action):
    def run(session, config, team, fired, now):
        return action(session, config, month_of(fired, config.organisation.tz), now)
    return run


RITUALS: dict[str, Ritual] = {ritual.name: ritual for ritual in (
    Ritual("morning_praise", True, timedelta(days=2),
           lambda c, tz: CronTrigger(day_of_week=c.rituals.morning_praise.days, timezone=tz,
                                     **_clock(c.rituals.morning_praise.time)),
           lambda local: local.date().isoformat(), _morning),
    Ritual("golden_ear_open", False, timedelta(days=32),
           lambda c, tz: CronTrigger(day=c.rituals.golden_ear.open_day, timezone=tz,
                                     **_clock(c.rituals.golden_ear.time)),
           _month, _golden(content.golden_ear_open)),
    Ritual("golden_ear_reminder", False, timedelta(days=32),
           lambda c, tz: CronTrigger(day=c.rituals.golden_ear.reminder_day, timezone=tz,
                                     **_clock(c.rituals.golden_ear.time)),
           _month, _golden(content.golden_ear_reminder)),
    Ritual("golden_ear_close", False, timedelta(days=32),
           lambda c, tz: CronTrigger(day=c.rituals.golden_ear.close_day, timezone=tz,
                                     **_clock(c.rituals.golden_ear.close_time)),
           _month, _golden(content.golden_ear_close)),
    Ritual("weekly_digest", True, timedelta(days=8),
           lambda c, tz: CronTrigger(day_of_week=c.rituals.weekly_digest.day, timezone=tz,
                                     **_clock(c.rituals.weekly_digest.time)),
           _week, _weekly),
    Ritual("monthly_digest", False, timedelta(days=32),
           lambda c, tz: CronTrigger(day=c.rituals.monthly_digest.day, timezone=tz,
                                     **_clock(c.rituals.monthly_digest.time)),
           _month, _monthly),
    Ritual("red_carpet", False, timedelta(days=367),
           lambda c, tz: CronTrigger(month=int(c.rituals.red_carpet.date[:2]),
                                     day=int(c.rituals.red_carpet.date[3:]), timezone=tz,
                                     **_clock(c.rituals.red_carpet.time)),
           lambda local: str(local.year), _red_carpet),
    Ritual("pulse", True, timedelta(days=15),
           lambda c, tz: CronTrigger(day_of_week=c.rituals.pulse.day, week=c.rituals.pulse.weeks,
                                     timezone=tz, **_clock(c.rituals.pulse.time)),
           _week, _pulse),
    Ritual("season_close", False, timedelta(days=32),
           lambda c, tz: CronTrigger(day=1, hour=0, minute=30, timezone=tz),
           _closed_month, _season_close),
    Ritual("moments", True, timedelta(days=2),
           lambda c, tz: CronTrigger(timezone=tz, **_clock(c.rituals.moments.time)),
           lambda local: local.date().isoformat(), _moments),
    Ritual("retention", False, timedelta(days=2),
           lambda c, tz: CronTrigger(timezone=tz, **_clock(c.rituals.retention.time)),
           lambda local: local.date().isoformat(), None, retention.run),
)}


def last_fire_before(trigger: CronTrigger, now: datetime, lookback: timedelta) -> datetime | None:
    """The latest time the trigger fired at or before `now`, looking back `lookback`."""
    fires = fire_times(trigger, now - lookback, now)
    return fires[-1] if fires else None


def fire_times(trigger: CronTrigger, start: datetime, end: datetime) -> list[datetime]:
    fires, previous = [], None
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment <= end:
        fires.append(moment)
        previous = moment
        # Step on in UTC: local wall-clock arithmetic would lose the fold of a
        # fall-back hour and find the same fire time again.
        moment = trigger.get_next_fire_time(
            previous, moment.astimezone(UTC) + timedelta(microseconds=1))
    return fires


@dataclass(frozen=True)
class Target:
    """One ritual for one team (or the organisation), in its timezone."""

    ritual: Ritual
    team_id: int
    team_name: str
    tz: ZoneInfo

    def trigger(self, config: Policy) -> CronTrigger:
        return self.ritual.trigger(config, self.tz)

    def period(self, fired: datetime) -> str:
        return self.ritual.period(fired.astimezone(self.tz))


def targets(engine: Engine, config: Policy, names: list[str] | None = None) -> list[Target]:
    with transaction(engine) as session:
        teams = session.exec(select(Team).order_by(Team.id)).all()
    found = []
    for ritual in RITUALS.values():
        if names and ritual.name not in names:
            continue
        if ritual.per_team:
            found += [Target(ritual, t.id, t.name, ZoneInfo(t.timezone)) for t in teams]
        else:
            found.append(Target(ritual, ORGANISATION, "", config.organisation.tz))
    return found


def run_once(engine: Engine, config: Policy, target: Target, fired: datetime,
             now: datetime, status: RunOutcome = RunOutcome.DONE) -> str | None:
    """Claim the period of `fired` and run (or, with status "missed", only record it).
    Returns the run's detail, or None when the period was claimed already."""
    period = target.period(fired)
    try:
        with transaction(engine) as session:
            if session.exec(select(RitualRun.id).where(
                    RitualRun.ritual == target.ritual.name, RitualRun.team_id == target.team_id,
                    RitualRun.period == period)).first() is not None:
                return None
            claim = RitualRun(ritual=target.ritual.name, team_id=target.team_id, period=period,
                              status=status, scheduled_for=fired, ran_at=now)
            session.add(claim)
            session.flush()  # take the unique key before posting anything
            if status == RunOutcome.DONE and target.ritual.run is not None:
                team = session.get(Team, target.team_id) if target.team_id else None
                claim.detail = target.ritual.run(session, config, team, fired, now)[:200]
            claimed, detail = claim.id, claim.detail or status
    except IntegrityError:  # another worker claimed the same period at the same moment
        return None
    if status == RunOutcome.DONE and target.ritual.apart is not None:
        detail = target.ritual.apart(engine, config, now)[:200]
        with transaction(engine) as session:
            session.execute(update(RitualRun).where(RitualRun.id == claimed)
                            .values(detail=detail))
    return detail


FIRST_START = "rituals:first-start"  # SentOnce key: when the rituals were first started


def started_at(engine: Engine, now: datetime) -> datetime:
    """When this organisation's Frontline began: its first ritual run, notification or
    ledger entry, or the first start of its rituals, whichever came first; `now` on the
    first start of a fresh database. Nothing before it can have been missed."""
    with transaction(engine) as session:
        earliest = [session.exec(select(func.min(column))).one() for column in (
            RitualRun.ran_at, Outbox.created_at, LedgerEntry.created_at, SentOnce.created_at)]
        send_once(session, FIRST_START, now)
    return min([moment for moment in earliest if moment is not None], default=now)


def catch_up(engine: Engine, config: Policy, now: datetime) -> list[tuple[Target, str, str]]:
    """After downtime: run the latest missed period of each ritual if it is younger than
    the grace, and record every other missed period since Frontline began as missed
    (never sent late)."""
    grace = timedelta(minutes=config.rituals.grace_minutes)
    began = started_at(engine, now)
    outcome = []
    for target in targets(engine, config):
        fires = fire_times(target.trigger(config),
                           max(now - target.ritual.lookback, began), now)
        for fired in fires:
            late = now - fired
            status = RunOutcome.DONE if fired == fires[-1] and late <= grace else RunOutcome.MISSED
            detail = run_once(engine, config, target, fired, now, status)
            if detail is not None:
                outcome.append((target, target.period(fired), status))
    return outcome


def _fire(engine: Engine, config: Policy, target: Target) -> None:
    now = datetime.now(UTC)
    fired = last_fire_before(target.trigger(config), now, target.ritual.lookback)
    if fired is not None and now - fired <= timedelta(minutes=config.rituals.grace_minutes):
        run_once(engine, config, target, fired, now)


def _remind(engine: Engine, config: Policy) -> None:
    with transaction(engine) as session:
        run_reminders(session, config, datetime.now(UTC))


def build_scheduler(engine: Engine, config: Policy) -> BackgroundScheduler:
    """Every ritual for every team, plus the reminder sweep. Misfires within the grace
    still run (APScheduler's default would drop them after one second)."""
    grace = config.rituals.grace_minutes * 60
    scheduler = BackgroundScheduler(timezone=UTC)
    for target in targets(engine, config):
        scheduler.add_job(
            _fire, target.trigger(config), args=(engine, config, target),
            id=f"{target.ritual.name}:{target.team_id}", replace_existing=True,
            misfire_grace_time=grace or None, coalesce=True, max_instances=1)
    scheduler.add_job(
        _remind, "interval", minutes=config.rituals.reminders.check_every_minutes,
        args=(engine, config), id="reminders", replace_existing=True,
        misfire_grace_time=grace or None, coalesce=True, max_instances=1)
    return scheduler


def scheduled_for(target: Target, config: Policy, day: date) -> datetime | None:
    """The fire time of `target` on the local `day`, for rehearsing a past or future run."""
    start = local_midnight(day, target.tz)
    fires = fire_times(target.trigger(config), start, start + timedelta(days=1, microseconds=-1))
    return fires[0] if fires else None
