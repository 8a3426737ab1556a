"""DingTalk over real traffic on 127.0.0.1: the platform built from its config, in
Stream mode through the official SDK's client connected to a local fake gateway
(CALLBACK frames pushed, acks recorded), in HTTP mode through signed callbacks on
the bot's web app; the open API and custom robots are the local fake's."""

import base64
import json
import threading
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.app.web import create_app
from bot.kit.work_pool import WorkPool
from bot.platforms.dingtalk.api import sign
from bot.platforms.dingtalk.crypto import DingTalkCrypto
from bot.platforms.dingtalk.platform import build
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
        with serve(create_app([platform.router()])) as bot_url:
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
    assert fake.sent("card/update") == []

    stream.click("manager4220", track, "approve C1", callback="cb-approve")
    (update,) = fake.sent("card/update")
    assert update["outTrackId"] == track and fake.cards[track]["buttons"] == "hide"
    assert "C1" in fake.cards[track]["decided"]

    again = stream.click("manager4220", track, "approve C1", callback="cb-approve")
    assert again["code"] == 200  # DingTalk sent the same callback again
    stream.click("manager4220", track, "decline C1")  # a second click
    assert len(fake.sent("card/update")) == 2  # the redelivery redraws the same, no more
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


def test_http_approvals_go_as_messages_with_the_commands(http, fake):
    http.say("alice0101", "comp 350 refund #B9 broken vase")
    http.deliver()
    (sent,) = [p for p in fake.sent() if p["userId"] == "manager4220"]
    assert sent["msgKey"] == "sampleMarkdown" and "approve C1" in sent["msgParam"]["text"]
    assert fake.sent("card/createAndDeliver") == []


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
