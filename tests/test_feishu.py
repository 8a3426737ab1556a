"""The Feishu adapter over real HTTP on 127.0.0.1: callbacks encrypted and signed here
with Feishu's published scheme, the bot's ASGI app served by uvicorn, and a local
fake of the Feishu open API that lark-oapi is pointed at through its domain."""

import asyncio
import base64
import hashlib
import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from lark_oapi.api.im.v1 import CreateMessageRequest, CreateMessageRequestBody
from lark_oapi.core.utils import AESCipher
from lark_oapi.ws.pb.pbbp2_pb2 import Frame
from sqlalchemy import delete, update

from bot import runtime
from bot.app.web import create_app
from bot.doctor import report
from bot.kit.config import DEMO_CATALOG, parse_config
from bot.kit.doctor import Finding
from bot.kit.outbox import dispatch_pending
from bot.kit.work_pool import WorkPool
from bot.platforms.feishu.adapter import FeishuAdapter
from bot.platforms.feishu.api import FeishuApi, FeishuError, RateLimited, client, send_uuid
from bot.platforms.feishu.limits import (
    APP_SEND_INTERVAL,
    CARD_BODY_MAX,
    CARD_CALLBACK_DEADLINE,
    PER_APP_PER_MINUTE,
    PER_APP_PER_SECOND,
    PER_CHAT_PER_SECOND,
    RANGE_PAGE_MAX,
    RANGE_SCOPE,
    TEXT_BODY_MAX,
    UUID_MAX,
    UUID_WINDOW_SECONDS,
    VISIBLE_TO_ALL,
)
from bot.platforms.feishu.platform import FeishuPlatform
from handlers import linking
from handlers.base import Message
from handlers.i18n import render_message
from storage.engine import transaction
from storage.models import (
    ChatIdentity,
    Compensation,
    InboxItem,
    LedgerEntry,
    Outbox,
    OutboxDelivery,
    Praise,
    Recording,
)
from tests.fake_feishu import (
    CREATE,
    PATCH,
    RESOURCE,
    SECRET,
    UPLOAD,
    CallbackTimedOut,
    FakeFeishu,
)
from tests.http_servers import serve
from tests.platforms.feishu import ALL_STAFF, ENCRYPT_KEY, TOKEN, Bot, encrypt, link, running
from tests.support import balance, count, employee, rows

pytestmark = pytest.mark.http

# Feishu's documented example (事件订阅 → 配置请求地址 → 解密示例): with the Encrypt Key
# "test key", this ciphertext decrypts to "hello world".
DOC_KEY, DOC_CIPHERTEXT = "test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="


def test_the_scheme_matches_feishus_documented_example():
    assert AESCipher(DOC_KEY).decrypt_str(DOC_CIPHERTEXT) == "hello world"  # the SDK
    iv = base64.b64decode(DOC_CIPHERTEXT)[:16]
    assert encrypt(DOC_KEY, "hello world", iv) == DOC_CIPHERTEXT  # and ours, byte for byte


@pytest.fixture
def fake():
    return FakeFeishu()


@pytest.fixture
def feishu(org, fake):
    """The adapter in HTTP mode behind the bot's web app."""
    with running(org, fake) as bot:
        yield bot


def test_the_url_verification_challenge_is_answered(feishu):
    payload = {"challenge": "1b6aef1a-401f-406a-be41-f48911eabcef", "token": TOKEN,
               "type": "url_verification"}
    response = feishu.post(payload)
    assert response.status_code == 200
    assert response.json() == {"challenge": "1b6aef1a-401f-406a-be41-f48911eabcef"}
    assert feishu.post({**payload, "token": "not-ours"}).status_code == 401


def test_commands_in_a_group_come_after_mentioning_the_bot(feishu, fake):
    """(Commands in a one-to-one chat: tests/platforms/test_conformance.py.)"""
    bot = {"key": "@_user_1", "id": {"open_id": "ou_bot"}, "name": "Frontline"}
    assert "Coffee voucher" in feishu.say("ou_bob", "@_user_1 catalog", chat="oc_team",
                                          mentions=[bot])
    # In a group, a colleague's mention is read as their @handle.
    colleague = {"key": "@_user_2", "id": {"open_id": "ou_alice"}, "name": "Alice"}
    said = feishu.say("ou_wang", "@_user_1 praise @_user_2 她找回了我的戒指", chat="oc_team",
                      mentions=[bot, colleague])
    assert "P1" in said and balance(feishu.engine, "alice") == 10
    # Group chatter that does not mention the bot is not a command.
    feishu.post(feishu.message("ou_bob", "me", chat="oc_team"))
    feishu.settle()
    assert len(feishu.replies("oc_team")) == 2
    assert all(reply["receive_id_type"] == "chat_id" and reply["msg_type"] == "text"
               for reply in fake.sent())  # replies go to the chat the command came from


