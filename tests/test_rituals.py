"""Rituals with a controllable clock: selection, once per period, DST, downtime, races."""

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import select

from bot.kit.config import parse_config
from handlers import feedback
from handlers.policy import DEFAULT_THEMES
from rituals import schedule
from rituals.content import measured_scores
from rituals.reminders import nudge_approvers, run_reminders
from storage.engine import transaction
from storage.migrate import alembic_config
from storage.models import Compensation, Outbox, RitualRun, Team
from tests.support import balance, count, notifications, rows

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(y, m, d, hh=0, mm=0, tz=SHANGHAI):
    return datetime(y, m, d, hh, mm, tzinfo=tz)


def target(chat, name, team="Harbour Street Store"):
    found = [t for t in schedule.targets(chat.engine, chat.config, [name])
             if t.team_name in (team, "")]
    return found[0]


def team_posts(engine, key=None):
    posts = rows(engine, Outbox, audience="team")
    return [p for p in posts if key is None or p.message_key == key]


def praise(chat, who, text, at, touching_by=()):
    reply = chat.ok("wang", f"praise @{who} {text}", now=at.astimezone(UTC))
    ref = reply.messages[0].params["ref"]
    for colleague in touching_by:
        chat.ok(colleague, f"touching {ref}", now=at.astimezone(UTC))
    return ref


def test_morning_praise_picks_the_most_touching_then_the_most_recent(chat):
    praise(chat, "alice", "kind words", local(2026, 11, 23, 9))
    praise(chat, "bob", "most touching", local(2026, 11, 23, 10), touching_by=("alice", "lilei"))
    praise(chat, "lilei", "also touching, later", local(2026, 11, 23, 11), touching_by=("bob",))
    praise(chat, "alice", "today, not yesterday", local(2026, 11, 24, 8), touching_by=("bob",
                                                                                     "lilei"))
    fired = local(2026, 11, 24, 9)
    assert schedule.run_once(chat.engine, chat.config, target(chat, "morning_praise"), fired,
                             fired) == "P2"
    (post,) = team_posts(chat.engine, "ritual.morning_praise")
    assert post.params["text"] == "most touching" and post.params["touching"] == 2


def test_ties_on_touching_go_to_the_most_recent(chat):
    praise(chat, "alice", "earlier", local(2026, 11, 23, 9))
    praise(chat, "bob", "later", local(2026, 11, 23, 18))
    fired = local(2026, 11, 24, 9)
    assert schedule.run_once(chat.engine, chat.config, target(chat, "morning_praise"), fired,
                             fired) == "P2"


def test_monday_morning_covers_the_weekend(chat):
    praise(chat, "alice", "saturday letter", local(2026, 11, 21, 15))  # Saturday
    fired = local(2026, 11, 23, 9)  # Monday; the previous run was Friday the 20th
    assert schedule.run_once(chat.engine, chat.config, target(chat, "morning_praise"), fired,
                             fired) == "P1"


def test_recording_is_posted_with_the_praise(chat):
    chat.ok("wang", "praise @alice listen to this https://files.test/voice.ogg",
            now=local(2026, 11, 23, 12).astimezone(UTC))
    fired = local(2026, 11, 24, 9)
    schedule.run_once(chat.engine, chat.config, target(chat, "morning_praise"), fired, fired)
    assert "https://files.test/voice.ogg" in team_posts(chat.engine)[0].params["recording"]


def test_a_team_with_no_praise_replays_an_unseen_favourite_or_skips(chat, config):
    praise(chat, "alice", "old favourite", local(2026, 11, 2, 12), touching_by=("bob",))
    mornings = target(chat, "morning_praise")
    first = local(2026, 11, 24, 9)
    assert schedule.run_once(chat.engine, config, mornings, first, first) == "P1"
    assert team_posts(chat.engine)[0].message_key == "ritual.morning_replay"
    # shown on the 24th, so not again within replay_unseen_days: nothing to post
    second = local(2026, 11, 25, 9)
    assert schedule.run_once(chat.engine, config, mornings, second, second) == "none"
    skip = parse_config({"rituals": {"morning_praise": {"fallback": "skip"}}})
    third = local(2026, 11, 26, 9)
    assert schedule.run_once(chat.engine, skip, mornings, third, third) == "none"
    assert len(team_posts(chat.engine)) == 1


