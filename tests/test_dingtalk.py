"""DingTalk over real traffic on 127.0.0.1: the platform built from its config, in
Stream mode through the official SDK's client connected to a local fake gateway
(CALLBACK frames pushed, acks recorded), in HTTP mode through signed callbacks on
the bot's web app; the open API and custom robots are the local fake's."""

import asyncio
import base64
import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.app.web import create_app
from bot.kit.config import ConfigError
from bot.kit.work_pool import WorkPool
from bot.platforms.dingtalk import limits
from bot.platforms.dingtalk.adapter import card_key
from bot.platforms.dingtalk.api import DingTalkApi, DingTalkError, sign
from bot.platforms.dingtalk.crypto import DingTalkCrypto
from bot.platforms.dingtalk.platform import build
from handlers.i18n import render_message
from handlers.linking import issue_code
from rituals import schedule
from storage.engine import transaction
from storage.models import (
    ChatIdentity,
    Compensation,
    InboxItem,
    LedgerEntry,
    Outbox,
    Praise,
    Recording,
)
from tests import fake_dingtalk as dt
from tests.fake_dingtalk import APP_KEY, APP_SECRET, CARD_TOPIC, ROBOT_TOPIC, FakeDingTalk
from tests.http_servers import serve
from tests.platforms.dingtalk import (
    ALL_STAFF,
    CORP_ID,
    HARBOUR,
    LILEI,
    TEMPLATE,
    DingTalk,
    app_secrets,
    dingtalk_config,
    link,
    now_ms,
    streaming,
)
from tests.support import count, employee, rows

pytestmark = pytest.mark.http

EVENT_TOKEN = "event-token"
EVENT_AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def fake():
    return FakeDingTalk()


@pytest.fixture
def stream(org, fake):
    """Stream mode: the platform built from its config, started in the web app's loop;
    its SDK client connected to the fake gateway."""
    with streaming(org, fake) as dingtalk:
        yield dingtalk


@pytest.fixture
def http(org, fake):
    """HTTP mode: signed robot callbacks and encrypted events on the bot's web app;
    a custom robot for all staff."""
    link(org)
    with app_secrets() as env, fake.serve() as api_url:
        env.setenv("DINGTALK_EVENT_TOKEN", EVENT_TOKEN)
        env.setenv("DINGTALK_EVENT_AES_KEY", EVENT_AES_KEY)
        env.setenv("ROBOT_ALL_URL", f"{api_url}/robot/send?access_token={dt.ROBOT_TOKEN}")
        env.setenv("ROBOT_ALL_SECRET", dt.ROBOT_SECRET)
        config = dingtalk_config(api_url, "http", corp_id=CORP_ID, all_staff_chat="",
                                 team_chats={},
                                 all_staff_robots=[{"url_env": "ROBOT_ALL_URL",
                                                    "secret_env": "ROBOT_ALL_SECRET"}])
        platform = build(org, config)
        # Cards call back to web.public_url's /dingtalk/card/<key>, registered at start
        assert platform.card_callback == \
            f"{config.web.public_url}/dingtalk/card/{card_key(APP_SECRET)}"
        with serve(create_app([platform.router()])) as bot_url:
            platform.card_callback = f"{bot_url}/dingtalk/card/{card_key(APP_SECRET)}"
            asyncio.run(platform.start())
            yield DingTalk(fake, org, platform, api_url, bot_url)
        platform.adapter.inbox.stop()


# --- Stream mode --------------------------------------------------------------
def test_the_sdk_opens_the_connection_with_both_topics(stream, fake):
    (opened,) = fake.sent("connections/open")
    assert opened["clientId"] == APP_KEY
    assert {s["topic"] for s in opened["subscriptions"]} == {ROBOT_TOPIC, CARD_TOPIC}
    assert all(s["type"] == "CALLBACK" for s in opened["subscriptions"])


def test_a_group_message_at_the_robot_is_answered_at_its_sender(stream):
    """(One-to-one commands, in each person's language: tests/platforms/test_conformance.py.)"""
    assert "Coffee voucher" in stream.say("bob0202", " catalog", group=True)
    (grouped,) = [p for p in stream.fake.sent("sendBySession") if "Coffee" in p["text"]["content"]]
    assert grouped["at"] == {"atUserIds": ["bob0202"]}  # in a group, the sender is @-ed


