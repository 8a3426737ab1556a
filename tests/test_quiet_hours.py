"""Quiet hours and shifts: a notification that is not urgent waits in the outbox for its
reader's working time; `prefs` sets a person's hours and mutes broadcasts sent to them."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.demo import DEMO_STAFF
from bot.kit.config import ConfigError, parse_config
from bot.kit.outbox import dispatch_pending
from handlers.base import queue
from handlers.directory import DirectoryError
from handlers.policy import QuietHours
from handlers.shifts import import_csv
from rituals import schedule
from storage.engine import transaction
from storage.models import Outbox, PersonPrefs, Shift
from tests.conftest import Chat
from tests.support import count, notifications, rows
from tests.test_cli import cli, config_for
from tests.test_rituals import target

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of November 2026 in Shanghai, the demo teams' timezone."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def config(config):
    """The tests' organisation, working 08:00-20:00 with quiet hours on."""
    return config.model_copy(update={"quiet_hours": QuietHours(enabled=True,
                                                               hours="08:00-20:00")})


class Phone:
    """Every channel at once: records who got what, and when."""

    name = "console"

    def __init__(self) -> None:
        self.got: list[tuple[datetime, str, str]] = []
        self.now = at(23, 0)

    def wants(self, notification) -> bool:
        return True

    def deliver(self, notification) -> None:
        who = notification.recipient.handle if notification.recipient else notification.audience
        self.got.append((self.now, who, notification.message.key))

    def turn(self, chat: Chat, moment: datetime) -> list[tuple[str, str]]:
        """One turn of the dispatcher at `moment`: what it sent."""
        self.now, before = moment, len(self.got)
        dispatch_pending(chat.engine, [self], now=lambda: moment, policy=chat.config)
        return [(who, key) for _when, who, key in self.got[before:]]


def roster(chat: Chat, text: str) -> int:
    with transaction(chat.engine) as session:
        return import_csv(session, chat.config, "handle,date,start,end\n" + text)


def test_a_day_on_a_fake_clock_a_night_notification_waits_for_the_shift(chat):
    roster(chat, "alice,2026-11-24,07:00,15:00\n")
    night = at(23, 23)
    chat.ok("wang", "praise @alice She found my lost ring!", now=night)  # to alice, and all
    chat.ok("alice", "comp 350 refund #B9 broken vase", now=night)  # wang decides: urgent
    chat.ok("alice", "login", now=night)  # a sign-in link is urgent too
    phone = Phone()
    assert phone.turn(chat, night) == [("all", "broadcast.praise"),
                                       ("wang", "notify.comp_request"),
                                       ("alice", "notify.login_link")]
    (waiting,) = [row for row in notifications(chat.engine, "alice") if not row.delivered_at]
    assert waiting.message_key == "notify.praise_credited"
    assert waiting.not_before == at(24, 7)  # held in the table, durably
    moment = night
    while moment < at(24, 18):  # every five minutes through the night and the next day
        moment += timedelta(minutes=5)
        phone.turn(chat, moment)
    credited = [(when, key) for when, who, key in phone.got if who == "alice"
                and key == "notify.praise_credited"]
    assert credited == [(at(24, 7), "notify.praise_credited")]  # at 07:00, once
    assert len(phone.got) == 4


def test_approvals_wait_too_when_the_organisation_says_so(chat):
    quiet = chat.config.quiet_hours.model_copy(update={"approvals_urgent": False})
    chat = Chat(chat.engine, chat.config.model_copy(update={"quiet_hours": quiet}))
    chat.ok("alice", "comp 350 refund #B9 broken vase", now=at(23, 23))
    phone = Phone()
    assert phone.turn(chat, at(23, 23)) == []
    assert phone.turn(chat, at(24, 7, 59)) == []
    assert phone.turn(chat, at(24, 8)) == [("wang", "notify.comp_request")]  # wang's hours


def test_without_quiet_hours_everything_goes_at_once(chat):
    chat = Chat(chat.engine, chat.config.model_copy(update={"quiet_hours": QuietHours()}))
    chat.ok("wang", "praise @alice kind words", now=at(23, 23))
    assert len(Phone().turn(chat, at(23, 23))) == 2


@pytest.mark.parametrize("typed", [
    "prefs hours 25:00-26:00", "prefs hours 7-15", "prefs hours", "prefs hours 07:00",
    "prefs hours 07:00-07:00", "prefs hours 07:60-15:00", "prefs hours 7.00-15.00",
    "偏好 时间 24:00-06:00", "prefs hours 07:00-15:00 nights"])