def test_each_period_runs_once(chat):
    praise(chat, "alice", "thanks", local(2026, 11, 23, 12))
    mornings = target(chat, "morning_praise")
    fired = local(2026, 11, 24, 9)
    assert schedule.run_once(chat.engine, chat.config, mornings, fired, fired) == "P1"
    assert schedule.run_once(chat.engine, chat.config, mornings, fired, fired) is None
    later = fired + timedelta(hours=3)  # a rehearsal the same day is still the same period
    assert schedule.run_once(chat.engine, chat.config, mornings, later, later) is None
    assert len(team_posts(chat.engine)) == 1


def test_a_dst_week_neither_skips_nor_doubles(chat):
    """A 02:30 ritual in Berlin across the autumn change fires twice on the fall-back
    night (APScheduler's documented behaviour) and still posts once a day."""
    with transaction(chat.engine) as session:
        session.add(Team(name="Berlin Desk", timezone="Europe/Berlin"))
    config = parse_config({"rituals": {"morning_praise": {"time": "02:30", "days": "*",
                                                          "fallback": "replay"}}})
    chat.ok("wang", "praise @alice danke")  # something to replay every morning
    berlin = next(t for t in schedule.targets(chat.engine, config, ["morning_praise"])
                  if t.team_name == "Berlin Desk")
    tz = ZoneInfo("Europe/Berlin")
    fires = schedule.fire_times(berlin.trigger(config), datetime(2026, 10, 22, tzinfo=tz),
                                datetime(2026, 10, 29, tzinfo=tz))
    assert len(fires) == 8  # seven days, the 25th twice
    results = [schedule.run_once(chat.engine, config, berlin, fired, fired) for fired in fires]
    assert results.count(None) == 1
    periods = [r.period for r in rows(chat.engine, RitualRun, team_id=berlin.team_id)]
    assert periods == [f"2026-10-{d}" for d in range(22, 29)]
    # and in spring the 02:30 that does not exist still runs (at 03:30 local)
    spring = schedule.fire_times(berlin.trigger(config), datetime(2026, 3, 28, 12, tzinfo=tz),
                                 datetime(2026, 3, 30, tzinfo=tz))
    assert [f.astimezone(tz).date().isoformat() for f in spring] == ["2026-03-29"]


def test_restart_within_the_grace_runs_the_missed_period(chat):
    praise(chat, "alice", "thanks", local(2026, 11, 23, 12))
    now = local(2026, 11, 24, 10, 30).astimezone(UTC)  # 90 minutes after the 09:00 run
    outcome = schedule.catch_up(chat.engine, chat.config, now)
    done = [(t.ritual.name, t.team_name, period) for t, period, status in outcome
            if status == "done"]
    assert ("morning_praise", "Harbour Street Store", "2026-11-24") in done
    assert len(team_posts(chat.engine, "ritual.morning_praise")) == 1
    # a second start does nothing more
    schedule.catch_up(chat.engine, chat.config, now + timedelta(minutes=5))
    assert len(team_posts(chat.engine, "ritual.morning_praise")) == 1


def test_restart_after_the_grace_records_missed_and_sends_nothing_late(chat):
    praise(chat, "alice", "thanks", local(2026, 11, 23, 12))
    now = local(2026, 11, 24, 15).astimezone(UTC)  # six hours late
    schedule.catch_up(chat.engine, chat.config, now)
    run = [r for r in rows(chat.engine, RitualRun, ritual="morning_praise")
           if r.period == "2026-11-24"]
    assert [r.status for r in run] == ["missed", "missed"]  # both teams
    assert team_posts(chat.engine, "ritual.morning_praise") == []


def test_a_fresh_organisation_missed_nothing_from_before_it_began(chat):
    first = local(2026, 11, 24, 15).astimezone(UTC)  # the first start, on a Tuesday
    assert schedule.catch_up(chat.engine, chat.config, first) == []
    assert rows(chat.engine, RitualRun) == []
    schedule.catch_up(chat.engine, chat.config, first + timedelta(days=2))  # down two days
    missed = rows(chat.engine, RitualRun)
    assert {(r.ritual, r.period) for r in missed} == {
        ("morning_praise", "2026-11-25"), ("morning_praise", "2026-11-26"),
        ("golden_ear_reminder", "2026-11"), ("retention", "2026-11-25"),
        ("retention", "2026-11-26"), ("moments", "2026-11-25"), ("moments", "2026-11-26")}
    assert all(r.status == "missed" and r.scheduled_for > first for r in missed)