def test_an_approval_card_is_laid_out_and_redrawn_without_buttons_once_decided(stream, fake):
    """(Who may decide, and only once: tests/platforms/test_conformance.py.)"""
    stream.say("alice0101", "comp 350 refund #B9 broken vase")
    stream.deliver()
    (created,) = fake.sent("card/createAndDeliver")
    track = created["outTrackId"]
    assert created["openSpaceId"] == "dtv1.card//IM_ROBOT.manager4220"
    assert created["cardTemplateId"] == TEMPLATE and created["callbackType"] == "STREAM"
    params = created["cardData"]["cardParamMap"]
    assert (params["action1_label"], params["action1_command"]) == ("批准", "approve C1")
    assert (params["action2_label"], params["action2_command"]) == ("拒绝", "decline C1")
    assert "350" in params["markdown"]  # the decision's context

    assert stream.click("bob0202", track, "approve C1")["code"] == 200  # not his to decide
    fake.wait_for(lambda: fake.texts_to("bob0202"), what="bob's answer")
    assert fake.sent("card/update") == []

    stream.click("manager4220", track, "approve C1", callback="cb-approve")
    (update,) = fake.wait_for(lambda: fake.sent("card/update"), what="the redraw")
    assert update["outTrackId"] == track and fake.cards[track]["buttons"] == "hide"
    assert "C1" in fake.cards[track]["decided"]
    fake.wait_for(lambda: fake.texts_to("manager4220"), what="wang's answer")

    again = stream.click("manager4220", track, "approve C1", callback="cb-approve")
    assert again["code"] == 200  # DingTalk sent the same callback again: stored once
    stream.click("manager4220", track, "decline C1")  # a second click
    fake.wait_for(lambda: len(fake.texts_to("manager4220")) == 2, what="the second answer")
    assert len(fake.sent("card/update")) == 1  # neither the redelivery nor the click redraws
    assert "C1" in fake.texts_to("manager4220")[-1]
    assert not fake.late_acks and not fake.bad_answers
    stream.deliver()
    assert "approved your C1" in fake.texts_to("alice0101")[-1]


def test_a_voice_note_after_praise_is_downloaded_and_kept(stream, fake):
    fake.files["DC-voice-1"] = (b"#!AMR\n recorded thanks", "audio/amr")
    stream.say("manager4220", "praise @alice the customer called to thank her")
    stream.send(stream.message("manager4220", "msgVOICE", audio="DC-voice-1"))
    assert "P1" in stream.answer("msgVOICE")
    (recording,) = rows(stream.engine, Recording)
    assert recording.data == b"#!AMR\n recorded thanks" and recording.content_type == "audio/amr"
    assert rows(stream.engine, Praise)[0].attachment_ref == f"recording:{recording.id}"
    assert fake.sent("messageFiles/download") == [{"downloadCode": "DC-voice-1",
                                                   "robotCode": APP_KEY}]


def test_a_kept_voice_note_is_played_after_the_broadcast_and_the_morning_post(stream, fake):
    fake.files["DC-voice-2"] = (b"#!AMR\n happy birthday", "audio/amr")
    stream.say("manager4220", "praise @alice she sang my daughter happy birthday")
    stream.send(stream.message("manager4220", "msgVOICE2", audio="DC-voice-2"))
    stream.answer("msgVOICE2")
    stream.deliver()  # the broadcast went out before its recording was kept: no file
    assert fake.sent("media/upload") == []

    morning = next(t for t in schedule.targets(stream.engine, stream.platform.adapter.config,
                                               ["morning_praise"])
                   if t.team_name == "Harbour Street Store")
    tomorrow = datetime.now(SHANGHAI).date() + timedelta(days=1)
    fired = datetime.combine(tomorrow, clock_time(9), SHANGHAI).astimezone(UTC)
    assert schedule.run_once(stream.engine, stream.platform.adapter.config, morning, fired,
                             fired) == "P1"
    fake.fail("media/upload", error=-1)  # the upload fails once: the post is not repeated
    stream.deliver(now=lambda: fired)
    (post,) = [p for p in fake.sent("groupMessages/send") if p["openConversationId"] == HARBOUR
               and p["msgKey"] == "sampleMarkdown"]
    assert "happy birthday" in post["msgParam"]["text"]
    assert fake.sent("media/upload") == []
    stream.deliver(now=lambda: fired + timedelta(minutes=1))
    (upload,) = fake.sent("media/upload")
    assert upload["data"] == b"#!AMR\n happy birthday" and upload["filename"] == "P1.amr"
    (played,) = [p for p in fake.sent("groupMessages/send") if p["msgKey"] == "sampleFile"]
    assert played["openConversationId"] == HARBOUR
    assert played["msgParam"] == {"mediaId": upload["media_id"], "fileName": "P1.amr",
                                  "fileType": "amr"}
    assert stream.deliver(now=lambda: fired + timedelta(hours=1)) == 0
    assert len(fake.sent("media/upload")) == 1
    assert len([p for p in fake.sent("groupMessages/send") if p["openConversationId"] == HARBOUR
                and p["msgKey"] == "sampleMarkdown"]) == 1


