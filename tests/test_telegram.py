"""The Telegram adapter over real HTTP on 127.0.0.1: python-telegram-bot's own
Application pointed (base_url, base_file_url) at a local fake Bot API; updates
arrive through the webhook route of the bot's web app, or by long polling."""

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update as sa_update

from bot.app.web import create_app
from bot.kit import shared_state
from bot.kit.config import parse_config
from bot.kit.work_pool import WorkPool
from bot.platforms.telegram.adapter import TelegramAdapter
from handlers import linking
from storage.engine import transaction
from storage.models import (
    ChatIdentity,
    ChatPost,
    Compensation,
    FormState,
    InboxItem,
    Outbox,
    Praise,
    Recording,
    TouchingMark,
    Waiver,
)
from tests.fake_telegram import TOKEN, FakeTelegram, bad_menu
from tests.http_servers import serve
from tests.platforms.telegram import (
    GROUP,
    SECRET,
    STRANGER,
    USERS,
    Telegram,
    bot_message,
    running,
    settings,
)
from tests.support import count, employee, has_room, rows, wait_until

pytestmark = pytest.mark.http

@pytest.fixture
def fake():
    return FakeTelegram()


@pytest.fixture
def tg(org, fake, request):
    """The adapter behind its webhook; settings overridden by an indirect parameter."""
    with running(org, fake, **getattr(request, "param", {})) as tg:
        yield tg


COMMAND_PATHS = [
    ("alice", "/help", "Frontline commands"),
    ("alice", "/help comp", "Usage: comp"),
    ("alice", "/me", "Alice Chen"),
    ("alice", "/comp 120 voucher #A1 parcel two days late", "C1"),
    ("alice", "/waiver no refund without receipt", "W1"),
    ("alice", "/waiver report W1 refunded anyway / regular customer #A9", "W1"),
    ("alice", "/waivers", "W1"),
    ("wang", "/praise@frontline_bot @alice She remembered my name", "P1"),
    ("bob", "/touching P1", "P1"),
    ("alice", "/suggest Put a bench by the door", "S1"),
    ("wang", "/solved @bob The queue at checkout", "M1"),
    ("wang", "/pending", ""),
    ("alice", "/nominate @bob heard the bench idea", "Bob Li"),
    ("alice", "/vote @bob", "Bob Li"),
    ("alice", "/goldenear", "Bob Li"),
    ("alice", "/catalog", "leave"),
    ("alice", "/redeem coffee", "R1"),
    ("alice", "/cancel R1", "R1"),
    ("alice", "/ledger", "praise"),
    ("alice", "/lang zh", "中文"),
    ("alice", "我", "Alice Chen"),
    ("alice", "/link ABCDEF", "已关联"),
]


def test_every_command_path_answers_in_the_private_chat(tg):
    for handle, text, expected in COMMAND_PATHS:
        answer = tg.say(handle, text)
        assert expected in answer, (text, answer)
        assert "did not understand" not in answer and "没看懂" not in answer, (text, answer)
    assert count(tg.engine, Compensation) == 1 and count(tg.engine, Praise) == 1


def test_the_menu_is_registered_in_both_languages_for_private_chats_and_groups(tg):
    menus = tg.fake.sent("setMyCommands")
    assert len(menus) == 4
    languages = {(m.get("language_code"), m["scope"]["type"]) for m in menus}
    assert languages == {(None, "all_private_chats"), (None, "all_group_chats"),
                         ("zh", "all_private_chats"), ("zh", "all_group_chats")}
    zh = next(m for m in menus if m.get("language_code") == "zh")
    assert {"command": "comp", "description": "登记给客户的补偿"} in zh["commands"]
    assert tg.fake.sent("setWebhook")[0]["secret_token"] == SECRET