@pytest.mark.parametrize("attack", ["stale", "replayed", "wrong_key", "wrong_token",
                                    "unsigned", "garbage", "superscript_timestamp"])
def test_hostile_callbacks_are_refused_with_no_effect(feishu, fake, attack):
    """(A forged signature: tests/platforms/test_conformance.py.)"""
    payload = feishu.message("ou_wang", "praise @alice hello")
    if attack == "stale":
        response = feishu.post(payload, timestamp=int(time.time()) - 3600)
    elif attack == "replayed":
        body = json.dumps({"encrypt": encrypt(ENCRYPT_KEY, json.dumps(payload))}).encode()
        timestamp, nonce = str(int(time.time())), "n-1"
        headers = {"X-Lark-Request-Timestamp": timestamp, "X-Lark-Request-Nonce": nonce,
                   "X-Lark-Signature": hashlib.sha256(
                       (timestamp + nonce + ENCRYPT_KEY).encode() + body).hexdigest()}
        assert feishu.post(payload, body=body, headers=headers).status_code == 200
        feishu.settle()
        assert count(feishu.engine, Praise) == 1
        response = feishu.post(payload, body=body, headers=headers)
        feishu.settle()
        assert response.status_code == 401
        assert count(feishu.engine, Praise) == 1 and len(fake.sent()) == 1
        return
    elif attack == "wrong_key":
        response = feishu.post(payload, key="another-apps-key")
    elif attack == "wrong_token":
        response = feishu.post(feishu.message("ou_wang", "praise @alice hello") | {
            "header": {**payload["header"], "token": "not-ours"}})
    elif attack == "unsigned":
        response = feishu.post(payload, headers={})
    elif attack == "superscript_timestamp":
        response = feishu.post(payload, timestamp="²")
    else:
        response = feishu.post(payload, body=b"\x00not json")
    feishu.settle()
    assert response.status_code == 401
    assert count(feishu.engine, Praise) == 0 and count(feishu.engine, LedgerEntry) == 0
    assert fake.sent() == []


def test_the_approval_card_and_its_redraw_once_decided(feishu, fake):
    """(Who may decide, and only once: tests/platforms/test_conformance.py.)"""
    feishu.say("ou_alice", "comp 350 refund #B9 broken vase")
    feishu.deliver()
    card = next(m for m in fake.sent() if m["msg_type"] == "interactive")
    assert card["receive_id_type"] == "open_id" and card["receive_id"] == "ou_wang"
    assert "350" in fake.text_of(card) and "B9" in fake.text_of(card)  # the whole decision
    (buttons,) = [e["actions"] for e in card["content"]["elements"] if e["tag"] == "action"]
    assert [b["text"]["content"] for b in buttons] == ["批准", "拒绝", "请求补充"]
    approve, decline, ask = (b["value"] for b in buttons)
    assert approve["command"] == "approve C1" and decline["command"] == "decline C1"
    assert ask["command"] == "ask C1"

    toast = feishu.click("ou_wang", approve, card["message_id"], event_id="click-1")
    assert toast == {"type": "info", "content": "已收到，正在处理…"}  # at once, within 3 s
    feishu.settle()
    (patched,) = fake.sent(PATCH)
    assert patched["message_id"] == card["message_id"]
    assert patched["content"]["config"]["update_multi"] is True  # for everyone who sees it
    assert not [e for e in patched["content"]["elements"] if e["tag"] == "action"]
    redrawn = fake.text_of({"msg_type": "interactive", "content": patched["content"]})
    assert "B9" in redrawn and "已批准 C1" in redrawn

    assert feishu.click("ou_wang", approve, card["message_id"], event_id="click-1")["type"] \
        == "info"  # the same click delivered again: received, no second effect
    feishu.settle()
    assert len(fake.sent(PATCH)) == 1  # the card is redrawn once per decision
    assert [m for m in fake.sent() if m["receive_id"] == "ou_wang"] == [card]  # nor told
    assert rows(feishu.engine, Compensation)[0].status == "approved"
    assert count(feishu.engine, LedgerEntry) == 0
    feishu.deliver()
    assert "approved your C1" in fake.texts_to("ou_alice")[-1]


def test_praise_goes_to_the_group_chat_with_a_touching_button(feishu, fake):
    feishu.say("ou_wang", "praise @bob listened patiently")
    feishu.deliver()
    (post,) = [m for m in fake.sent() if m["receive_id"] == ALL_STAFF]
    assert post["receive_id_type"] == "chat_id" and post["msg_type"] == "interactive"
    assert "Bob Li" in fake.text_of(post)
    (buttons,) = [e["actions"] for e in post["content"]["elements"] if e["tag"] == "action"]
    assert buttons[0]["text"]["content"] == "❤️ Touching · 感动"  # its readers: en, zh
    assert feishu.click("ou_alice", buttons[0]["value"], post["message_id"])["type"] == "info"
    feishu.click("ou_bob", buttons[0]["value"], post["message_id"])
    feishu.settle()  # the outcome, to the person who clicked
    assert "P1" in fake.texts_to("ou_alice")[-1]
    assert rows(feishu.engine, Praise)[0].touching_count == 1  # bob's own praise: not his
    assert "own praise" in fake.texts_to("ou_bob")[-1]