def test_praise_goes_to_the_group_as_a_card_with_a_touching_button(stream, fake):
    stream.say("manager4220", "praise @bob listened patiently")
    stream.deliver()
    (card,) = [c for c in fake.sent("card/createAndDeliver")
               if c["openSpaceId"] == f"dtv1.card//IM_GROUP.{ALL_STAFF}"]
    params = card["cardData"]["cardParamMap"]
    assert "Bob Li" in params["markdown"]
    assert (params["action1_label"], params["action1_command"]) == ("❤️ 感动", "touching P1")
    stream.click("alice0101", card["outTrackId"], "touching P1")
    stream.click("alice0101", card["outTrackId"], "touching P1")  # a second click
    # each click is acknowledged at once and answered after its command has run
    fake.wait_for(lambda: len(fake.texts_to("alice0101")) == 2, what="both answers")
    assert rows(stream.engine, Praise)[0].touching_count == 1
    assert "P1" in fake.texts_to("alice0101")[-1]  # the clicker is answered
    assert fake.sent("card/update") == []  # a praise card keeps its button
    assert stream.deliver() == 0 and len(fake.sent("card/createAndDeliver")) == 1  # once


def test_token_is_cached_and_renewed_once_when_it_expires(stream, fake):
    for n in range(3):
        stream.say("alice0101", f"comp {300 + n} refund case {n}")
    stream.deliver()
    assert fake.tokens_issued == 1
    fake.expire_tokens()  # revoked early
    stream.say("alice0101", "comp 400 refund another")
    stream.deliver()
    assert fake.tokens_issued == 2 and len(fake.sent("card/createAndDeliver")) == 4


# --- HTTP mode ----------------------------------------------------------------
def test_http_commands_answer_through_the_session_webhook(http):
    assert "Authority: up to 200.00 CNY" in http.say("alice0101", "me")
    assert "授权" in http.say("manager4220", "我", group=True)


def test_http_approvals_go_as_cards_whose_clicks_come_back_over_http(http, fake):
    """HTTP mode delivers cards too (callbackType HTTP, the registered route key)."""
    (registered,) = fake.sent("card/callbacks/register")
    assert registered["callbackRouteKey"] == "frontline"
    http.say("alice0101", "comp 350 refund #B9 broken vase")
    http.deliver()
    (card,) = fake.sent("card/createAndDeliver")
    assert card["callbackType"] == "HTTP" and card["callbackRouteKey"] == "frontline"
    assert card["openSpaceId"] == "dtv1.card//IM_ROBOT.manager4220"
    click = DingTalk.card_click("manager4220", card["outTrackId"], "approve C1")
    answered = fake.post_card_click("frontline", click)
    assert answered.status_code == 200 and answered.json() == {}
    fake.wait_for(lambda: fake.sent("card/update"), what="the redraw")
    assert "C1" in fake.cards[card["outTrackId"]]["decided"]
    assert "C1" in fake.wait_for(lambda: fake.texts_to("manager4220"), what="the answer")[-1]
    assert fake.post_card_click("frontline", click).status_code == 200  # sent again
    assert rows(http.engine, Compensation)[0].status == "approved"
    assert not fake.late_acks and not fake.bad_answers
    forged = httpx.post(f"{http.bot_url}/dingtalk/card/{'0' * 32}", json=click, timeout=10)
    assert forged.status_code == 403