def test_scheduler_jobs_keep_missed_runs_within_the_grace(chat):
    scheduler = schedule.build_scheduler(chat.engine, chat.config)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert "reminders" in jobs and len(jobs) == 1 + 2 * 4 + 7  # two teams, seven org rituals
    job = next(j for i, j in jobs.items() if i.startswith("morning_praise:"))
    assert job.misfire_grace_time == chat.config.rituals.grace_minutes * 60
    assert job.coalesce is True and job.max_instances == 1
    assert isinstance(job.trigger, CronTrigger) and str(job.trigger.timezone) == "Asia/Shanghai"


def test_golden_ear_close_ritual_credits_once(chat, config):
    chat.ok("alice", "nominate @bob he listened", now=local(2026, 11, 10).astimezone(UTC))
    chat.ok("lilei", "vote @bob", now=local(2026, 11, 10).astimezone(UTC))
    close = target(chat, "golden_ear_close")
    fired = schedule.scheduled_for(close, config, date(2026, 11, 30))
    assert fired == local(2026, 11, 30, 17)
    assert schedule.run_once(chat.engine, config, close, fired, fired).startswith("winner")
    assert schedule.run_once(chat.engine, config, close, fired, fired) is None
    assert balance(chat.engine, "bob") == config.points.golden_ear


def test_weekly_digest_figures(chat):
    monday = local(2026, 11, 30, 9)
    last_week = local(2026, 11, 25, 12).astimezone(UTC)
    chat.ok("wang", "praise @alice great", now=last_week)
    chat.ok("alice", "comp 100 voucher late", now=last_week)
    chat.ok("alice", "comp 300 refund broken", now=last_week)
    chat.ok("wang", "approve C2", now=last_week)
    chat.ok("bob", "waiver no refunds without receipt", now=last_week)
    chat.ok("bob", "waiver no refunds without receipt", now=last_week)
    chat.ok("lilei", "suggest more chairs", now=last_week)
    schedule.run_once(chat.engine, chat.config, target(chat, "weekly_digest"), monday, monday)
    (digest,) = team_posts(chat.engine, "ritual.weekly_digest")
    params = digest.params
    assert (params["praise"], params["points"], params["pending"]) == (1, 10, 1)
    assert (params["own_count"], params["own_total"]) == (1, "100.00 CNY")
    assert (params["approved_count"], params["approved_total"]) == (1, "300.00 CNY")
    assert params["rules"] == "no refunds without receipt ×2"


def test_red_carpet_announces_teams_that_met_their_targets(chat):
    config = parse_config({"rituals": {"red_carpet": {
        "targets": {"Harbour Street Store": {"praise": 2, "nps": 60},
                    "Head Office": {"praise": 1}},
        "measured": {"Harbour Street Store": {"nps": 62}}}}})
    chat.ok("wang", "praise @alice one", now=local(2026, 3, 1).astimezone(UTC))
    chat.ok("wang", "praise @bob two", now=local(2026, 6, 1).astimezone(UTC))
    carpet = target(chat, "red_carpet")
    fired = schedule.scheduled_for(carpet, config, date(2026, 12, 20))
    assert schedule.run_once(chat.engine, config, carpet, fired, fired) == "Harbour Street Store"
    assert notifications(chat.engine)[-1].message_key == "ritual.red_carpet"


