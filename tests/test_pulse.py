"""The employee pulse: its schedule, asking in private, answering in every language,
one answer per person, anonymity of the stored rows, and the minimum of answers."""

import hashlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.kit.config import parse_config
from handlers import pulse
from rituals import schedule
from rituals.reminders import run_reminders
from storage.engine import transaction
from storage.models import CommandReceipt, Employee, Outbox, Pulse, PulseAnswer, Team
from tests.support import count, employee, rows

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # ISO week 48


def team_id(engine, name="Harbour Street Store") -> int:
    with transaction(engine) as session:
        return session.exec(select(Team.id).where(Team.name == name)).one()


def ask(chat, config=None, fired=MONDAY) -> str | None:
    config = config or chat.config
    target = next(t for t in schedule.targets(chat.engine, config, ["pulse"])
                  if t.team_name == "Harbour Street Store")
    return schedule.run_once(chat.engine, config, target, fired, fired)


def test_every_second_monday_at_ten_by_default(config):
    trigger = schedule.RITUALS["pulse"].trigger(config, SHANGHAI)
    fires = schedule.fire_times(trigger, datetime(2026, 11, 1, tzinfo=UTC),
                                datetime(2026, 12, 31, tzinfo=UTC))
    assert [f.date().isoformat() for f in fires] == [  # the odd ISO weeks
        "2026-11-02", "2026-11-16", "2026-11-30", "2026-12-14", "2026-12-28"]
    assert {(f.weekday(), f.hour, f.minute) for f in fires} == {(0, 10, 0)}
    weekly = parse_config({"rituals": {"pulse": {"weeks": "*", "day": "fri"}}})
    assert len(schedule.fire_times(schedule.RITUALS["pulse"].trigger(weekly, SHANGHAI),
                                   datetime(2026, 11, 1, tzinfo=UTC),
                                   datetime(2026, 12, 1, tzinfo=UTC))) == 4


def test_the_ritual_asks_every_member_privately_once_per_period(chat):
    assert ask(chat) == "asked 4"
    assert ask(chat) is None  # the same period: claimed already
    asked = rows(chat.engine, Outbox, message_key="ritual.pulse")
    assert len(asked) == 4 and {n.audience for n in asked} == {"person"}
    assert [a["command"] for a in asked[0].actions] == [
        "pulse 10", "pulse 9", "pulse 8", "pulse 7", "pulse 5", "pulse 0"]
    (opened,) = rows(chat.engine, Pulse)
    assert opened.period == "2026-W48" and opened.salt
    assert opened.closes_at == (MONDAY + timedelta(days=7)).astimezone(UTC)


def test_answered_in_every_language_once_per_person(chat):
    chat.refused("alice", "pulse 8", "refuse.pulse_none")  # nothing asked yet
    ask(chat)
    now = MONDAY.astimezone(UTC) + timedelta(hours=1)
    chat.ok("alice", "pulse 8 the order system was down", now=now)
    chat.ok("bob", "脉搏 7 系统太慢", now=now)
    chat.ok("lilei", "脈搏 10", now=now)
    chat.refused("alice", "pulse 3 changed my mind", "refuse.pulse_answered", now=now)
    assert [m.key for m in chat.reply("wang", "pulse 11", now=now).messages] == [
        "error.score", "usage.pulse"]
    assert [m.key for m in chat.reply("wang", "pulse", now=now).messages] == ["usage.pulse"]
    chat.refused("hana", "pulse 9", "refuse.pulse_none", now=now)  # another team
    late = MONDAY.astimezone(UTC) + timedelta(days=8)
    chat.refused("wang", "pulse 9", "refuse.pulse_none", now=late)  # closed
    assert sorted((a.enps, a.comment) for a in rows(chat.engine, PulseAnswer)) == [
        (7, "系统太慢"), (8, "the order system was down"), (10, "")]