@pytest.mark.parametrize("attack", ["forged", "stale", "future", "no_headers", "not_a_number",
                                    "non_ascii_sign", "wrong_secret"])
def test_forged_or_stale_robot_callbacks_are_refused(http, attack):
    data = http.message("manager4220", "msgEVIL", text="praise @alice hello")
    timestamp = str(now_ms())
    headers = {"timestamp": timestamp, "sign": sign(APP_SECRET, timestamp)}
    if attack == "forged":
        headers["sign"] = base64.b64encode(b"x" * 32).decode()
    elif attack in ("stale", "future"):
        moved = now_ms() + (-1 if attack == "stale" else 1) * 3_700_000
        headers = {"timestamp": str(moved), "sign": sign(APP_SECRET, str(moved))}
    elif attack == "no_headers":
        headers = {}
    elif attack == "not_a_number":
        headers = {"timestamp": "²", "sign": sign(APP_SECRET, "²")}
    elif attack == "non_ascii_sign":
        headers["sign"] = "é" * 44
    else:
        headers["sign"] = sign("another-secret", timestamp)
    response = httpx.post(f"{http.bot_url}/dingtalk/robot", json=data, timeout=10,
                          headers={k: v.encode() for k, v in headers.items()})
    assert response.status_code == 403
    assert count(http.engine, Praise) == 0 and count(http.engine, LedgerEntry) == 0
    assert http.fake.sent("sendBySession") == []


def signed_at(timestamp: int) -> dict[str, str]:
    return {"timestamp": str(timestamp), "sign": sign(APP_SECRET, str(timestamp))}


def test_a_captured_signature_with_another_body_runs_nothing_new(http):
    """The sign covers the timestamp only: replayed within the window with another body
    under the same msgId, the message is still the one first stored and run once."""
    captured = signed_at(now_ms())
    first = http.message("manager4220", "msgONCE", text="praise @alice kept her calm")
    swapped = http.message("manager4220", "msgONCE", text="praise @alice forged words")
    for body in (first, swapped, first):
        response = httpx.post(f"{http.bot_url}/dingtalk/robot", json=body, headers=captured,
                              timeout=10)
        assert response.status_code == 200
    http.answer("msgONCE")
    assert [p.text for p in rows(http.engine, Praise)] == ["kept her calm"]
    assert count(http.engine, LedgerEntry) == 1
    assert count(http.engine, InboxItem) == 1


@pytest.mark.parametrize(("age_seconds", "status"), [(-60, 200), (240, 200), (360, 403),
                                                     (-360, 403), (1800, 403)])
def test_the_replay_window_is_five_minutes_either_way(http, age_seconds, status):
    """Well inside DingTalk's own hour (half an hour old was let through before): a
    delivery is signed as it is sent, so minutes cover any clock drift."""
    body = http.message("manager4220", f"msgAGE{age_seconds}", text="praise @alice on time")
    response = httpx.post(f"{http.bot_url}/dingtalk/robot", json=body, timeout=10,
                          headers=signed_at(now_ms() - age_seconds * 1000))
    assert response.status_code == status
    if status == 403:
        assert count(http.engine, InboxItem) == 0 and count(http.engine, Praise) == 0
    else:
        http.answer(f"msgAGE{age_seconds}")
        assert count(http.engine, Praise) == 1


def test_a_window_wider_than_dingtalks_hour_is_a_config_error():
    with pytest.raises(ConfigError):
        dingtalk_config("http://127.0.0.1:9", "http", replay_window_seconds=3601)


def test_a_malformed_signed_body_is_refused(http):
    timestamp = str(now_ms())
    response = httpx.post(f"{http.bot_url}/dingtalk/robot", content=b"[1, 2", timeout=10,
                          headers={"timestamp": timestamp, "sign": sign(APP_SECRET, timestamp)})
    assert response.status_code == 403


def test_custom_robot_posts_are_signed_and_rate_limited(http, fake):
    for n in range(22):
        http.say("manager4220", f"praise @bob thanks number {n}")
    http.deliver()
    posts = fake.sent("robot/send")
    assert len(posts) == 20  # 20 a minute per custom robot
    assert posts[0]["msgtype"] == "markdown" and "Bob Li" in posts[0]["markdown"]["text"]
    pending = [o for o in rows(http.engine, Outbox) if o.delivered_at is None]
    assert len(pending) == 2 and all("20 messages a minute" in o.last_error for o in pending)