def test_a_traditional_reader_gets_a_traditional_menu_in_their_own_chat(tg):
    """Telegram tells menus apart by a two-letter code, so `zh` is Simplified; a person
    who reads Traditional gets their private chat's own menu, now and at every start."""
    tg.say("alice", "/lang zh-Hant")
    (menu,) = [m for m in tg.fake.sent("setMyCommands") if m["scope"]["type"] == "chat"]
    assert int(menu["scope"]["chat_id"]) == USERS["alice"] and "language_code" not in menu
    assert {"command": "comp", "description": "登記給客戶的補償"} in menu["commands"]
    asyncio.run_coroutine_threadsafe(tg.adapter._register_commands(), tg.adapter.loop).result(10)
    again = [m for m in tg.fake.sent("setMyCommands") if m["scope"]["type"] == "chat"]
    assert len(again) == 2 and again[1] == menu


def test_the_fake_refuses_the_menus_telegram_refuses():
    good = {"command": "comp", "description": "Log goodwill"}
    assert bad_menu({"commands": [good], "language_code": "zh"}) is None
    for wrong in ({"commands": [{**good, "command": "Comp"}]},
                  {"commands": [{**good, "description": "x" * 257}]},
                  {"commands": [good] * 101}, {"commands": [good], "language_code": "zh-hant"},
                  {"commands": [good], "scope": {"type": "chat"}}):
        assert bad_menu(wrong), wrong


def test_in_groups_only_commands_for_this_bot_are_answered(tg):
    tg.say("alice", "hello everyone, busy day", chat=GROUP, replies=0)
    tg.say("alice", "/me@some_other_bot", chat=GROUP, replies=0)
    answer = tg.say("alice", "/me@frontline_bot", chat=GROUP)
    assert "Alice Chen" in answer
    assert len(tg.fake.texts_to(GROUP)) == 1  # the chatter and the other bot's command got none


def test_unknown_user_is_told_and_can_link_with_a_one_time_code(tg):
    assert "not registered" in tg.say(STRANGER, "/me")
    with transaction(tg.engine) as session:
        code = linking.issue_code(session, employee(tg.engine, "bob"), "link:telegram",
                                  datetime.now(UTC), timedelta(hours=1))
    assert "linked to you" in tg.say(STRANGER, f"/start {code}")  # the t.me deep link
    assert "Bob Li" in tg.say(STRANGER, "/me")
    assert "invalid, used or expired" not in tg.say(STRANGER, "/me")
    assert "already linked" in tg.say(STRANGER, f"/link {code}")
    assert "unknown, used or expired" in tg.say(3131, f"/link {code}")  # single use
    assert rows(tg.engine, ChatIdentity, platform_user_id=str(STRANGER))[0].employee_id == \
        employee(tg.engine, "bob").id
    # Bob's old account was replaced, not kept beside the new one.
    assert count(tg.engine, ChatIdentity, employee_id=employee(tg.engine, "bob").id) == 1


