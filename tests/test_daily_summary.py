"""The daily summary (`prefs summary on`): customer voice and the praise posts sent to a
person personally are not sent one by one but in one message at the start of their
working time, in their language, once however many workers run it; nothing when nothing
arrived; urgent things never wait for it; `off` brings live delivery back. Both stores."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from handlers.base import Message
from handlers.i18n import render_message, render_reply
from handlers.policy import QuietHours
from rituals import daily_summary, schedule
from storage.engine import transaction
from storage.models import Outbox, SummaryItem
from tests.conftest import Chat
from tests.support import count, notifications
from tests.test_quiet_hours import at, roster
from tests.test_recovery_cases import imported
from tests.test_rituals import target

TEAM = "Harbour Street Store"
LIVE = ("notify.customer_voice", "notify.customer_voice_score", "notify.praise_credited",
        "ritual.morning_praise", "ritual.morning_replay")
SUMMARIES = ("summary.daily", "summary.daily_voice", "summary.daily_posts")


@pytest.fixture
def config(config):
    """The tests' organisation, working 08:00-20:00 with quiet hours on."""
    return config.model_copy(update={"quiet_hours": QuietHours(enabled=True,
                                                               hours="08:00-20:00")})


def keys(chat: Chat, handle: str, among=LIVE + SUMMARIES) -> list[str]:
    return [n.message_key for n in notifications(chat.engine, handle) if n.message_key in among]


def summaries(chat: Chat, handle: str) -> list[Outbox]:
    return [n for n in notifications(chat.engine, handle) if n.message_key in SUMMARIES]


def sweep(chat: Chat, moment: datetime) -> int:
    with transaction(chat.engine) as session:
        return daily_summary.send_due(session, chat.config, moment)


def drive(chat: Chat, start: datetime, end: datetime) -> None:
    """The reminders' round every five minutes from `start` to `end`."""
    moment = start
    while moment <= end:
        sweep(chat, moment)
        moment += timedelta(minutes=5)


def test_one_summary_at_the_shift_start_carries_voice_and_praise_posts_in_chinese(chat):
    chat.ok("alice", "lang zh")
    assert chat.ok("alice", "偏好 汇总 开").messages[0].key == "prefs.summary_chosen"
    assert chat.ok("bob", "prefs summary on").ok  # nothing will arrive for bob
    chat.ok("wang", "praise @alice She found my lost ring!", now=at(23, 12))
    imported(chat, f"nps,{TEAM},alice,10,Lovely! Text me on 138 1234 5678,CUST1,till,s,r1,",
             f"csat,{TEAM},alice,5,,,,s,r2,", now=at(23, 12))
    assert keys(chat, "alice") == []  # nothing live
    assert count(chat.engine, SummaryItem) == 3
    roster(chat, "alice,2026-11-24,14:00,22:00\n")
    fired = at(24, 9)
    assert schedule.run_once(chat.engine, chat.config, target(chat, "morning_praise"), fired,
                             fired) == "P1"
    assert keys(chat, "alice") == []  # her copy of the post waits for the summary too
    drive(chat, at(23, 12), at(25, 13))
    [sent] = summaries(chat, "alice")
    assert sent.created_at == at(24, 14)  # as her shift starts, once
    shown = render_message(Message(sent.message_key, sent.params), "zh")
    assert shown.startswith("📋 你的每日汇总\n顾客的声音（3）：\n")
    assert "• P1 +10 “She found my lost ring!”" in shown
    assert "• NPS 10 “Lovely! Text me on *** **** **78”" in shown  # masked as live
    assert "• CSAT 5/5" in shown
    assert "表扬帖（1）：\n• P1 Alice Chen: “She found my lost ring!”" in shown
    assert summaries(chat, "bob") == []  # nothing arrived, nothing sent
    assert count(chat.engine, SummaryItem) == 0


def test_traditional_readers_get_theirs_at_their_own_hours_and_never_twice(chat):
    chat.ok("alice", "lang zh-Hant")
    chat.ok("alice", "偏好 時間 07:00-15:00")
    chat.ok("alice", "偏好 彙總 開")
    assert "每日彙總：開啟" in render_reply(chat.reply("alice", "prefs"), "zh-Hant")
    imported(chat, f"csat,{TEAM},alice,5,,,,s,r1,", now=at(23, 16))
    drive(chat, at(23, 16), at(24, 12))
    [sent] = summaries(chat, "alice")
    assert sent.created_at == at(24, 7)
    assert render_message(Message(sent.message_key, sent.params), "zh-Hant") == \
        "📋 你的每日彙總\n顧客的聲音（1）：\n• CSAT 5/5"
    imported(chat, f"csat,{TEAM},alice,5,again,,,s,r2,", now=at(24, 12))
    assert sweep(chat, at(24, 13)) == 0  # today's went: this one waits for tomorrow
    with ThreadPoolExecutor(2) as workers:  # two workers at tomorrow's start
        assert sum(workers.map(lambda _: sweep(chat, at(25, 7)), range(2))) == 1
    assert len(summaries(chat, "alice")) == 2
    assert sweep(chat, at(25, 7, 5)) == 0


def test_off_again_sends_what_waited_and_brings_live_delivery_back(chat):
    chat = Chat(chat.engine, chat.config.model_copy(update={"quiet_hours": QuietHours()}))
    chat.ok("alice", "prefs summary on")
    imported(chat, f"nps,{TEAM},alice,9,kind,,,s,r1,", now=at(23, 6))
    assert sweep(chat, at(23, 8, 55)) == 0  # no hours anywhere: the morning's 09:00
    assert sweep(chat, at(23, 9)) == 1
    imported(chat, f"nps,{TEAM},alice,10,again,,,s,r2,", now=at(23, 10))
    assert chat.ok("alice", "prefs summary off").messages[0].key == "prefs.summary_stopped"
    assert keys(chat, "alice") == ["summary.daily_voice", "summary.daily_voice"]
    imported(chat, f"nps,{TEAM},alice,10,live,,,s,r3,", now=at(23, 11))
    assert keys(chat, "alice")[-1] == "notify.customer_voice"
    assert "Daily summary: off" in chat("alice", "prefs")
    chat.refused("alice", "prefs summary maybe", "usage.prefs")


def test_urgent_things_and_answers_to_ones_own_request_never_wait(chat):
    chat.ok("wang", "prefs summary on")
    chat.ok("alice", "prefs summary on")
    chat.ok("alice", "comp 350 refund #B9 broken vase")
    assert "notify.comp_request" in keys(chat, "wang", among=("notify.comp_request",))
    chat.ok("alice", "praise A customer thanked me", now=datetime(2026, 11, 23, 3, tzinfo=UTC))
    chat.ok("wang", "approve P1")
    assert keys(chat, "alice") == ["notify.praise_credited"]  # the answer to her request