def test_a_send_whose_answer_was_lost_is_not_posted_twice(feishu, fake):
    feishu.say("ou_alice", "comp 350 refund broken")
    assert feishu.deliver() == 1
    # A worker that sent it and died before recording it: the row is due again.
    with transaction(feishu.engine) as session:
        session.execute(delete(OutboxDelivery))
        session.execute(update(Outbox).values(delivered_at=None, claimed_until=None))
    assert feishu.deliver() == 1
    assert len([m for m in fake.sent() if m["receive_id"] == "ou_wang"]) == 1  # the uuid


def test_the_token_is_cached_and_renewed_once_when_revoked(feishu, fake):
    for n in range(3):
        feishu.say("ou_alice", f"comp {300 + n} refund case {n}")
    feishu.deliver()
    assert fake.tokens_issued == 1
    fake.expire_tokens()  # revoked early
    feishu.say("ou_alice", "comp 400 refund another")
    assert fake.tokens_issued == 2


def test_an_audio_message_after_praise_becomes_its_recording(feishu, fake):
    fake.resources[("om_voice", "file_v3_voice")] = b"OggS opus thanks"
    feishu.say("ou_wang", "praise @alice the customer called to thank her")
    said = feishu.say("ou_wang", "", kind="audio", message_id="om_voice",
                      content={"file_key": "file_v3_voice", "duration": 3000})
    assert "录音已保存到 P1" in said
    (recording,) = rows(feishu.engine, Recording)
    assert recording.data == b"OggS opus thanks" and recording.content_type == "audio/ogg"
    assert recording.source == "feishu:file:file_v3_voice"
    assert rows(feishu.engine, Praise)[0].attachment_ref == f"recording:{recording.id}"


def test_an_audio_message_that_cannot_be_fetched_is_explained(feishu, fake):
    feishu.say("ou_wang", "praise @alice the customer called to thank her")
    said = feishu.say("ou_wang", "", kind="audio", message_id="om_gone",
                      content={"file_key": "file_v3_gone", "duration": 3000})
    assert "稍后再试" in said and count(feishu.engine, Recording) == 0


def test_a_bot_menu_click_runs_its_command(feishu, fake):
    menu = feishu.event("application.bot.menu_v6", {
        "operator": {"operator_name": "Alice", "operator_id": {"open_id": "ou_alice"}},
        "event_key": "me", "timestamp": int(time.time())})
    assert feishu.post(menu).status_code == 200
    assert feishu.post(menu).status_code == 200  # delivered again: answered once
    feishu.settle()
    (answer,) = fake.texts_to("ou_alice")
    assert "Authority: up to 200.00 CNY" in answer


def frame(payload: dict, message_id: str) -> bytes:
    """An event as Feishu pushes it down the long connection (the SDK's protobuf)."""
    pushed = Frame()
    pushed.SeqID, pushed.LogID, pushed.service, pushed.method = 1, 1, 7, 1  # a DATA frame
    for key, value in (("type", "event"), ("message_id", message_id), ("trace_id", "tr"),
                       ("sum", "1"), ("seq", "0")):
        header = pushed.headers.add()
        header.key, header.value = key, value
    pushed.payload = json.dumps(payload).encode()
    return pushed.SerializeToString()


def answers(fake) -> dict[str, dict]:
    """The client's answers to pushed frames, by the pushed message id."""
    found = {}
    for data in fake.frames_in:
        answer = Frame()
        answer.ParseFromString(data)
        headers = {h.key: h.value for h in answer.headers}
        if answer.method == 1 and "message_id" in headers:
            found[headers["message_id"]] = json.loads(answer.payload)
    return found