def test_red_carpet_targets_use_the_scores_frontline_measured(chat):
    config = parse_config({"rituals": {"red_carpet": {
        "targets": {"Harbour Street Store": {"nps": 30, "csat": 50},
                    "Head Office": {"nps": 10}},
        # typed numbers stand in only where Frontline measured nothing
        "measured": {"Harbour Street Store": {"nps": 90, "csat": 90},
                     "Head Office": {"nps": 20}}}}})
    # Harbour: promoters 2, passive 1, detractor 1 of 4 -> NPS 25; CSAT 1 of 2 -> 50%
    lines = ["kind,team,score,source,source_id,received_at",
             *(f"nps,Harbour Street Store,{score},t,{n},2026-05-0{n}T00:00:00Z"
               for n, score in enumerate((10, 9, 8, 2), start=1)),
             "csat,Harbour Street Store,5,t,5,2026-05-05T00:00:00Z",
             "csat,Harbour Street Store,3,t,6,2026-05-06T00:00:00Z"]
    with transaction(chat.engine) as session:
        feedback.import_csv(session, "\n".join(lines) + "\n", chat.now, DEFAULT_THEMES)
        team = session.exec(select(Team).where(Team.name == "Harbour Street Store")).one()
        year = (local(2026, 1, 1).astimezone(UTC), local(2026, 12, 20).astimezone(UTC))
        assert measured_scores(session, config, team, *year) == {"nps": 25, "csat": 50}
    carpet = target(chat, "red_carpet")
    fired = schedule.scheduled_for(carpet, config, date(2026, 12, 20))
    # Harbour's measured NPS 25 misses 30 whatever was typed; Head Office has no
    # feedback, so its typed 20 meets 10.
    assert schedule.run_once(chat.engine, config, carpet, fired, fired) == "Head Office"


def test_approval_nudges_once_a_day_then_escalation_to_hr(chat, config):
    start = chat.now
    chat.ok("alice", "comp 350 refund broken vase", now=start)
    with transaction(chat.engine) as session:
        assert nudge_approvers(session, config, start + timedelta(hours=23)) == 0
        assert nudge_approvers(session, config, start + timedelta(hours=25)) == 1
        assert nudge_approvers(session, config, start + timedelta(hours=26)) == 0  # same day
        assert nudge_approvers(session, config, start + timedelta(hours=49)) == 1
        assert nudge_approvers(session, config, start + timedelta(hours=73)) == 1  # escalated
    waiting = [n.message_key for n in notifications(chat.engine, "wang")]
    assert waiting == ["notify.comp_request", "notify.approval_waiting",
                       "notify.approval_waiting"]
    assert [n.message_key for n in notifications(chat.engine, "hana")] == [
        "notify.approval_escalated"]
    chat.refused("wang", "approve C1", "refuse.not_approver")
    chat.ok("hana", "approve C1")
    assert rows(chat.engine, Compensation)[0].decided_by_id is not None


def test_escalation_never_lands_on_the_requester(chat, config):
    chat.ok("wang", "comp 5000 upgrade suite", now=chat.now)  # wang -> hana
    with transaction(chat.engine) as session:
        nudge_approvers(session, config, chat.now + timedelta(hours=80))
    assert rows(chat.engine, Compensation)[0].approver_id != rows(
        chat.engine, Compensation)[0].employee_id


def test_reminder_sweep_on_waivers(chat, config):
    chat.ok("alice", "waiver dress code", now=chat.now)
    chat.ok("bob", "waiver queue rule", now=chat.now)
    chat.ok("bob", "waiver report W2 a / b", now=chat.now + timedelta(hours=23, minutes=59))
    with transaction(chat.engine) as session:
        assert run_reminders(session, config, chat.now + timedelta(hours=21)).startswith(
            "1 waiver reminders")
        summary = run_reminders(session, config, chat.now + timedelta(hours=25))
    assert "1 waiver escalations" in summary  # alice's only: bob reported a minute early
    assert count(chat.engine, Outbox, message_key="notify.waiver_overdue_supervisor") == 1


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_two_processes_race_for_the_same_run_on_postgresql(engine, tmp_path):
    """Two `frontline rituals run` processes start together against one PostgreSQL
    database: one posts, the other finds the period claimed."""
    url = engine.url.render_as_string(hide_password=False)
    settings = tmp_path / "frontline.toml"
    settings.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    with transaction(engine) as session:
        session.add(Team(name="Race Team", timezone="Asia/Shanghai"))
    command.stamp(alembic_config(url), "head")  # built by create_all: mark it current
    argv = [sys.executable, "-m", "bot.cli", "--config", str(settings), "rituals", "run",
            "golden_ear_open", "--date", "2026-12-01"]
    runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    lines = "".join(out for out, _err in outputs)
    assert lines.count("2026-12: announced") == 1 and lines.count("already ran") == 1
    assert count(engine, RitualRun, ritual="golden_ear_open") == 1
    assert count(engine, Outbox, message_key="ritual.goldenear_open") == 1