def test_approval_buttons_right_user_wrong_user_and_a_second_press(tg):
    assert "C1" in tg.say("alice", "/comp 500 refund #A7 broken on arrival")
    assert tg.dispatch() >= 1
    card = next(m for m in tg.fake.sent() if int(m["chat_id"]) == USERS["wang"])
    buttons = card["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == ["approve C1", "decline C1", "ask C1"]
    assert "500" in card["text"] and "A7" in card["text"]

    wrong = tg.press("bob", "approve C1", bot_message(card))
    assert wrong["show_alert"] in (True, "true") and "approver" in wrong["text"]
    assert rows(tg.engine, Compensation)[0].status == "pending"
    assert tg.fake.sent("editMessageText") == []

    right = tg.press("wang", "approve C1", bot_message(card))
    assert right.get("show_alert") in (None, False, "false")
    edited = tg.fake.wait_for_calls("editMessageText", 1)[0]
    assert "王芳 Wang Fang" in edited["text"] and "C1" in edited["text"]
    assert "reply_markup" not in edited or edited["reply_markup"] in ("", None)
    assert rows(tg.engine, Compensation)[0].status == "approved"

    again = tg.press("wang", "approve C1", bot_message(card))
    assert again["show_alert"] in (True, "true")
    assert len(tg.fake.sent("editMessageText")) == 1
    assert rows(tg.engine, Compensation)[0].status == "approved"


def test_ask_for_more_from_the_card_and_the_answer_comes_back_with_the_buttons(tg):
    tg.say("alice", "/comp 500 refund #A7 broken on arrival")
    tg.dispatch()
    card = next(m for m in tg.fake.sent() if int(m["chat_id"]) == USERS["wang"])
    asked = tg.press("wang", "ask C1", bot_message(card))
    assert asked.get("show_alert") in (None, False, "false") and "C1" in asked["text"]
    assert tg.fake.sent("editMessageText") == []  # the card stays: it is still open
    tg.dispatch()
    question = [m for m in tg.fake.sent() if int(m["chat_id"]) == USERS["alice"]][-1]
    assert "needs more information about your C1" in question["text"]
    assert "C1" in tg.say("alice", "/answer C1 order 7788, the vase was inside")
    tg.dispatch()
    back = [m for m in tg.fake.sent() if int(m["chat_id"]) == USERS["wang"]][-1]
    assert "order 7788" in back["text"]
    assert [b["callback_data"] for b in back["reply_markup"]["inline_keyboard"][0]] == [
        "approve C1", "decline C1", "ask C1"]
    assert rows(tg.engine, Compensation)[0].status == "pending"


def test_compensation_form_step_by_step_with_a_wrong_answer(tg):
    assert "How much" in tg.say("alice", "/comp")
    assert "positive number" in tg.say("alice", "a lot")  # asked again, with the reason
    assert "What kind" in tg.say("alice", "80")
    assert "customer reference" in tg.say("alice", "voucher")
    assert "Why" in tg.say("alice", "-")
    answer = tg.say("alice", "cake arrived squashed")
    assert "C1" in answer
    logged = rows(tg.engine, Compensation)[0]
    assert (logged.amount_minor, logged.kind, logged.reason) == (8000, "voucher",
                                                                 "cake arrived squashed")


def test_waiver_report_form_in_chinese(tg):
    tg.say("lilei", "豁免 无小票不退款")
    assert "要报备哪条豁免" in tg.say("lilei", "豁免 报备")
    tg.say("lilei", "W1")
    tg.say("lilei", "给客户退了款")
    tg.say("lilei", "老客户，小票丢了")
    tg.say("lilei", "#B22")
    assert "W1" in tg.say("lilei", "30")
    waiver = rows(tg.engine, Waiver)[0]
    assert waiver.status == "reported" and waiver.customer_ref == "B22"


def test_form_cancel_and_timeout_log_nothing(tg):
    tg.say("alice", "/comp")
    assert "nothing was logged" in tg.say("alice", "/cancel")
    tg.say("alice", "/comp")
    tg.say("alice", "45")
    with transaction(tg.engine) as session:  # its ten minutes are over
        session.execute(sa_update(FormState).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    before = len(tg.fake.texts_to(USERS["alice"]))
    asyncio.run_coroutine_threadsafe(tg.adapter.end_timed_out_forms(),
                                     tg.adapter.loop).result(10)  # as the next sweep does
    assert "nothing was logged" in tg.replies(USERS["alice"], before)
    assert "did not understand" in tg.say("alice", "voucher")  # the form is gone
    assert count(tg.engine, Compensation) == 0


def back_off_over(tg) -> None:
    """End the stored updates' back-off and sweep, as the sweeper would soon."""
    with transaction(tg.engine) as session:
        session.execute(sa_update(InboxItem).values(
            claimed_until=datetime.now(UTC) - timedelta(seconds=1)))
    tg.adapter.inbox.sweep()


def form_answers(tg) -> dict:
    return rows(tg.engine, FormState)[0].answers


def test_a_form_answer_run_again_by_the_inbox_is_kept_once(tg):
    tg.say("alice", "/waiver no refund without receipt")
    tg.say("alice", "/waiver report")
    tg.say("alice", "W1")
    tg.fake.fail("sendMessage", status=500)  # the answer is kept, the next question lost
    update = tg.update(message=tg.text(USERS["alice"], "refunded anyway"))
    assert tg.post(update).status_code == 200
    key = f"telegram:update:{update['update_id']}"
    tg.fake.wait_for(lambda: rows(tg.engine, InboxItem, key=key)[0].last_error,
                     what="the failure")
    kept = {"waiver": "W1", "done_instead": "refunded anyway"}
    assert form_answers(tg) == kept
    before = len(tg.fake.texts_to(USERS["alice"]))
    back_off_over(tg)
    assert "Why" in tg.replies(USERS["alice"], before)  # not taken as the answer to it
    tg.fake.wait_for(lambda: rows(tg.engine, InboxItem, key=key)[0].done_at, what="done")
    assert form_answers(tg) == kept
    # the same words sent again are a new update: the answer to the next question
    assert "customer reference" in tg.say("alice", "refunded anyway")
    assert form_answers(tg) == {**kept, "why": "refunded anyway"}
    tg.say("alice", "-")
    assert "W1" in tg.say("alice", "30")
    waiver = rows(tg.engine, Waiver)[0]
    assert waiver.status == "reported"
    assert (waiver.done_instead, waiver.why) == ("refunded anyway", "refunded anyway")


def test_form_updates_run_twice_ask_the_current_question_again(tg):
    opening = tg.update(message=tg.text(USERS["alice"], "/comp"))
    assert tg.post(opening).status_code == 200
    assert "How much" in tg.replies(USERS["alice"], 0)
    before = len(tg.fake.texts_to(USERS["alice"]))
    tg.adapter._stored("update", opening)  # as the inbox runs it again
    assert "How much" in tg.replies(USERS["alice"], before)
    assert "positive number" not in tg.fake.texts_to(USERS["alice"])[-1]
    answer = tg.update(message=tg.text(USERS["alice"], "80"))
    assert tg.post(answer).status_code == 200
    assert "What kind" in tg.replies(USERS["alice"], before + 1)
    tg.adapter._stored("update", answer)  # not "80" as the kind: asked again, no error
    asked = tg.fake.texts_to(USERS["alice"])[before + 2:]
    assert len(asked) == 1 and "What kind" in asked[0] and "must be one of" not in asked[0]
    assert form_answers(tg) == {"amount": "80"}


def test_an_answer_is_kept_only_onto_the_form_it_was_read_from(engine):
    later = datetime.now(UTC) + timedelta(minutes=5)
    shared_state.open_form(engine, "telegram", "1:1", "comp", "en", later, by="10")
    assert shared_state.save_answers(engine, "telegram", "1:1", {"amount": "80"}, later,
                                     by="11", after="10")
    # the same update again, or another read before 11 was kept: both find it moved on
    assert not shared_state.save_answers(engine, "telegram", "1:1", {"amount": "80",
                                         "kind": "80"}, later, by="11", after="10")
    assert not shared_state.save_answers(engine, "telegram", "1:1", {"amount": "9"}, later,
                                         by="12", after="10")
    form = shared_state.form_in(engine, "telegram", "1:1")
    assert (form.answers, form.last_update) == ({"amount": "80"}, "11")


def test_praise_replied_to_a_voice_note_keeps_the_recording_and_posts_it_again(tg):
    tg.fake.files["voice-1"] = b"OggS fake opus voice note"
    voice_note = tg.message(USERS["alice"], voice={
        "file_id": "voice-1", "file_unique_id": "uv1", "duration": 4, "mime_type": "audio/ogg"})
    answer = tg.say("wang", "/praise @alice", reply_to_message=voice_note)
    assert "P1" in answer
    praise = rows(tg.engine, Praise)[0]
    recording = rows(tg.engine, Recording, praise_id=praise.id)[0]
    assert recording.data == b"OggS fake opus voice note"
    assert recording.source == "telegram:file:uv1"

    tg.dispatch()  # the all-staff broadcast: text with a touching button, then the voice
    post = next(m for m in tg.fake.sent() if int(m["chat_id"]) == GROUP)
    assert post["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "touching P1"
    voice = tg.fake.wait_for_calls("sendVoice", 1)[0]
    assert voice["voice"] == b"OggS fake opus voice note" and int(voice["chat_id"]) == GROUP


def test_praise_replied_to_a_forwarded_customer_message_uses_its_text(tg):
    forwarded = tg.text(777, "Alice found my lost passport, thank you!", chat=USERS["wang"])
    assert "P1" in tg.say("wang", "/praise @alice", reply_to_message=forwarded)
    assert rows(tg.engine, Praise)[0].text == "Alice found my lost passport, thank you!"


def test_reaction_and_button_on_the_broadcast_count_as_touching(tg):
    tg.say("wang", "/praise @alice She stayed late to help")
    tg.dispatch()
    post = next(m for m in tg.fake.sent() if int(m["chat_id"]) == GROUP)
    posted = rows(tg.engine, ChatPost)[0]
    assert posted.ref == "P1" and posted.chat_id == str(GROUP)
    reaction = {"chat": {"id": GROUP, "type": "supergroup"}, "message_id": int(posted.message_id),
                "date": int(time.time()), "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "❤"}],
                "user": {"id": USERS["bob"], "is_bot": False, "first_name": "bob"}}
    assert tg.post(tg.update(message_reaction=reaction)).status_code == 200
    wait_until(lambda: count(tg.engine, TouchingMark), "the touching mark")
    answer = tg.press("lilei", "touching P1", bot_message(post))
    assert "P1" in answer["text"]
    assert count(tg.engine, TouchingMark) == 2
    assert rows(tg.engine, Praise)[0].touching_count == 2


def test_long_polling_receives_and_answers(org, fake):
    with transaction(org) as session:
        session.add(ChatIdentity(employee_id=employee(org, "alice").id, platform="telegram",
                                 platform_user_id=str(USERS["alice"])))
    with fake.serve() as api_url:
        adapter = TelegramAdapter(org, parse_config(settings(api_url, mode="polling")), TOKEN)
        tg = Telegram("", org, fake, adapter)
        fake.push(tg.update(message=tg.text(USERS["alice"], "/me")))
        app = create_app([], [adapter.start], [adapter.stop])
        with serve(app, lifespan="on"):
            assert "Alice Chen" in tg.replies(USERS["alice"], 0)
        assert fake.sent("deleteWebhook") and not fake.sent("setWebhook")


def test_a_groups_minute_is_shared_by_every_worker(tg):
    # another worker has posted 19 messages in the group this minute
    assert shared_state.spend(tg.engine, f"telegram:chat:{GROUP}", 20, 60, time.time(), 19)
    tg.say("wang", "/praise @alice She stayed late to help")
    tg.say("wang", "/praise @bob He found the lost parcel")
    tg.dispatch()
    assert len([m for m in tg.fake.sent() if int(m["chat_id"]) == GROUP]) == 1
    waiting = [o for o in rows(tg.engine, Outbox) if o.delivered_at is None]
    assert len(waiting) == 1 and "a minute in this group" in waiting[0].last_error


def test_a_full_pool_answers_a_press_at_once_and_refuses_a_reaction(tg):
    """(A message meeting a full pool: tests/platforms/test_conformance.py.)"""
    tg.adapter.inbox.pool = WorkPool("telegram-test", threads=1, queue=0)
    gate = threading.Event()
    assert tg.adapter.inbox.pool.submit(gate.wait)  # its one thread is busy
    try:
        query = {"id": "q1", "chat_instance": "ci", "data": "approve C1",
                 "from": {"id": USERS["wang"], "is_bot": False, "first_name": "wang"}}
        answer = tg.post(tg.update(callback_query=query))
        assert answer.json()["method"] == "answerCallbackQuery"
        assert answer.json()["callback_query_id"] == "q1"
        reaction = {"chat": {"id": GROUP, "type": "supergroup"}, "message_id": 5,
                    "date": int(time.time()), "old_reaction": [], "new_reaction": [],
                    "user": {"id": USERS["bob"], "is_bot": False, "first_name": "bob"}}
        # nobody to tell: refused, so that Telegram delivers it again later
        assert tg.post(tg.update(message_reaction=reaction)).status_code == 503
    finally:
        gate.set()
    assert count(tg.engine, InboxItem) == 0  # nothing stored: each is sent again


def test_a_failed_update_is_tried_again_and_answered_once(tg):
    tg.fake.fail("sendMessage", status=500)  # the answer cannot be sent the first time
    update = tg.update(message=tg.text(USERS["alice"], "/comp 60 gift #A3 birthday"))
    assert tg.post(update).status_code == 200
    key = f"telegram:update:{update['update_id']}"
    tg.fake.wait_for(lambda: rows(tg.engine, InboxItem, key=key)[0].last_error,
                     what="the failure")
    back_off_over(tg)
    assert "C1" in tg.replies(USERS["alice"], 0)  # the stored reply, sent this time
    assert count(tg.engine, Compensation) == 1
    tg.fake.wait_for(lambda: rows(tg.engine, InboxItem, key=key)[0].done_at,
                     what="marked done after its answer")


def polling(org, api_url: str, **overrides):
    """A polling worker's adapter, and its app to serve."""
    with transaction(org) as session:
        session.add(ChatIdentity(employee_id=employee(org, "alice").id, platform="telegram",
                                 platform_user_id=str(USERS["alice"])))
    adapter = TelegramAdapter(org, parse_config(settings(api_url, mode="polling",
                                                         **overrides)), TOKEN)
    return adapter, create_app([], [adapter.start], [adapter.stop])


def test_a_polled_update_is_stored_and_one_fetched_again_runs_once(org, fake):
    with fake.serve() as api_url:
        adapter, app = polling(org, api_url)
        tg = Telegram("", org, fake, adapter)
        update = tg.update(message=tg.text(USERS["alice"], "/comp 60 gift #A3 birthday"))
        fake.push(update, update)  # a new poller fetched it again
        fake.push(tg.update(message=tg.text(USERS["alice"], "/me")))
        with serve(app, lifespan="on"):
            assert "Alice Chen" in tg.replies(USERS["alice"], 0, 2)
        assert count(org, Compensation) == 1
        assert sum("C1" in t for t in fake.texts_to(USERS["alice"])) == 1
        assert [item.done_at is not None for item in rows(org, InboxItem)] == [True, True]


def test_a_polled_update_meeting_a_full_pool_waits_in_the_inbox(org, fake):
    with fake.serve() as api_url:
        adapter, app = polling(org, api_url, work_threads=1, work_queue=0)
        gate = threading.Event()
        tg = Telegram("", org, fake, adapter)
        with serve(app, lifespan="on"):
            assert adapter.inbox.pool.submit(gate.wait)  # its one thread is busy
            fake.push(tg.update(message=tg.text(USERS["alice"], "/me")))
            fake.wait_for(lambda: count(org, InboxItem) == 1, what="the stored update")
            assert rows(org, InboxItem)[0].claimed_until is None  # for a sweep to take
            gate.set()
            wait_until(lambda: has_room(adapter.inbox.pool), "the thread free again")
            adapter.inbox.sweep()
            assert "Alice Chen" in tg.replies(USERS["alice"], 0)
        assert rows(org, InboxItem)[0].done_at is not None


# --- as strict as Telegram (bot/platforms/telegram/limits.py) -------------------------
def test_a_person_who_never_pressed_start_is_named_to_hr_once_a_day(tg):
    tg.fake.never_wrote(USERS["wang"])  # HR typed in his id; he never opened the bot
    tg.say("alice", "/comp 500 refund #A7 broken on arrival")
    tg.say("bob", "/comp 400 refund #A8 wrong size")
    for _ in range(3):
        tg.dispatch()
    assert all(row.delivered_at for row in rows(tg.engine, Outbox))  # no endless retry
    assert any(method == "sendMessage" and f.status == 403 for method, f in tg.fake.failed)
    told = [t for t in tg.fake.texts_to(USERS["hana"]) if "t.me/frontline_bot" in t]
    assert len(told) == 1 and "王芳 Wang Fang (@wang)" in told[0] and "Start" in told[0]


def test_linking_in_a_group_tells_the_person_to_press_start(tg):
    with transaction(tg.engine) as session:
        code = linking.issue_code(session, employee(tg.engine, "alice"), "link:telegram",
                                  datetime.now(UTC), timedelta(hours=1))
    with transaction(tg.engine) as session:
        session.execute(sa_update(ChatIdentity).where(
            ChatIdentity.platform_user_id == str(USERS["alice"])).values(
            platform_user_id="1"))
    answer = tg.say(3001, f"/link@frontline_bot {code}", chat=GROUP)
    assert "Alice Chen" in answer and "https://t.me/frontline_bot" in answer


def test_a_colleague_picked_from_the_list_with_emoji_in_their_name_is_that_person(tg):
    text = "/praise@frontline_bot 🌸Alice Chen stayed late"  # offsets count UTF-16 units
    alice = {"id": USERS["alice"], "is_bot": False, "first_name": "🌸Alice",
             "last_name": "Chen"}
    update = tg.update(message=tg.text(USERS["wang"], text, chat=GROUP,
                                       mentions={len("/praise@frontline_bot "): alice}))
    before = len(tg.fake.texts_to(GROUP))
    assert tg.post(update).status_code == 200
    assert "P1" in tg.replies(GROUP, before)
    (praise,) = rows(tg.engine, Praise)
    assert praise.employee_id == employee(tg.engine, "alice").id
    assert praise.text == "stayed late"


def test_a_long_answer_is_cut_at_line_breaks_into_messages_telegram_takes(tg):
    from bot.platforms.telegram import limits
    from bot.platforms.telegram.adapter import chunks

    text = "\n".join(f"{n} 🎧 " + "好" * 60 for n in range(120))  # < 4,096 characters each
    pieces = chunks(text)
    assert all(1 <= limits.length(piece) <= limits.MESSAGE_TEXT for piece in pieces)
    assert "".join(pieces) == text and all(p.endswith("好") or p.endswith("\n")
                                           for p in pieces)
    too_long = "🎧" * 2049  # 2,049 characters, 4,098 UTF-16 units
    sent = asyncio.run(_send(tg, too_long))
    assert sent[0] == 400 and "message is too long" in sent[1].lower()


async def _send(tg, text: str) -> tuple[int, str]:
    from telegram import Bot
    from telegram.error import BadRequest

    async with Bot(TOKEN, base_url=tg.adapter.settings.api_base) as bot:
        try:
            await bot.send_message(USERS["alice"], text)
        except BadRequest as error:
            return 400, f"Bad Request: {error.message}"
    return 200, ""


def test_a_button_whose_command_is_longer_than_telegram_allows_is_left_out():
    from bot.platforms.telegram.adapter import keyboard
    from handlers.base import Action

    long = Action("action.approve", "approve C1 " + "x" * 60)  # 71 bytes: refused by Telegram
    markup = keyboard([Action("action.approve", "approve C1"), long], "en")
    assert [b.callback_data for row in markup.inline_keyboard for b in row] == ["approve C1"]


def test_a_press_answered_after_its_query_expired_is_answered_by_message(tg):
    tg.say("alice", "/comp 500 refund #A7 broken on arrival")
    tg.dispatch()
    card = next(m for m in tg.fake.sent() if "approve C1" in str(m.get("reply_markup")))
    issued = tg.fake.clock
    tg.fake.clock = lambda: issued() + 60  # the press waited its turn past the query's life
    before = len(tg.fake.texts_to(USERS["wang"]))
    query = {"id": "old", "chat_instance": "ci", "data": "approve C1",
             "from": {"id": USERS["wang"], "is_bot": False, "first_name": "wang"},
             "message": bot_message(card)}
    tg.fake.queries["old"] = issued()
    assert tg.post(tg.update(callback_query=query)).status_code == 200
    assert "C1" in tg.replies(USERS["wang"], before)
    assert rows(tg.engine, Compensation)[0].status == "approved"


def test_the_fake_keeps_to_telegrams_flood_limits(fake):
    from bot.platforms.telegram import limits

    now = [1000.0]
    fake.clock = lambda: now[0]
    fake.started.add(USERS["alice"])
    for _ in range(limits.CHAT_BURST):
        fake.check("sendMessage", {"chat_id": USERS["alice"], "text": "hi"})
    with pytest.raises(Exception, match="retry after") as refused:
        fake.check("sendMessage", {"chat_id": USERS["alice"], "text": "hi"})
    assert refused.value.code == 429 and refused.value.retry_after >= 1
    now[0] += limits.CHAT_BURST
    fake.check("sendMessage", {"chat_id": USERS["alice"], "text": "again"})
    for n in range(limits.GROUP_PER_MINUTE):  # at one a second: within the chat's pace
        now[0] += 1 / limits.CHAT_PER_SECOND
        fake.check("sendMessage", {"chat_id": GROUP, "text": f"{n}"})
    with pytest.raises(Exception, match="retry after"):  # the group's minute is spent
        now[0] += 1 / limits.CHAT_PER_SECOND
        fake.check("sendMessage", {"chat_id": GROUP, "text": "one too many"})
    with pytest.raises(Exception, match="can't initiate"):
        fake.check("sendMessage", {"chat_id": STRANGER, "text": "hello"})


# --- frontline doctor -------------------------------------------------------------------
def _findings(tg) -> list:
    from bot.platforms.telegram.platform import TelegramPlatform

    return asyncio.run(TelegramPlatform(tg.adapter).findings())


def _failing(tg) -> dict[str, str]:
    from handlers.i18n import render_message

    return {f.said.key: render_message(f.fix, "en") for f in _findings(tg) if not f.ok}


def test_doctor_names_a_webhook_registered_elsewhere_and_its_last_error(tg):
    assert _failing(tg) == {}
    tg.fake.webhook = {"url": "https://old.example/hook"}
    assert "restart frontline run" in _failing(tg)["doctor.telegram.webhook.elsewhere"]
    tg.fake.webhook = {"url": "https://x.example/tg", "last_error_date": int(time.time()),
                       "last_error_message": "Wrong response from the webhook: 502"}
    found = {f.said.key: f for f in _findings(tg)}["doctor.telegram.webhook.error"]
    from handlers.i18n import render_message
    assert "502" in render_message(found.said, "en")


def test_doctor_names_a_shared_chat_the_bot_is_missing_from_or_no_admin_of(tg):
    tg.fake.chat_status[GROUP] = "member"
    assert "Add Admin" in _failing(tg)["doctor.telegram.chat.not_admin"]
    tg.fake.chat_status[GROUP] = "missing"
    assert "Add Members" in _failing(tg)["doctor.telegram.chat.missing"]
    tg.fake.bot_user["can_join_groups"] = False
    assert "/setjoingroups" in _failing(tg)["doctor.telegram.join_groups.failed"]


def test_doctor_names_a_refused_token_and_a_webhook_left_in_polling_mode(org, fake):
    with fake.serve() as api_url:
        config = parse_config(settings(api_url, mode="polling"))
        from bot.platforms.telegram.platform import TelegramPlatform
        fake.webhook = {"url": "https://other.example/hook"}
        found = asyncio.run(TelegramPlatform(TelegramAdapter(org, config, TOKEN)).findings())
        assert [f.said.key for f in found if not f.ok] == ["doctor.telegram.polling.webhook_set"]
        wrong = TelegramAdapter(org, config, "123456:WRONG")
        found = asyncio.run(TelegramPlatform(wrong).findings())
        assert [f.said.key for f in found] == ["doctor.telegram.token.failed"]