def test_long_connection_mode_receives_events_and_card_clicks(org, fake, monkeypatch):
    link(org)
    monkeypatch.setenv("FEISHU_APP_SECRET", SECRET)
    app_id = f"cli_{uuid.uuid4().hex[:16]}"
    with fake.serve() as api_url:
        config = parse_config({"catalog": DEMO_CATALOG, "platforms": {"feishu": {
            "enabled": True, "app_id": app_id, "domain": api_url}}})  # long_connection
        wired = runtime.wire(org, config)
        (platform,) = wired.platforms
        assert platform.router() is None  # no public URL needed
        helper = Bot("", org, platform.adapter, wired.channels, fake)
        with TestClient(create_app(wired.routers, wired.on_start, wired.on_stop)):
            fake.wait_for(lambda: fake.connections == 1 and platform.ready(),
                          what="the long connection")
            fake.frames_out.append(frame(helper.message("ou_alice", "comp 350 refund #B9 vase"),
                                         "f-1"))
            fake.wait_for(lambda: fake.texts_to("oc_p2p_ou_alice"), what="the reply")
            assert "C1" in fake.texts_to("oc_p2p_ou_alice")[0]
            assert dispatch_pending(org, wired.channels) == 1
            card = next(m for m in fake.sent() if m["msg_type"] == "interactive")
            (buttons,) = [e["actions"] for e in card["content"]["elements"]
                          if e["tag"] == "action"]
            click = helper.event("card.action.trigger", {
                "operator": {"open_id": "ou_wang"}, "token": "c-1",
                "action": {"value": buttons[0]["value"], "tag": "button"},
                "context": {"open_message_id": card["message_id"]}})
            fake.frames_out.append(frame(click, "f-2"))
            answer = fake.wait_for(lambda: answers(fake).get("f-2"), what="the click's answer")
            assert answer["code"] == 200
            toast = json.loads(base64.b64decode(answer["data"]))["toast"]
            assert toast["type"] == "info"  # received; the command runs after
            fake.wait_for(lambda: fake.sent(PATCH), what="the card's redraw")
            assert rows(org, Compensation)[0].status == "approved"
            assert answers(fake)["f-1"]["code"] == 200
            assert sorted(i.key for i in rows(org, InboxItem)) == [
                "feishu:card:ev-2", "feishu:event:ev-1"]  # stored

            platform.adapter.inbox.pool = WorkPool("feishu-test", threads=1, queue=0)
            gate = threading.Event()
            assert platform.adapter.inbox.pool.submit(gate.wait)  # its one thread is busy
            try:
                fake.frames_out.append(frame(helper.message("ou_alice", "me"), "f-3"))
                answer = fake.wait_for(lambda: answers(fake).get("f-3"), what="the answer")
            finally:
                gate.set()
            assert answer["code"] == 500  # refused: Feishu pushes it again
            assert count(org, InboxItem) == 2
        fake.wait_for(lambda: fake.connections == 0, what="the connection to close")
        assert not platform.ready()


def test_a_new_open_id_links_with_a_one_time_code(feishu):
    assert "not registered" in feishu.say("ou_new_bob", "me")
    with transaction(feishu.engine) as session:
        code = linking.issue_code(session, employee(feishu.engine, "bob"), "link:feishu",
                                  datetime.now(UTC), timedelta(hours=1))
    assert "linked to you" in feishu.say("ou_new_bob", f"绑定 {code}")
    assert "Bob Li" in feishu.say("ou_new_bob", "me")
    assert rows(feishu.engine, ChatIdentity, platform_user_id="ou_new_bob")[0].employee_id == \
        employee(feishu.engine, "bob").id


def test_a_persons_union_id_is_kept_from_their_first_event(feishu, fake):
    (wang,) = rows(feishu.engine, ChatIdentity, platform_user_id="ou_wang")
    assert wang.union_id is None  # linked by open_id alone (the directory's feishu_id)
    feishu.say("ou_wang", "me")
    (wang,) = rows(feishu.engine, ChatIdentity, platform_user_id="ou_wang")
    assert wang.union_id == fake.ids("ou_wang")["union_id"]
    # One who links with a code has it kept from their next message.
    assert "not registered" in feishu.say("ou_zhou", "me")
    with transaction(feishu.engine) as session:
        code = linking.issue_code(session, employee(feishu.engine, "bob"), "link:feishu",
                                  datetime.now(UTC), timedelta(hours=1))
    feishu.say("ou_zhou", f"link {code}")
    feishu.say("ou_zhou", "me")
    (bob,) = rows(feishu.engine, ChatIdentity, platform_user_id="ou_zhou")
    assert bob.union_id == fake.ids("ou_zhou")["union_id"]


def test_people_known_by_union_id_in_a_recreated_app_are_recognised(feishu, fake):
    """The company re-created the app: the same people arrive with new open_ids, and the
    same union_ids (one developer's apps). The writer and a colleague they mention are
    both known, and their identities now hold the new open_ids."""
    feishu.say("ou_wang", "me")
    feishu.say("ou_alice", "me")
    wang, alice = fake.in_new_app("ou_wang"), fake.in_new_app("ou_alice")
    bot = {"key": "@_user_1", "id": fake.ids("ou_bot"), "name": "Frontline"}
    colleague = {"key": "@_user_2", "id": fake.ids(alice), "name": "Alice"}
    said = feishu.say(wang, "@_user_1 praise @_user_2 她找回了我的戒指", chat="oc_team",
                      mentions=[bot, colleague])
    assert "P1" in said and balance(feishu.engine, "alice") == 10
    for handle, open_id in (("wang", wang), ("alice", alice)):
        (identity,) = rows(feishu.engine, ChatIdentity, employee_id=employee(
            feishu.engine, handle).id)
        assert (identity.platform_user_id, identity.union_id) == (
            open_id, fake.ids(open_id)["union_id"])
    assert "Wang" in feishu.say(wang, "me")  # one-to-one, as themselves