def test_malformed_hours_are_refused_and_change_nothing(chat, typed):
    reply = chat.refused("alice", typed, "error.prefs_hours")
    assert reply.messages[1].key == "usage.prefs"
    assert count(chat.engine, PersonPrefs) == 0


def test_prefs_shows_and_sets_a_persons_hours(chat):
    assert [m.key for m in chat.reply("alice", "prefs").messages] == [
        "prefs.hours_organisation", "prefs.broadcasts_on", "prefs.summary_off"]
    assert "08:00-20:00 (Asia/Shanghai), the organisation's" in chat("alice", "prefs")
    assert chat.ok("alice", "prefs hours 07:00 – 15:00").messages[0].key == "prefs.hours_set"
    assert "07:00-15:00 (Asia/Shanghai), your own" in chat("alice", "prefs")
    chat.ok("bob", "偏好 时间 22：00-6：00")  # overnight, typed on a Chinese keyboard
    assert rows(chat.engine, PersonPrefs, employee_id=3)[0].hours == "22:00-06:00"
    assert chat.ok("alice", "prefs hours off").messages[0].key == "prefs.hours_cleared"
    assert "the organisation's" in chat("alice", "prefs")
    off = Chat(chat.engine, chat.config.model_copy(update={"quiet_hours": QuietHours()}))
    assert [m.key for m in off.reply("alice", "prefs").messages] == [
        "prefs.quiet_off", "prefs.hours_any", "prefs.broadcasts_on", "prefs.summary_off"]


def test_new_hours_move_what_already_waits(chat):
    chat.ok("wang", "praise @alice kind words", now=at(23, 23))
    phone = Phone()
    phone.turn(chat, at(23, 23))
    assert phone.turn(chat, at(24, 6)) == []  # waits for 08:00, the organisation's hours
    chat.ok("alice", "prefs hours 06:00-14:00", now=at(24, 6))
    assert phone.turn(chat, at(24, 6)) == [("alice", "notify.praise_credited")]


def test_overnight_hours_reach_a_night_worker_at_night(chat):
    chat.ok("alice", "prefs hours 22:00-06:00")
    chat.ok("wang", "praise @alice kind words", now=at(23, 12))
    phone = Phone()
    assert phone.turn(chat, at(23, 12)) == [("all", "broadcast.praise")]
    assert phone.turn(chat, at(23, 22)) == [("alice", "notify.praise_credited")]


def _broadcast_to(chat: Chat, handle: str, moment: datetime) -> None:
    """An all-staff post sent to one person (the morning praise at a shift's start)."""
    with transaction(chat.engine) as session:
        person = {"alice": 2, "bob": 3}[handle]
        queue(session, moment, "person", "broadcast.praise", {"who": "Bob Li", "text": "x",
              "recording": "", "ref": "P1", "recording_id": None}, employee_id=person)
        queue(session, moment, "all", "broadcast.praise", {"who": "Bob Li", "text": "x",
              "recording": "", "ref": "P1", "recording_id": None})


def test_muted_broadcasts_are_not_sent_to_the_person_but_stay_in_shared_chats(chat):
    assert chat.ok("alice", "prefs broadcasts off").messages[0].key == "prefs.muted"
    assert "muted" in chat("alice", "prefs")
    noon = at(23, 12)
    _broadcast_to(chat, "alice", noon)
    _broadcast_to(chat, "bob", noon)
    phone = Phone()
    assert phone.turn(chat, noon) == [("all", "broadcast.praise"), ("bob", "broadcast.praise"),
                                      ("all", "broadcast.praise")]
    assert all(row.delivered_at for row in rows(chat.engine, Outbox))  # done, not sent
    assert chat.ok("alice", "偏好 广播 开").messages[0].key == "prefs.unmuted"
    _broadcast_to(chat, "alice", noon)
    assert ("alice", "broadcast.praise") in phone.turn(chat, noon)
    chat.refused("alice", "prefs broadcasts maybe", "usage.prefs")