def test_a_throttled_custom_robot_post_goes_out_once_later(http, fake):
    http.say("manager4220", "praise @bob listened patiently")
    fake.fail("robot/send", error=410100)
    http.deliver()
    assert fake.sent("robot/send") == []
    (pending,) = [o for o in rows(http.engine, Outbox) if o.delivered_at is None]
    assert "410100" in pending.last_error
    assert http.deliver(now=lambda: datetime.now(UTC) + timedelta(minutes=1)) == 1
    assert len(fake.sent("robot/send")) == 1
    assert http.deliver(now=lambda: datetime.now(UTC) + timedelta(minutes=2)) == 0


def post_event(http, event: dict, *, timestamp: str | None = None, signature: str | None = None):
    crypto = DingTalkCrypto(EVENT_TOKEN, EVENT_AES_KEY, CORP_ID)
    timestamp = timestamp or str(now_ms())
    encrypted = crypto.encrypt(json.dumps(event))
    return httpx.post(f"{http.bot_url}/dingtalk/events", json={"encrypt": encrypted},
                      params={"msg_signature": signature or crypto.signature(
                          timestamp, "nonce42", encrypted), "timestamp": timestamp,
                          "nonce": "nonce42"}, timeout=10), crypto


def test_encrypted_events_are_answered_with_an_encrypted_success(http):
    response, crypto = post_event(http, {"EventType": "check_url"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["msg_signature"] == crypto.signature(answer["timeStamp"], answer["nonce"],
                                                       answer["encrypt"])
    assert crypto.decrypt(answer["encrypt"]) == "success"


@pytest.mark.parametrize("attack", ["forged", "stale"])
def test_forged_or_stale_events_are_refused(http, attack):
    if attack == "forged":
        response, _ = post_event(http, {"EventType": "check_url"}, signature="0" * 40)
    else:
        response, _ = post_event(http, {"EventType": "check_url"},
                                 timestamp=str(now_ms() - 3_700_000))
    assert response.status_code == 403


def test_staff_link_their_dingtalk_account_with_a_one_time_code(stream):
    with transaction(stream.engine) as session:
        code = issue_code(session, employee(stream.engine, "lilei"), "link:dingtalk",
                          datetime.now(UTC), timedelta(hours=24))
    assert "not registered" in stream.say(LILEI, "me")
    stream.say(LILEI, f"link {code}")
    assert "not registered" not in stream.say(LILEI, "me")
    (linked,) = rows(stream.engine, ChatIdentity, platform_user_id=LILEI)
    assert linked.platform == "dingtalk" and linked.employee_id == employee(stream.engine,
                                                                            "lilei").id


@pytest.mark.parametrize("text", ["praise @alice nice\x00work", "praise @alice nice \ud800 work",
                                  "praise @alice " + "很好" * 2100])
def test_unstorable_or_overlong_text_is_refused_and_changes_nothing(stream, text):
    answer = stream.say("manager4220", text)
    assert answer and "P1" not in answer
    assert count(stream.engine, Praise) == 0 and count(stream.engine, LedgerEntry) == 0


def test_a_message_id_no_store_could_hold_is_acknowledged_and_changes_nothing(stream):
    stream.send(stream.message("manager4220", "msg\x00evil", text="praise @alice nice work"))
    assert count(stream.engine, Praise) == 0


def test_the_connection_is_opened_again_when_the_gateway_drops_it(stream, fake):
    fake.drop()
    fake.wait_for(lambda: fake.connections == 2 and fake.socket is not None, timeout=20,
                  what="a second connection")
    assert len(fake.sent("connections/open")) == 2
    assert "Authority: up to 200.00 CNY" in stream.say("alice0101", "me")
    assert stream.platform.ready()


@pytest.mark.parametrize("broken", [{"text": "not an object"}, {"text": {"content": 7}},
                                    {"senderStaffId": 42}, {"atUsers": 5},
                                    {"sessionWebhookExpiredTime": "soon"},
                                    {"msgtype": "audio", "content": "x"}])
def test_malformed_signed_messages_are_refused_without_a_500(http, broken):
    data = http.message("manager4220", "msgBROKEN", text="praise @alice nice work") | broken
    timestamp = str(now_ms())
    response = httpx.post(f"{http.bot_url}/dingtalk/robot", json=data, timeout=10,
                          headers={"timestamp": timestamp, "sign": sign(APP_SECRET, timestamp)})
    assert response.status_code in (200, 400)
    assert count(http.engine, Praise) == 0


def test_a_session_webhook_elsewhere_is_not_followed(http, fake):
    data = http.message("alice0101", "msgELSEWHERE", text="me") | {
        "sessionWebhook": "http://127.0.0.1:9/robot/sendBySession?session=x"}
    http.send(data)
    answered = fake.wait_for(lambda: fake.texts_to("alice0101"), what="the answer")
    assert "Authority" in answered[-1]  # answered through the robot API
    assert fake.sent("sendBySession") == []


def test_a_malformed_card_callback_is_refused_with_a_bad_request_ack(stream, fake):
    ack = fake.push_and_wait(CARD_TOPIC, {"extension": "{not json", "userId": "manager4220",
                                          "content": "{}", "outTrackId": "t"}, "cb-broken")
    assert ack["code"] == 400 and count(stream.engine, Compensation) == 0


def busy(dingtalk) -> threading.Event:
    """A pool of one thread, held until the returned gate is set."""
    dingtalk.platform.adapter.inbox.pool = WorkPool("dingtalk-test", threads=1, queue=0)
    gate = threading.Event()
    assert dingtalk.platform.adapter.inbox.pool.submit(gate.wait)
    return gate


def test_a_full_pool_asks_the_http_sender_to_send_it_again(http, fake):
    """(On the Stream connection: tests/platforms/test_conformance.py.)"""
    gate = busy(http)
    try:
        http.send(http.message("manager4220", "msgBUSY", text="praise @alice kind words"))
    finally:
        gate.set()
    assert "very busy" in http.answer("msgBUSY")
    assert count(http.engine, InboxItem) == 0 and count(http.engine, Praise) == 0


# --- what real DingTalk holds Frontline to ---------------------------------------
def test_a_card_click_is_acknowledged_before_its_slow_work(org):
    """The ACK comes first: the command, the card's redraw and the answer follow."""
    fake = FakeDingTalk(ack_deadline=0.5)
    redraw = fake.held["card/update"] = threading.Event()  # DingTalk slow to redraw
    with streaming(org, fake) as stream:
        stream.say("alice0101", "comp 350 refund #B9 broken vase")
        stream.deliver()
        (card,) = fake.sent("card/createAndDeliver")
        ack = stream.click("manager4220", card["outTrackId"], "approve C1")
        assert ack["code"] == 200 and json.loads(ack["data"])["response"] == {}
        assert fake.late_acks == [] and fake.bad_answers == []
        assert fake.sent("card/update") == []  # the redraw still waits on DingTalk
        redraw.set()
        fake.wait_for(lambda: fake.sent("card/update"), what="the redraw, later")
        assert rows(stream.engine, Compensation)[0].status == "approved"


def test_hr_is_told_a_groups_open_conversation_id(stream, fake, caplog):
    caplog.set_level(logging.INFO, logger="bot.platforms.dingtalk.adapter")
    unknown = "cidNewGroup0000=="
    asked = stream.message("hana0303", "msgWHERE", text="where", group=True, chat=unknown)
    stream.send(asked)
    assert unknown in stream.answer("msgWHERE")  # HR asked: the id is the answer
    assert unknown in caplog.text
    stream.send(stream.message("hana0303", "msgME", text="me", group=True, chat=unknown))
    answer = stream.answer("msgME")
    assert unknown in answer and "Hana" in answer  # a group the config does not know
    stream.send(stream.message("bob0202", "msgBOB", text="哪里", group=True, chat=unknown))
    assert unknown not in stream.answer("msgBOB")  # only HR is told
    stream.send(stream.message("hana0303", "msgKNOWN", text="me", group=True))
    assert ALL_STAFF not in stream.answer("msgKNOWN")  # a configured group: not told


def test_a_recording_sent_as_a_file_is_kept_as_a_recording(stream, fake):
    fake.files["DC-file-1"] = (b"#!AMR\n thanks again", "application/octet-stream")
    stream.say("manager4220", "praise @alice the customer called to thank her")
    stream.send(stream.message("manager4220", "msgFILE", file=("DC-file-1", "thanks.amr")))
    assert "P1" in stream.answer("msgFILE")
    (recording,) = rows(stream.engine, Recording)
    assert recording.data == b"#!AMR\n thanks again" and recording.content_type == "audio/amr"


def test_colleagues_picked_from_the_at_list_are_read_by_their_staff_id(stream):
    """The name DingTalk shows is not a handle: atUsers' staffId says who it is."""
    stream.send(stream.message("manager4220", "msgAT1", text="praise @小李 stayed late",
                               group=True, at=["bob0202"]))
    assert "P1" in stream.answer("msgAT1")
    assert rows(stream.engine, Praise)[0].employee_id == employee(stream.engine, "bob").id
    stream.send(stream.message("manager4220", "msgAT2", text="praise @李雷 kind words",
                               group=True, at=[LILEI]))  # lilei: not linked here
    assert "李雷" in stream.answer("msgAT2") and count(stream.engine, Praise) == 1


def test_an_answer_longer_than_a_message_goes_in_pieces_dingtalk_takes(stream, fake):
    adapter = stream.platform.adapter
    text = "\n".join(f"第{n}行 " + "很好" * 200 for n in range(30))  # ~36,000 bytes
    assert not limits.fits(text)
    message = stream.message("alice0101", "msgLONG", text="me")
    with pytest.raises(DingTalkError):  # DingTalk refuses it whole (460101)
        adapter.api.reply(message["sessionWebhook"], text, None)
    from dingtalk_stream import ChatbotMessage
    adapter._reply(ChatbotMessage.from_dict(message), "alice0101", text)
    sent = [p["text"]["content"] for p in fake.sent("sendBySession")]
    assert len(sent) == 3 and all(limits.fits(piece) for piece in sent)  # 15,000 bytes each
    assert "".join(sent) == text


def test_the_open_api_refuses_a_burst_and_the_client_keeps_below_it(fake):
    with fake.serve() as url, httpx.Client(timeout=10) as client:
        token = client.post(f"{url}/v1.0/oauth2/accessToken", json={
            "appKey": APP_KEY, "appSecret": APP_SECRET}).json()["accessToken"]
        answers = [client.post(f"{url}/v1.0/robot/groupMessages/send", json={
            "robotCode": APP_KEY, "openConversationId": ALL_STAFF, "msgKey": "sampleText",
            "msgParam": json.dumps({"content": "hi"})},
            headers={"x-acs-dingtalk-access-token": token}) for _ in range(3 * limits.API_QPS)]
    refused = [a for a in answers if a.status_code == 429]
    assert refused and refused[0].json()["code"] == limits.QPS_LIMIT
    now, slept = [0.0], []
    api = DingTalkApi("http://unused", APP_KEY, APP_SECRET, APP_KEY, clock=lambda: now[0],
                      sleep=lambda s: (slept.append(s), now.__setitem__(0, now[0] + s)))
    for _ in range(limits.API_QPS + 1):
        api._pace("/v1.0/robot/groupMessages/send")
    assert slept and now[0] >= 1.0  # the 21st call waited for the next second


def test_doctor_names_a_wrong_secret_and_a_missing_card_permission(stream, fake):
    found = asyncio.run(stream.platform.findings())
    assert [f.said.key for f in found] == ["doctor.dingtalk.token", "doctor.dingtalk.robot",
                                           "doctor.dingtalk.scope", "doctor.dingtalk.scope"]
    fake.withhold(limits.CARD_SCOPE)
    (missing,) = [f for f in asyncio.run(stream.platform.findings()) if not f.ok]
    assert missing.said.params["scope"] == "Card.Instance.Write"
    assert "权限管理" in render_message(missing.fix, "zh")
    stream.platform.adapter.api.app_secret = "wrong"
    stream.platform.adapter.api._token = None
    (failed,) = asyncio.run(stream.platform.findings())
    assert not failed.ok and "凭证与基础信息" in render_message(failed.fix, "zh")