def test_the_open_id_a_person_writes_from_takes_their_union_id_from_another_identity(
        feishu, fake):
    """A union_id on the wrong identity (bob's, as if HR had linked wang's old open_id
    to bob) moves to the identity wang writes from: his linked open_id is his."""
    union_id = fake.ids("ou_wang")["union_id"]
    with transaction(feishu.engine) as session:
        session.execute(update(ChatIdentity).where(
            ChatIdentity.platform_user_id == "ou_bob").values(union_id=union_id))
    feishu.say("ou_wang", "me")
    assert [(i.platform_user_id, i.union_id) for i in rows(
        feishu.engine, ChatIdentity, platform="feishu") if i.platform_user_id in (
        "ou_wang", "ou_bob")] == [("ou_wang", union_id), ("ou_bob", None)]


def test_a_praise_recording_follows_its_post_into_the_group_once(feishu, fake):
    fake.resources[("om_voice", "file_v3_voice")] = b"OggS opus thanks"
    feishu.say("ou_wang", "praise @alice the customer called to thank her")
    feishu.say("ou_wang", "", kind="audio", message_id="om_voice",
               content={"file_key": "file_v3_voice", "duration": 3000})
    praise = next(o for o in rows(feishu.engine, Outbox) if o.message_key == "broadcast.praise")
    (recording,) = rows(feishu.engine, Recording)
    with transaction(feishu.engine) as session:  # the broadcast as it is sent with a recording
        row = session.get(Outbox, praise.id)
        row.params = {**row.params, "recording_id": recording.id}
    fake.fail(UPLOAD, status=500)
    feishu.deliver()
    group = [m for m in fake.sent() if m["receive_id"] == ALL_STAFF]
    assert [m["msg_type"] for m in group] == ["interactive"]  # the post went out alone
    feishu.deliver(now=lambda: datetime.now(UTC) + timedelta(minutes=5))
    group = [m for m in fake.sent() if m["receive_id"] == ALL_STAFF]
    assert [m["msg_type"] for m in group] == ["interactive", "audio"]  # not posted again
    (upload,) = fake.uploads.values()
    assert upload == {"file_type": "opus", "file_name": "P1.opus", "data": b"OggS opus thanks"}
    assert group[1]["content"] == {"file_key": "file_v3_up1"}


def test_sends_to_one_chat_are_paced_to_feishus_limit(fake):
    app_id = f"cli_{uuid.uuid4().hex[:16]}"
    waited: list[float] = []
    clock = Clock()

    def pause(seconds: float) -> None:  # the api's pause: the driven clock moves on
        waited.append(seconds)
        clock.advance(seconds)

    with fake.serve() as api_url:
        fake.clock = clock
        api = FeishuApi(client(app_id, SECRET, api_url), clock=clock, sleep=pause)
        for n in range(3):
            api.send_text("chat_id", ALL_STAFF, f"post {n}", f"u-{n}")
        api.send_text("chat_id", "oc_other", "elsewhere", "u-9")
    # 5 a second in one chat; another chat only keeps the app's 50 a second
    assert waited == pytest.approx([0.2, 0.2, APP_SEND_INTERVAL])
    assert len(fake.sent()) == 4


def test_feishus_rate_limit_is_told_from_a_failure(fake):
    """Feishu's rate limit (HTTP 429, code 99991400) raises RateLimited, so the outbox
    sends it again later (tests/platforms/test_conformance.py); nothing was posted."""
    with fake.serve() as api_url:
        api = FeishuApi(client(f"cli_{uuid.uuid4().hex[:16]}", SECRET, api_url))
        fake.fail(CREATE, status=429, error=99991400, retry_after=1)
        with pytest.raises(RateLimited, match="99991400"):
            api.send_text("open_id", "ou_wang", "hello", "u-1")
        api.send_text("open_id", "ou_wang", "hello", "u-1")
    assert fake.texts_to("ou_wang") == ["hello"]


def test_events_a_bot_receives_anyway_are_acknowledged(feishu):
    read = feishu.event("im.message.message_read_v1", {"reader": {"reader_id": {
        "open_id": "ou_alice"}, "read_time": "1"}, "message_id_list": ["om_1"]})
    assert feishu.post(read).status_code == 200