def test_a_roster_with_bad_rows_imports_nothing_and_lists_each_bad_line(chat):
    bad = ("alice,2026-11-24,07:00,15:00\n"
           "nobody,2026-11-24,07:00,15:00\n"
           "bob,2026-13-01,07:00,15:00\n"
           "bob,2026-11-24,25:00,15:00\n"
           "bob,2026-11-25,7,15\n"
           "lilei,2026-11-24,09:00,09:00\n"
           "alice,2026-11-24,07:00,16:00\n")
    with pytest.raises(DirectoryError) as refused:
        roster(chat, bad)
    assert [problem.split(":")[0] for problem in refused.value.problems] == [
        "line 3", "line 4", "line 5", "line 6", "line 7", "line 8"]
    assert "nobody active called 'nobody'" in refused.value.problems[0]
    assert count(chat.engine, Shift) == 0
    with pytest.raises(DirectoryError, match="line 1: the columns"), \
            transaction(chat.engine) as session:
        import_csv(session, chat.config, "who,when\nalice,2026-11-24\n")


def test_a_good_roster_changes_the_next_delivery_time(chat):
    chat.ok("wang", "praise @alice kind words", now=at(23, 23))
    phone = Phone()
    phone.turn(chat, at(23, 23))
    (waiting,) = [row for row in notifications(chat.engine, "alice") if not row.delivered_at]
    assert waiting.not_before == at(24, 8)
    assert roster(chat, "@alice,2026-11-24,06:00,14:00\nbob,2026-11-24,22:00,06:00\n") == 2
    assert phone.turn(chat, at(24, 5, 59)) == []
    assert phone.turn(chat, at(24, 6)) == [("alice", "notify.praise_credited")]
    night = rows(chat.engine, Shift, employee_id=3)[0]
    assert (night.starts_at, night.ends_at) == (at(24, 22), at(25, 6))  # past midnight
    assert roster(chat, "alice,2026-11-24,10:00,18:00\n") == 1  # the day's shift replaced
    assert len(rows(chat.engine, Shift, employee_id=2)) == 1
    assert "2026-11-24 10:00 to 2026-11-24 18:00" in chat("alice", "prefs", now=at(24, 9))


@pytest.mark.parametrize("hours", ["08:00-08:00", "8-20", "08:00-24:00", ""])
def test_malformed_configured_hours_are_refused(hours):
    with pytest.raises(ConfigError, match="quiet_hours"):
        parse_config({"quiet_hours": {"hours": hours}})
    with pytest.raises(ConfigError, match="quiet_hours"):
        parse_config({"quiet_hours": {"teams": {"Harbour Street Store": hours}}})


def test_the_command_imports_a_roster_or_lists_its_bad_lines(tmp_path, migrated_url):
    frontline = cli(config_for(tmp_path, migrated_url))
    (tmp_path / "staff.csv").write_text(DEMO_STAFF, encoding="utf-8")
    assert frontline("directory", "import", str(tmp_path / "staff.csv")).returncode == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("handle,date,start,end\nalice,2026-11-24,07:00,15:00\nbob,24/11,7,15\n",
                   encoding="utf-8")
    result = frontline("directory", "shifts", str(bad))
    assert result.returncode != 0 and "nothing imported" in result.stderr
    assert "line 3: date '24/11'" in result.stderr and "line 2" not in result.stderr
    good = tmp_path / "good.csv"
    good.write_text("handle,date,start,end\nalice,2026-11-24,07:00,15:00\n", encoding="utf-8")
    result = frontline("directory", "shifts", str(good))
    assert result.returncode == 0 and result.stdout.strip() == "1 shifts imported"


def test_the_morning_praise_reaches_a_shift_worker_as_the_shift_starts(chat):
    chat.ok("wang", "praise @bob kind words", now=at(23, 10))
    roster(chat, "alice,2026-11-24,14:00,22:00\nlilei,2026-11-25,07:00,15:00\n"
                 "wang,2026-11-24,07:00,15:00\n")
    chat.ok("wang", "prefs broadcasts off")
    phone = Phone()
    phone.turn(chat, at(23, 10))
    fired = at(24, 9)
    assert schedule.run_once(chat.engine, chat.config, target(chat, "morning_praise"), fired,
                             fired) == "P1"
    assert phone.turn(chat, fired) == [("team", "ritual.morning_praise")]  # wang muted it
    assert phone.turn(chat, at(24, 13, 59)) == []
    assert phone.turn(chat, at(24, 14)) == [("alice", "ritual.morning_praise")]
    assert phone.turn(chat, at(25, 9)) == []  # lilei's shift is tomorrow: the post was today's
