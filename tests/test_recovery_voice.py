"""Live customer voice: a good score naming someone is told to them as it arrives, their
words masked, once whatever is imported again; praise keeps its +10 and is quoted masked.
Recovery yield: the same customer's later praise or better score is a line of their
case's history, told to its holder and counted. Both stores."""

from datetime import timedelta

from bot.kit.config import DEMO_CATALOG, parse_config
from handlers import praise
from handlers.base import Message
from handlers.i18n import render_message
from handlers.recovery.voice import came_back
from rituals import schedule
from storage.engine import transaction
from storage.models import Employee, Outbox
from tests.support import balance, employee, notifications, rows
from tests.test_recovery_cases import DETRACTOR, imported, keys
from tests.test_rituals import local, target, team_posts

TEAM = "Harbour Street Store"
PROMOTER = f"nps,{TEAM},alice,10,Lovely! Text me on 138 1234 5678,CUST1,till,surveyhub,r2,"


def told(chat, handle: str, key: str) -> list[Outbox]:
    return [n for n in notifications(chat.engine, handle) if n.message_key == key]


def shown(row: Outbox, locale: str = "en") -> str:
    return render_message(Message(row.message_key, row.params), locale)


def test_a_good_score_reaches_the_person_named_masked_and_once(chat):
    imported(chat, PROMOTER)
    [voice] = told(chat, "alice", "notify.customer_voice")
    assert shown(voice) == "🌟 A customer gave you NPS 10: “Lovely! Text me on *** **** **78”"
    assert "有顧客給了你 NPS 10" in shown(voice, "zh-Hant")
    assert imported(chat, PROMOTER).duplicates == 1  # a re-import tells nobody again
    assert len(told(chat, "alice", "notify.customer_voice")) == 1
    imported(chat, f"csat,{TEAM},bob,5,,,,t,1,", f"ces,{TEAM},bob,2,,,,t,2,",
             f"csat,{TEAM},bob,4,fine,,,t,3,", f"ces,{TEAM},bob,3,,,,t,4,",
             f"nps,{TEAM},,10,nobody named,,,t,5,")
    assert [shown(n) for n in told(chat, "bob", "notify.customer_voice_score")] == [
        "🌟 A customer gave you CSAT 5/5 — well done!",
        "🌟 A customer gave you CES 2/7 — well done!"]
    assert told(chat, "bob", "notify.customer_voice") == []
    assert balance(chat.engine, "alice") == balance(chat.engine, "bob") == 0  # no points


def test_the_thresholds_are_settings_and_the_live_voice_may_be_off(chat):
    strict = parse_config({"catalog": DEMO_CATALOG, "recovery": {"good_nps_at_least": 10}})
    imported(chat, f"nps,{TEAM},bob,9,good,,,t,1,", f"nps,{TEAM},bob,10,great,,,t,2,",
             config=strict)
    assert [n.params["what"] for n in told(chat, "bob", "notify.customer_voice")] == ["NPS 10"]
    quiet = parse_config({"catalog": DEMO_CATALOG, "recovery": {"live_voice": False}})
    imported(chat, f"nps,{TEAM},bob,10,again,,,t,3,", config=quiet)
    assert len(told(chat, "bob", "notify.customer_voice")) == 1


def test_praise_pushed_keeps_its_ten_points_and_quotes_the_words_masked(chat):
    with transaction(chat.engine) as session:
        bob = session.get(Employee, employee(chat.engine, "bob").id)
        praise.receive(session, chat.config, chat.now, bob, "Bob rang me back on 13812345678",
                       "", "webhook:surveyhub")
    assert balance(chat.engine, "bob") == 10
    [credited] = told(chat, "bob", "notify.praise_credited")
    assert credited.params["text"] == "Bob rang me back on *********78"
    assert "13812345678" not in str([n.params for n in rows(chat.engine, Outbox)])


def test_the_same_customers_later_good_word_is_credited_to_their_case(chat):
    imported(chat, DETRACTOR)  # K1: NPS 3 from CUST1, received 2026-11-23 01:00
    later = chat.now + timedelta(days=2)
    imported(chat, f"csat,{TEAM},bob,3,meh,cust1,,t,a1,",  # another kind, not good: no
             f"nps,{TEAM},bob,10,old news,CUST1,,t,a2,2026-11-20T00:00:00Z",  # before it
             f"nps,{TEAM},bob,7,better,CUST1,,t,a3,", now=later)  # better than 3: yes
    history = chat("alice", "history K1")
    assert history.count("the customer came back") == 1
    assert "the customer came back: F4 NPS 7" in history
    with transaction(chat.engine) as session:
        bob = session.get(Employee, employee(chat.engine, "bob").id)
        praise.receive(session, chat.config, later, bob, "Thank you, mail me at li@x.com",
                       "", "webhook:surveyhub", customer_ref="cust1")
    shown_case = chat("alice", "recover K1")
    assert "the customer came back: P1 “Thank you, mail me at l***@x***.com”" in shown_case
    [first, second] = told(chat, "alice", "notify.recovery_yield")  # its holder is told
    assert shown(first) == "💚 K1: customer CUST1 came back — F4 NPS 7"
    assert "回头了" in shown(second, "zh")
    imported(chat, f"nps,{TEAM},bob,7,better,CUST1,,t,a3,", now=later)  # again: nothing
    assert chat("alice", "history K1").count("the customer came back") == 2
    team_id = employee(chat.engine, "alice").team_id
    with transaction(chat.engine) as session:  # counted once per case, in its window
        assert came_back(session, team_id, chat.now, later + timedelta(seconds=1)) == 1
        assert came_back(session, team_id, chat.now, later) == 0
    assert "notify.customer_voice" not in keys(chat, "alice")


def test_the_weekly_digest_counts_the_teams_cases_in_its_readers_languages(chat):
    day = timedelta(days=1)
    imported(chat, f"complaint,{TEAM},,,long queue,C0,,t,k0,", now=chat.now - 3 * day)
    imported(chat, DETRACTOR)  # K2, alice: called back in time, recovered, came back
    chat.ok("alice", "recover K2 reached sorry", now=chat.now + timedelta(hours=1))
    chat.ok("alice", "recover K2 close recovered", now=chat.now + timedelta(hours=2))
    imported(chat, f"nps,{TEAM},bob,10,,CUST1,,t,k2,", now=chat.now + 3 * day)
    imported(chat, f"complaint,{TEAM},bob,,rude,C3,,t,k3,", now=chat.now + 2 * day)  # K3
    imported(chat, f"nps,{TEAM},lilei,2,,C4,,t,k4,", now=chat.now + 4 * day)  # K4: late
    chat.ok("lilei", "recover K4 reached", now=chat.now + 5 * day + timedelta(hours=1))
    monday = local(2026, 11, 30, 9)
    schedule.run_once(chat.engine, chat.config, target(chat, "weekly_digest"), monday, monday)
    [post] = team_posts(chat.engine, "ritual.weekly_recovery")  # Head Office: no cases
    assert {k: post.params[k] for k in ("opened", "in_time", "recovered", "came_back",
                                        "overdue")} == {
        "opened": 3, "in_time": 1, "recovered": 1, "came_back": 1, "overdue": 2}
    assert shown(post) == (
        "🤝 Harbour Street Store, unhappy customers last week — cases opened: 3, called back "
        "in time: 1; recovered: 1; customers who came back: 1; open past their call-back "
        "deadline: 2.")
    assert "新开挽回个案 3 个" in shown(post, "zh")
    assert "新開挽回個案 3 個" in shown(post, "zh-Hant")