def test_decline_from_the_card(feishu, fake):
    feishu.say("ou_alice", "comp 350 refund #B9 broken vase")
    feishu.deliver()
    card = next(m for m in fake.sent() if m["msg_type"] == "interactive")
    (buttons,) = [e["actions"] for e in card["content"]["elements"] if e["tag"] == "action"]
    feishu.click("ou_wang", buttons[1]["value"], card["message_id"])
    feishu.settle()
    assert rows(feishu.engine, Compensation)[0].status == "declined"
    (patched,) = fake.sent(PATCH)
    assert "已拒绝 C1" in fake.text_of({"msg_type": "interactive",
                                      "content": patched["content"]})


def test_feishu_and_lark_are_one_package_with_another_domain():
    from bot.platforms.feishu.settings import Settings
    assert Settings().base_url() == "https://open.feishu.cn"
    assert Settings(domain="lark").base_url() == "https://open.larksuite.com"
    assert Settings(domain="https://open.example.cn").base_url() == "https://open.example.cn"


# --- the strict fake's rules, and Frontline keeping them --------------------------------
REAL_CHAT = "oc_" + "a5b0c3d2e1f0a9b8c7d6e5f4a3b2c1d0"  # a real oc_ id: 35 characters


class Clock:
    """The time the api paces by and the fake counts by: a sleep moves it on."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def paced(fake: FakeFeishu, api_url: str, clock: Clock | None = None) -> FeishuApi:
    clock = clock or Clock()
    fake.clock = clock
    return FeishuApi(client(f"cli_{uuid.uuid4().hex[:16]}", SECRET, api_url), clock=clock,
                     sleep=clock.advance)


def test_a_posts_recording_is_not_taken_for_the_post_with_real_chat_ids(fake):
    """Outbox id 1000 and a 35-character oc_ id: the post's uuid fills Feishu's 50
    characters, and its recording's must still be another."""
    assert len(REAL_CHAT) == 35
    with fake.serve() as api_url:
        api = paced(fake, api_url)
        api.send_card("chat_id", REAL_CHAT, {"elements": []}, f"frontline-1000-{REAL_CHAT}")
        api.send("chat_id", REAL_CHAT, "audio", {"file_key": "file_v3_up1"},
                 f"frontline-1000-{REAL_CHAT}-rec")
        api.send("chat_id", REAL_CHAT, "audio", {"file_key": "file_v3_up1"},
                 f"frontline-1000-{REAL_CHAT}-rec")  # its retry: de-duplicated
    sent = fake.sent()
    assert [m["msg_type"] for m in sent] == ["interactive", "audio"]
    assert all(len(m["uuid"]) <= UUID_MAX for m in sent) and sent[0]["uuid"] != sent[1]["uuid"]
    assert send_uuid("frontline-1") == "frontline-1"  # short ones stay readable


def test_the_fake_keeps_one_message_per_uuid_for_an_hour_and_refuses_a_long_uuid(fake):
    clock = Clock()
    with fake.serve() as api_url:
        api = paced(fake, api_url, clock)
        first = api.send_text("open_id", "ou_wang", "hello", "u-1")
        assert api.send_text("open_id", "ou_wang", "hello", "u-1") == first  # nothing sent
        clock.now += UUID_WINDOW_SECONDS + 1
        assert api.send_text("open_id", "ou_wang", "hello", "u-1") != first  # an hour on
        body = (CreateMessageRequestBody.builder().receive_id("ou_wang").msg_type("text")
                .content('{"text":"x"}').uuid("u" * (UUID_MAX + 1)).build())
        with pytest.raises(FeishuError, match="99992402"):
            api._call(api.sdk.im.v1.message.create, lambda: CreateMessageRequest.builder()
                      .receive_id_type("open_id").request_body(body).build())
    assert fake.texts_to("ou_wang") == ["hello", "hello"]


