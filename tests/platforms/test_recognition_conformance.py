"""Recognition people ask for, proven on each platform through its driver: team praise
naming colleagues picked from the platform's @ list, thanks told in each reader's
language, HR's corrections told to the person, a leaver refused while what waited for
them moves on, and quiet hours with muted posts kept by the dispatcher."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers import shifts
from handlers.policy import QuietHours
from rituals import schedule
from storage.engine import transaction
from storage.models import Compensation, Outbox, Thanks
from tests.platforms.test_conformance import said
from tests.support import balance, count, employee, rows

pytestmark = pytest.mark.http

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the demo store's timezone


def news(chat, handle: str, before: int) -> str:
    """What `handle` was shown after their first `before` answers."""
    return "\n".join(chat.answers(handle)[before:])


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)


def test_team_praise_credits_each_colleague_picked_and_all_staff_hear_of_it(chat):
    logged = chat.say("wang", "praise {@alice} {@bob} They found my lost ring together")
    assert "P1, P2" in logged and "Alice Chen, Bob Li" in logged  # in wang's Chinese
    assert [balance(chat.engine, handle) for handle in ("alice", "bob")] == [10, 10]
    chat.dispatch_all()
    (post,) = [post for post in chat.shared_posts() if "They found my lost ring" in post]
    assert "Alice Chen, Bob Li" in post  # one post naming both
    assert any("P1" in answer and "+10" in answer for answer in chat.answers("alice"))
    assert any("P2" in answer and "+10" in answer for answer in chat.answers("bob"))
    board = chat.say("lilei", "排行榜")  # the team's board, in lilei's Chinese
    assert "Alice Chen —— 10 分" in board and "Bob Li —— 10 分" in board


def test_thanks_reach_each_colleague_in_their_language_and_nobody_thanks_themselves(chat):
    sent = chat.say("alice", "thanks {@lilei} for covering my shift")
    assert said("thanks.sent", who="李雷 Li Lei") in sent
    public = chat.say("lilei", "感謝 {@bob} 幫我頂班 #團隊")  # typed in Traditional
    assert said("thanks.sent_team", "zh", who="Bob Li") in public  # answered as she reads
    assert said("refuse.self_thanks", "zh") in chat.say("lilei", "感谢 {@lilei} 我自己")
    assert count(chat.engine, Thanks) == 2
    chat.dispatch_all()
    assert said("notify.thanks", "zh", who="Alice Chen", why="for covering my shift") in \
        chat.answers("lilei")
    assert said("notify.thanks", who="李雷 Li Lei", why="幫我頂班") in chat.answers("bob")
    (team_post,) = rows(chat.engine, Outbox, audience="team")
    assert team_post.team_id == employee(chat.engine, "bob").team_id


def test_hr_corrects_a_balance_the_person_is_told_and_cites_the_entry(chat):
    chat.say("wang", "praise {@lilei} 耐心又细心")  # E1: +10
    adjusted = chat.say("hana", "adjust {@lilei} -4 double-counted letter")
    assert said("correction.adjusted", who="李雷 Li Lei", amount="-4", balance=6) in adjusted
    chat.dispatch_all()
    told = said("notify.points_corrected", "zh", by="Hana Xu", amount="-4",
                reason="double-counted letter", balance=6)
    assert told in chat.answers("lilei")
    ledger = chat.say("lilei", "流水")
    assert "E2" in ledger and "-4" in ledger  # the correction, by the reference HR takes
    refused = chat.say("hana", "revoke E1 not hers")  # +10 cannot come off a balance of 6
    assert said("refuse.correction_balance", who="李雷 Li Lei", balance=6) in refused
    assert balance(chat.engine, "lilei") == 6
    revoked = chat.say("hana", "revoke E2 counted once after all")
    assert said("correction.revoked", ref="E2", who="李雷 Li Lei", amount="+4",
                balance=10) in revoked
    assert balance(chat.engine, "lilei") == 10


def test_a_leaver_is_refused_and_what_waited_for_them_is_decided_by_another(chat):
    assert "C1" in chat.say("alice", "comp 500 refund #A7 broken on arrival")  # for wang
    chat.dispatch_all()
    left = chat.say("hana", "leaver {@wang} moving abroad")
    assert "王芳 Wang Fang is marked as left. Requests moved to others: 1" in left
    assert said("refuse.left", "zh") in chat.say("wang", "我")
    before = len(chat.answers("hana"))
    chat.dispatch_all()
    assert "C1 is yours to handle now" in news(chat, "hana", before)
    before = len(chat.answers("hana"))
    chat.press("hana", "approve C1")
    assert "C1" in chat.answered("hana", before)
    assert rows(chat.engine, Compensation)[0].status == "approved"


def test_quiet_hours_hold_what_can_wait_and_a_muted_post_stays_away(chat):
    quiet = chat.config.model_copy(update={"quiet_hours": QuietHours(enabled=True,
                                                                     hours="08:00-20:00")})
    day = (datetime.now(SHANGHAI) + timedelta(days=2)).date()  # every moment ahead
    with transaction(chat.engine) as session:
        shifts.import_csv(session, quiet, "handle,date,start,end\n"
                          f"alice,{day},14:00,22:00\nbob,{day},14:00,22:00\n")
    assert said("prefs.muted") in chat.say("bob", "prefs broadcasts off")
    chat.say("wang", "praise {@alice} She found my lost ring")
    chat.say("alice", "comp 500 refund #A7 broken on arrival")
    alice, bob = len(chat.answers("alice")), len(chat.answers("bob"))

    chat.dispatch_at(at(day - timedelta(days=1), 23), quiet)
    assert any("C1" in answer for answer in chat.answers("wang"))  # a decision: at once
    morning = at(day, 9)
    (praise_post,) = [target for target in schedule.targets(chat.engine, quiet,
                                                            ["morning_praise"])
                      if target.team_name == "Harbour Street Store"]
    assert schedule.run_once(chat.engine, quiet, praise_post, morning, morning) == "P1"
    chat.dispatch_at(morning, quiet)
    chat.dispatch_at(at(day, 13, 59), quiet)
    assert news(chat, "alice", alice) == ""  # her shift has not begun

    chat.dispatch_at(at(day, 14), quiet)
    shown = news(chat, "alice", alice)
    assert "P1" in shown and "Good morning!" in shown and "She found my lost ring" in shown
    assert news(chat, "bob", bob) == ""  # his copy of the morning post: muted
    copies = rows(chat.engine, Outbox, employee_id=employee(chat.engine, "bob").id)
    assert [row.delivered_at is not None for row in copies] == [True]
