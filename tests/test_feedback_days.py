"""The counts kept per team, day and theme as feedback arrives: reports summed from them
and from the part-days at a window's ends agree with counting every response by hand,
for windows on and off UTC midnight; a rebuild gives the same rows as the write path;
re-tagging moves the theme counts with the tags."""

import random
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlmodel import select

from bot.demo import DEMO_STAFF
from handlers import feedback, feedback_days, themes
from handlers.directory import import_csv
from handlers.policy import DEFAULT_THEMES, Policy, Theme
from handlers.reports.voices import customer_voice, theme_voice
from storage import migrate
from storage.engine import make_engine, transaction
from storage.migrate import alembic_config
from storage.models import FeedbackDay, Team
from tests.support import employee

START = datetime(2026, 10, 30, tzinfo=UTC)
TEXTS = ["", "the order system was down", "no refund without a receipt", "waited ages",
         "system down and a long queue", "lovely"]


def _record_random(org, count: int = 240) -> tuple[int, list[tuple]]:
    """`count` responses spread over five days, times near midnight included."""
    rng = random.Random(5)
    people = [employee(org, "alice").id, employee(org, "bob").id, None]
    kept = []
    with transaction(org) as session:
        team_id = session.exec(select(Team.id).where(Team.name == "Harbour Street Store")).one()
        for n in range(count):
            kind = rng.choice(("nps", "csat", "ces", "complaint"))
            score = {"nps": rng.randint(0, 10), "csat": rng.randint(1, 5),
                     "ces": rng.randint(1, 7), "complaint": None}[kind]
            at = START + timedelta(days=rng.randint(0, 4), seconds=rng.choice(
                (0, 1, 3600 * 8, 3600 * 16 - 1, 3600 * 16, 86399, rng.randint(0, 86399))))
            text = rng.choice(TEXTS) or ("rude" if kind == "complaint" else "")
            person = rng.choice(people)
            item = feedback.FeedbackItem(kind=kind, score=score, text=text, team="x",
                                         source="t", source_id=f"r{n}", received_at=at)
            feedback.record(session, item, team_id, person, START, DEFAULT_THEMES)
            kept.append((person, at, kind, score, themes.themes_of(text, DEFAULT_THEMES)))
    return team_id, kept


def _by_hand(kept: list[tuple], since: datetime, until: datetime, alice: int) -> dict:
    inside = [k for k in kept if since <= k[1] < until]
    nps = [score for _p, _a, kind, score, _t in inside if kind == "nps"]
    csat = [score for _p, _a, kind, score, _t in inside if kind == "csat"]
    unhappy = {theme.key: sum(theme.key in tags and (kind == "complaint" or (
        kind == "nps" and score <= 6) or (kind == "csat" and score <= 2))
        for _p, _a, kind, score, tags in inside) for theme in DEFAULT_THEMES}
    return {"responses": len(inside), "promoters": sum(s >= 9 for s in nps),
            "detractors": sum(s <= 6 for s in nps), "csat_total": sum(csat),
            "complaints": sum(k[2] == "complaint" for k in inside),
            "alice_named": sum(k[0] == alice for k in inside),
            "unhappy": {key: n for key, n in unhappy.items() if n}}


def test_reports_agree_with_counting_by_hand_on_and_off_midnight(org):
    alice = employee(org, "alice").id
    team_id, kept = _record_random(org)
    windows = [(START, START + timedelta(days=5)),  # whole UTC days only
               (START - timedelta(hours=8), START + timedelta(days=3, hours=16)),  # Shanghai
               (START + timedelta(hours=7, seconds=13), START + timedelta(days=2, hours=1)),
               (START + timedelta(hours=3), START + timedelta(hours=20)),  # inside one day
               (START + timedelta(days=1), START + timedelta(days=1, seconds=1)),
               (START + timedelta(days=9), START + timedelta(days=10))]  # nothing there
    with transaction(org) as session:
        for since, until in windows:
            expected = _by_hand(kept, since, until, alice)
            voice = customer_voice(session, since, until, [team_id]).get(team_id)
            got = {"responses": 0, "promoters": 0, "detractors": 0, "csat_total": 0,
                   "complaints": 0} if voice is None else {
                "responses": voice.responses, "promoters": voice.promoters,
                "detractors": voice.detractors, "csat_total": voice.csat_total,
                "complaints": voice.complaints}
            named = customer_voice(session, since, until, [team_id], by_employee=True)
            got["alice_named"] = named[alice].responses if alice in named else 0
            got["unhappy"] = {key: voice.unhappy for key, voice in
                              theme_voice(session, since, until, team_id).items()
                              if voice.unhappy}
            assert got == expected, (since, until)


def _table(org) -> list[tuple]:
    with transaction(org) as session:
        return sorted(tuple(row) for row in session.execute(select(FeedbackDay.__table__)))


def test_a_rebuild_writes_what_the_write_path_kept(org):
    _record_random(org, 120)
    kept = _table(org)
    assert kept and any(row[3] for row in kept) and any(row[2] for row in kept)
    with transaction(org) as session:
        assert feedback_days.rebuild(session.connection()) == len(kept)
    assert _table(org) == kept


def test_migration_0014_counts_the_feedback_kept_before_it_as_the_write_path_does(
        migrated_url, config):
    """0014 fills the table from its own frozen copy of the counts: replayed on feedback
    the live code recorded, it writes the rows the live write path kept."""
    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        import_csv(session, config, DEMO_STAFF)
    _record_random(engine, 120)
    kept = _table(engine)
    engine.dispose()
    command.downgrade(alembic_config(migrated_url), "0013")  # feedbackday dropped
    migrate.upgrade(migrated_url)
    engine = make_engine(migrated_url)
    assert _table(engine) == kept
    engine.dispose()


def test_a_response_sent_twice_is_counted_once(org):
    team_id, _ = _record_random(org, 1)
    with transaction(org) as session:
        item = feedback.FeedbackItem(kind="nps", score=3, text="", team="x", source="t",
                                     source_id="r0", received_at=START)
        assert feedback.record(session, item, team_id, None, START, DEFAULT_THEMES).id is None
    totals = [row for row in _table(org) if row[2] == 0 and row[3] == ""]
    assert sum(row[4] for row in totals) == 1


def test_retagging_moves_the_theme_counts(org):
    team_id, _ = _record_random(org, 60)
    vocabulary = [Theme(key="kindness", names={"en": "Kindness"}, keywords=["lovely"]),
                  Theme(key="rudeness", names={"en": "Rudeness"}, keywords=["rude"])]
    with transaction(org) as session:
        themes.retag(session, Policy(themes=vocabulary))
    with transaction(org) as session:
        by_theme = theme_voice(session, START, START + timedelta(days=5), team_id)
    assert set(by_theme) <= {"kindness", "rudeness"} and by_theme["rudeness"].complaints > 0