def test_the_fake_holds_feishus_rate_limits_and_frontline_keeps_to_them(fake):
    clock = Clock()
    with fake.serve() as api_url:
        api = paced(fake, api_url, clock)
        for n in range(PER_CHAT_PER_SECOND + 3):  # paced: 5 a second into one chat
            api.send_text("chat_id", REAL_CHAT, f"post {n}", f"p-{n}")
        assert len(fake.texts_to(REAL_CHAT)) == PER_CHAT_PER_SECOND + 3
        for n in range(PER_APP_PER_SECOND + 10):  # paced: 50 a second for the whole app
            api.send_text("open_id", f"ou_paced_{n}", "hi", f"ap-{n}")
        assert sum(len(fake.texts_to(f"ou_paced_{n}")) for n in range(
            PER_APP_PER_SECOND + 10)) == PER_APP_PER_SECOND + 10
        clock.now += 1  # a quiet second
        unpaced = FeishuApi(api.sdk, clock=clock, sleep=lambda s: None)
        unpaced._pace = lambda receive_id: None  # a sender that does not keep to it
        for n in range(PER_CHAT_PER_SECOND):
            unpaced.send_text("chat_id", "oc_other", f"burst {n}", f"b-{n}")
        with pytest.raises(RateLimited, match="99991400"):
            unpaced.send_text("chat_id", "oc_other", "one too many", "b-x")
        clock.now += 1
        for n in range(PER_APP_PER_SECOND):  # 50 a second for the whole app
            unpaced.send_text("open_id", f"ou_{n}", "hi", f"a-{n}")
        with pytest.raises(RateLimited, match="99991400"):
            unpaced.send_text("open_id", "ou_last", "hi", "a-x")
        clock.now += 61  # a quiet minute; then 50 a second for 20 seconds: 1,000
        for second in range(PER_APP_PER_MINUTE // PER_APP_PER_SECOND):
            for n in range(PER_APP_PER_SECOND):
                unpaced.send_text("open_id", f"ou_{n}", "hi", f"m-{second}-{n}")
            clock.now += 1
        with pytest.raises(RateLimited, match="99991400"):  # 1,000 a minute for the app
            unpaced.send_text("open_id", "ou_last", "hi", "m-x")


def test_a_text_longer_than_feishu_takes_goes_in_pieces_and_the_fake_refuses_more(fake):
    line = "感谢你耐心地帮助每一位顾客。" * 20 + "\n"
    text = line * (TEXT_BODY_MAX // len(line.encode()) + 50)  # over 150 KB
    with fake.serve() as api_url:
        api = paced(fake, api_url)
        api.send_text("open_id", "ou_wang", text, "long-1")
        pieces = fake.texts_to("ou_wang")
        assert len(pieces) == 2 and "\n".join(pieces).split() == text.split()
        with pytest.raises(FeishuError, match="230025"):  # a card is held to 30 KB
            api.send_card("open_id", "ou_wang", {"elements": [
                {"tag": "div", "text": {"tag": "plain_text", "content": "长" * CARD_BODY_MAX}}]},
                "card-1")


def test_a_card_click_is_answered_within_3_s_however_long_its_command_takes(feishu, fake,
                                                                           monkeypatch):
    feishu.say("ou_alice", "comp 350 refund #B9 broken vase")
    feishu.deliver()
    card = next(m for m in fake.sent() if m["msg_type"] == "interactive")
    (buttons,) = [e["actions"] for e in card["content"]["elements"] if e["tag"] == "action"]
    gate = threading.Event()
    run = feishu.adapter.inbound.run

    def slow(*args, **kwargs):  # the delay hook: the command waits until the test says
        gate.wait(10)
        return run(*args, **kwargs)
    monkeypatch.setattr(feishu.adapter.inbound, "run", slow)
    try:
        toast = feishu.click("ou_wang", buttons[0]["value"], card["message_id"])  # ≤ 3 s
        assert toast["type"] == "info" and fake.sent(PATCH) == []  # not yet run
    finally:
        gate.set()
    feishu.settle()
    assert rows(feishu.engine, Compensation)[0].status == "approved"
    assert len(fake.sent(PATCH)) == 1


def test_the_fake_times_a_slow_card_callback_out_at_3_s(fake):
    """The fake's own rule, against a bot that answers only when the test lets it (the
    deadline shortened from Feishu's 3 s, so that the test does not wait them out)."""
    import asyncio

    from fastapi import FastAPI

    assert fake.callback_deadline == CARD_CALLBACK_DEADLINE == 3.0
    fake.callback_deadline = 0.2
    answer = threading.Event()
    late = FastAPI()

    @late.post("/feishu/events")
    async def answer_late():
        await asyncio.to_thread(answer.wait, 10)
        return {}
    with serve(late) as url:
        try:
            with pytest.raises(CallbackTimedOut):
                fake.callback(f"{url}/feishu/events", b"{}", {})
        finally:
            answer.set()  # the late answer goes before the server stops


def test_a_rich_text_message_is_read_as_its_text_with_its_mentions(feishu):
    content = {"title": "", "content": [[
        {"tag": "text", "text": "praise "}, {"tag": "at", "user_id": "@_user_1",
                                             "user_name": "Alice"},
        {"tag": "text", "text": " 她找回了我的戒指"}]]}
    alice = {"key": "@_user_1", "id": {"open_id": "ou_alice"}, "name": "Alice"}
    said = feishu.say("ou_wang", "", kind="post", content=content, mentions=[alice])
    assert "P1" in said and balance(feishu.engine, "alice") == 10
    stranger = {"key": "@_user_1", "id": {"open_id": "ou_nobody"}, "name": "Zhou Xun"}
    refused = feishu.say("ou_wang", "", kind="post", content=content, mentions=[stranger])
    assert refused == render_message(Message("error.mention_unlinked", {"name": "Zhou Xun"}),
                                     "zh")  # refused by name
    assert count(feishu.engine, Praise) == 1


def test_a_colleague_mentioned_in_a_group_who_is_not_linked_is_refused_by_name(feishu):
    bot = {"key": "@_user_1", "id": {"open_id": "ou_bot"}, "name": "Frontline"}
    nobody = {"key": "@_user_2", "id": {"open_id": "ou_nobody"}, "name": "Zhou Xun"}
    said = feishu.say("ou_wang", "@_user_1 praise @_user_2 kind words", chat="oc_team",
                      mentions=[bot, nobody])
    assert said == render_message(Message("error.mention_unlinked", {"name": "Zhou Xun"}), "zh")
    assert count(feishu.engine, Praise) == 0


def test_a_forged_request_is_refused_without_a_traceback(feishu, caplog):
    caplog.set_level(logging.WARNING)
    payload = feishu.message("ou_wang", "praise @alice hello")
    for forged in (feishu.post(payload, signing_key="another-apps-key"),
                   feishu.post(payload, key="another-apps-key"),
                   feishu.post(payload, headers={})):
        assert forged.status_code == 401
    feishu.settle()
    assert count(feishu.engine, Praise) == 0
    assert not [r for r in caplog.records if r.exc_info or r.exc_text], \
        [r.getMessage() for r in caplog.records]
    assert sum("Feishu request refused" in r.getMessage() for r in caplog.records) == 3


def test_a_voice_message_needs_the_message_read_scope_and_doctor_names_it(feishu, fake):
    fake.resources[("om_voice", "file_v3_voice")] = b"OggS opus thanks"
    fake.withhold("im:message")
    feishu.say("ou_wang", "praise @alice the customer called to thank her")
    said = feishu.say("ou_wang", "", kind="audio", message_id="om_voice",
                      content={"file_key": "file_v3_voice", "duration": 3000})
    assert said == render_message(Message("feishu.failed"), "zh") and not fake.sent(RESOURCE)
    found = asyncio.run(feishu.platform.findings())
    (failing,) = [f for f in found if not f.ok]
    assert failing.said.params == {"scope": "im:message"}
    fix = render_message(failing.fix, "zh")
    assert "权限管理" in fix and "im:message" in fix and "发布" in fix
    assert render_message(failing.fix, "zh-Hant").count("權限管理") == 1


def test_doctor_names_wrong_credentials_and_an_app_not_enabled(feishu, fake):
    fake.activate_status = 3  # installed, not yet enabled
    found = asyncio.run(feishu.platform.findings())
    assert [f.said.key for f in found if not f.ok] == ["doctor.feishu.active.failed"]
    bad = FeishuPlatform(FeishuAdapter(feishu.engine, feishu.adapter.config, FeishuApi(
        client(f"cli_{uuid.uuid4().hex[:16]}", "not-the-secret", feishu.fake_url))))
    (finding,) = asyncio.run(bad.findings())
    assert not finding.ok and finding.fix.key == "doctor.feishu.fix.token"
    assert "凭证与基础信息" in render_message(finding.fix, "zh")


def test_doctor_names_an_app_available_to_only_some_of_the_company(feishu, fake):
    def failing() -> Finding:
        (finding,) = [f for f in asyncio.run(feishu.platform.findings()) if not f.ok]
        return finding

    found = asyncio.run(feishu.platform.findings())
    assert found[-1].ok and found[-1].said.key == "doctor.feishu.range"  # all staff
    fake.narrow(departments=["od-store-1", "od-store-2"], users=["ou_wang"])
    narrow = failing()
    assert (narrow.said.key, narrow.said.params) == (
        "doctor.feishu.range.narrow", {"departments": "2", "groups": "0", "people": "1"})
    assert "✗ feishu: the app is available to only part of the company" in report(
        [narrow], "en")
    fix = render_message(narrow.fix, "zh")
    assert "可用范围" in fix and "全部成员" in fix and "版本管理与发布" in fix
    assert "可用範圍" in render_message(narrow.fix, "zh-Hant")
    fake.narrow(users=[f"ou_{n}" for n in range(RANGE_PAGE_MAX + 1)])  # more than a page
    assert failing().said.params["people"] == f"{RANGE_PAGE_MAX}+"
    fake.narrow()  # nobody
    assert failing().said.key == "doctor.feishu.range.none"
    fake.range = {"is_visible_to_all": VISIBLE_TO_ALL,
                  "invisible_departments": [{"id": "od-head-office"}]}
    assert failing().said.params == {"departments": "1", "groups": "0", "people": "0"}
    fake.withhold(RANGE_SCOPE)  # the range cannot be read: the scope that reads it named
    unread = failing()
    assert unread.said.key == "doctor.feishu.range.failed" and "99991672" in \
        unread.said.params["error"]
    assert RANGE_SCOPE in render_message(unread.fix, "en")