def test_the_stored_rows_cannot_identify_the_person(chat):
    ask(chat)
    now = MONDAY.astimezone(UTC) + timedelta(hours=1)
    chat.ok("alice", "pulse 3 the order system was down", now=now, key="console:1")
    alice = employee(chat.engine, "alice")
    (answer,) = rows(chat.engine, PulseAnswer)
    assert set(PulseAnswer.model_fields) == {"pulse_id", "voter", "enps", "comment", "themes"}
    assert answer.themes == "|it-systems|"  # tagged from the comment alone
    assert alice.id not in answer.model_dump().values()
    stored = " ".join(str(v) for v in answer.model_dump().values()).lower()
    assert alice.handle not in stored and alice.name.lower() not in stored
    for guess in (f"{answer.pulse_id}:{alice.id}", str(alice.id), alice.handle):
        assert hashlib.sha256(guess.encode()).hexdigest() != answer.voter
    # Nothing else written by the answer names her: no notification, and the receipt
    # keeps only the thanks.
    assert count(chat.engine, Outbox, employee_id=alice.id) == 1  # the question only
    (receipt,) = rows(chat.engine, CommandReceipt)
    assert [m["key"] for m in receipt.reply["messages"]] == ["pulse.thanks"]
    assert set(receipt.reply["messages"][0]["params"]) == {"closes"}
    # While open, only the pulse's salt links her to the row; once closed, it is gone.
    with transaction(chat.engine) as session:
        opened = session.exec(select(Pulse)).one()
        assert pulse.voter(chat.config, opened, alice.id) == answer.voter
        run_reminders(session, chat.config, opened.closes_at)
    (closed,) = rows(chat.engine, Pulse)
    assert closed.salt is None


def test_a_secret_from_the_environment_keys_the_hash_too(chat, monkeypatch):
    keyed = parse_config({"rituals": {"pulse": {"key_env": "PULSE_KEY"}}})
    opened = Pulse(id=1, team_id=1, period="2026-W48", salt="00" * 16)
    monkeypatch.setenv("PULSE_KEY", "one secret")
    first = pulse.voter(keyed, opened, 7)
    monkeypatch.setenv("PULSE_KEY", "another")
    assert pulse.voter(keyed, opened, 7) != first != pulse.voter(chat.config, opened, 7)


def test_a_team_of_four_sees_no_figures_five_do(chat):
    ask(chat)
    now = MONDAY.astimezone(UTC) + timedelta(hours=1)
    for handle, line in (("alice", "pulse 10"), ("bob", "pulse 9 queue too long"),
                         ("lilei", "pulse 9"), ("wang", "pulse 3 the crm is slow")):
        chat.ok(handle, line, now=now)
    team = team_id(chat.engine)
    since, until = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    with transaction(chat.engine) as session:
        four = pulse.team_pulse(session, chat.config, team, since, until, with_comments=True)
        session.add(Employee(handle="mei", name="Mei", role="employee", team_id=team))
    assert (four.answers, four.enps, four.comments) == (4, None, ())
    chat.ok("mei", "pulse 8", now=now)
    with transaction(chat.engine) as session:
        five = pulse.team_pulse(session, chat.config, team, since, until, with_comments=True)
    # 10, 9, 9, 8, 3: 3 promoters, 1 detractor of 5 answers: 60% - 20% = 40
    assert (five.answers, five.promoters, five.detractors, five.enps) == (5, 3, 1, 40)
    assert five.comments == ("queue too long", "the crm is slow")  # sorted, not by time
    strict = parse_config({"rituals": {"pulse": {"min_answers": 6}}})
    with transaction(chat.engine) as session:
        assert pulse.team_pulse(session, strict, team, since, until).enps is None


def test_percentages_round_half_away_from_zero():
    assert [pulse.percent(p, w) for p, w in ((1, 3), (2, 3), (-1, 8), (1, 8), (0, 5))] == [
        33, 67, -13, 13, 0]


def test_on_sqlite_answers_lie_in_hash_order_not_answer_order(chat):
    if chat.engine.dialect.name != "sqlite":
        return
    with chat.engine.connect() as connection:
        schema = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'pulseanswer'").scalar()
    assert schema.rstrip().endswith("WITHOUT ROWID")
