"""The WeCom adapter over real HTTP on 127.0.0.1: encrypted callbacks built here, the
bot's ASGI app served by uvicorn, and a local fake of the WeCom API."""

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.kit.config import parse_config
from bot.kit.outbox import dispatch_pending
from bot.kit.work_pool import WorkPool
from bot.platforms.wecom import limits
from bot.platforms.wecom.api import ROBOT_LIMIT, RateLimited, WeComApi, pieces
from bot.platforms.wecom.crypto import WeComCrypto, parse_xml
from bot.platforms.wecom.platform import WeComPlatform
from handlers.dispatch import execute
from handlers.grammar import parse
from handlers.i18n import render_message, render_reply
from storage.models import Compensation, LedgerEntry, Outbox, OutboxDelivery, Praise, Recording
from tests.fake_wecom import AGENT_ID, CORP_ID, SECRET, FakeWeCom
from tests.platforms.wecom import AES_KEY, TOKEN, Bot, picked, running, text_callback
from tests.support import count, employee, held, rows, wait_until

pytestmark = pytest.mark.http


@pytest.fixture
def fake():
    return FakeWeCom()


@pytest.fixture
def wecom(org, fake):
    """The adapter behind its callback URL, the fake WeCom API behind the adapter."""
    with running(org, fake) as bot:
        yield bot


def test_url_verification_answers_the_bare_echostr(wecom):
    timestamp = str(int(time.time()))
    echostr = Bot.crypto.encrypt("8224915623452845")
    response = httpx.get(f"{wecom.url}/wecom/callback", params={
        "msg_signature": Bot.crypto.signature(timestamp, "99", echostr), "timestamp": timestamp,
        "nonce": "99", "echostr": echostr})
    assert response.status_code == 200 and response.content == b"8224915623452845"
    forged = httpx.get(f"{wecom.url}/wecom/callback", params={
        "msg_signature": "0" * 40, "timestamp": timestamp, "nonce": "99", "echostr": echostr})
    assert forged.status_code == 403


def test_commands_in_both_languages_get_passive_replies(wecom):
    assert "授权" in wecom.say("WangFang", "我")  # wang reads Chinese
    assert "Authority: up to 200.00 CNY" in wecom.say("AliceChen", "me")
    assert "recorded on your own authority" in wecom.say("AliceChen", "comp 50 gift flowers")
    assert "Usage: comp" in wecom.say("AliceChen", "comp lots")
    assert "Coffee voucher" in wecom.say("BobLi", "catalog")
    assert "not registered" in wecom.say("Stranger", "me")


def test_an_approval_card_has_wecom_buttons_replaced_once_decided(wecom, fake):
    """(Who may decide, and only once: tests/platforms/test_conformance.py.)"""
    wecom.say("AliceChen", "comp 350 refund #B9 broken vase")
    wecom.deliver()
    card = next(m for m in fake.sent() if m["msgtype"] == "template_card")
    assert card["touser"] == "WangFang"
    template = card["template_card"]
    assert template["card_type"] == "button_interaction"
    assert [b["key"] for b in template["button_list"]] == ["approve C1", "decline C1",
                                                           "ask C1"]
    assert [b["text"] for b in template["button_list"]] == ["批准", "拒绝", "请求补充"]
    task = template["task_id"]

    wecom.click("BobLi", "approve C1", task)  # refused: the card stays as it is
    assert fake.sent("message/update_template_card") == []

    wecom.click("WangFang", "approve C1", task)
    (update,) = fake.sent("message/update_template_card")
    assert update["userids"] == ["WangFang"] and update["response_code"] == f"rc-{task}-WangFang"
    assert "C1" in update["button"]["replace_name"]

    wecom.click("WangFang", "decline C1", task)  # decided already: no second update
    assert len(fake.sent("message/update_template_card")) == 1
    wecom.deliver()
    told = [m for m in fake.sent() if m["touser"] == "AliceChen"]
    assert "approved your C1" in told[-1]["text"]["content"]


def test_asking_for_more_round_trip_on_wecom(wecom, fake):
    """The card's 请求补充 button asks the requester, the request stays open, the answer
    comes back to the approver on a new card with the buttons, and that card decides."""
    wecom.say("AliceChen", "comp 350 refund #B9 broken vase")
    wecom.deliver()
    (card,) = [m for m in fake.sent() if m["msgtype"] == "template_card"]
    task = card["template_card"]["task_id"]
    assert "Only the assigned approver" in wecom.click("BobLi", "ask C1", task)
    asked = wecom.click("WangFang", "ask C1", task)
    assert "已请 Alice Chen 补充 C1 的信息" in asked
    (update,) = fake.sent("message/update_template_card")
    assert update["userids"] == ["WangFang"] and "C1" in update["button"]["replace_name"]
    assert rows(wecom.engine, Compensation)[0].status == "pending"
    wecom.deliver()
    question = [m for m in fake.sent() if m["touser"] == "AliceChen"][-1]
    assert question["msgtype"] == "text"
    assert "needs more information about your C1" in question["text"]["content"]
    assert "answer C1" in question["text"]["content"]
    assert "C1 is not your request" in wecom.say("BobLi", "answer C1 it was me")
    assert "went to the approver" in wecom.say("AliceChen", "answer C1 order 77, a gift")
    wecom.deliver()
    back = [m for m in fake.sent() if m["touser"] == "WangFang"][-1]
    assert back["msgtype"] == "template_card"
    assert "order 77, a gift" in fake.text_of(back)
    buttons = back["template_card"]["button_list"]
    assert [b["key"] for b in buttons] == ["approve C1", "decline C1", "ask C1"]
    assert back["template_card"]["task_id"] != task  # a new card, its own buttons
    assert "已批准 C1" in wecom.click("WangFang", "approve C1",
                                      back["template_card"]["task_id"])
    assert rows(wecom.engine, Compensation)[0].status == "approved"
    history = wecom.say("AliceChen", "history C1")
    assert "王芳 Wang Fang asked Alice Chen: -" in history
    assert "Alice Chen answered: order 77, a gift" in history
    assert "王芳 Wang Fang approved" in history


def test_a_voice_message_after_praise_becomes_its_recording(wecom, fake):
    fake.media["MEDIA-1"] = b"#!AMR\n recorded thanks"
    wecom.say("WangFang", "praise @alice the customer called to thank her")
    response = wecom.post(
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[WangFang]]>"
        f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[voice]]>"
        "</MsgType><MediaId><![CDATA[MEDIA-1]]></MediaId><Format><![CDATA[amr]]></Format>"
        "<MsgId>5001</MsgId><AgentID>1000002</AgentID></xml>")
    assert "录音已保存到 P1" in wecom.answer("WangFang", response, before=1)
    (recording,) = rows(wecom.engine, Recording)
    assert recording.data == b"#!AMR\n recorded thanks" and recording.content_type == "audio/amr"
    assert rows(wecom.engine, Praise)[0].attachment_ref == f"recording:{recording.id}"


def test_praise_broadcast_goes_to_the_group_robot(wecom, fake):
    wecom.say("WangFang", "praise @bob listened patiently")
    wecom.deliver()
    (key, post), = fake.robot_posts()
    assert key == "key-of-ROBOT_ALL" and post["msgtype"] == "markdown"
    assert "Bob Li" in post["markdown"]["content"]


def test_group_robot_limit_defers_the_rest(wecom, fake):
    for n in range(22):
        wecom.say("WangFang", f"praise @bob thanks number {n}")
    wecom.deliver()
    assert len(fake.robot_posts()) == 20  # WeCom allows 20 a minute per robot
    pending = [o for o in rows(wecom.engine, Outbox) if o.delivered_at is None]
    assert len(pending) == 2 and all("group robot" in o.last_error for o in pending)


def test_token_is_cached_and_renewed_once_when_it_expires(wecom, fake):
    for n in range(3):
        wecom.say("AliceChen", f"comp {300 + n} refund case {n}")
    wecom.deliver()
    assert fake.tokens_issued == 1  # not fetched by every message
    fake.expire_tokens()  # revoked early, mid-delivery
    wecom.say("AliceChen", "comp 400 refund another")
    wecom.deliver()
    assert fake.tokens_issued == 2
    assert len([m for m in fake.sent() if m["msgtype"] == "template_card"]) == 4


@pytest.mark.parametrize("attack", ["wrong_corp", "malformed", "entities", "stale",
                                    "non_ascii_signature", "superscript_timestamp"])
def test_hostile_callbacks_are_refused_with_no_effect(wecom, attack):
    """(A forged signature: tests/platforms/test_conformance.py.)"""
    text = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[WangFang]]>"
            f"</FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[praise @alice hello]]></Content><MsgId>1</MsgId></xml>")
    if attack == "wrong_corp":
        response = wecom.post(text, crypto=WeComCrypto(TOKEN, AES_KEY, "ww_other_corp"))
    elif attack == "malformed":
        response = wecom.post(text, body=b"<xml><Encrypt>abc")
    elif attack == "entities":
        response = wecom.post(text, body=(
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><Encrypt>&b;</Encrypt></xml>'))
    elif attack == "non_ascii_signature":
        response = wecom.post(text, signature="é" * 40)
    elif attack == "superscript_timestamp":
        response = wecom.post(text, timestamp="²")
    else:
        response = wecom.post(text, timestamp=int(time.time()) - 3600)
    assert response.status_code == 403
    assert count(wecom.engine, Praise) == 0 and count(wecom.engine, LedgerEntry) == 0


def test_two_workers_share_the_token_and_each_robots_budget(wecom, fake):
    # a second worker's own client of the API, on the same database
    other = WeComApi(wecom.channel.api.base_url, CORP_ID, SECRET, 1000002, wecom.engine)
    first = wecom.channel.api
    assert first.token() == other.token()
    assert fake.tokens_issued == 1  # the second worker found the first one's token
    for n in range(ROBOT_LIMIT):
        (first if n % 2 else other).robot_markdown("key-x", f"post {n}")
    with pytest.raises(RateLimited):
        other.robot_markdown("key-x", "one too many")
    with pytest.raises(RateLimited):
        first.robot_markdown("key-x", "one too many")
    other.robot_markdown("key-y", "another robot has its own budget")
    assert len(fake.robot_posts()) == ROBOT_LIMIT + 1


def test_one_persons_messages_run_in_order_while_anothers_run_beside(wecom, fake):
    """Alice's second message waits for her first, held; Bob's runs meanwhile."""
    adapter = wecom.adapter
    adapter.inbox.pool = WorkPool("wecom-test", threads=2, queue=4)
    gate = threading.Event()
    ran = held(adapter.inbox, gate, lambda stored: "<MsgId>801</MsgId>" in stored["xml"])
    try:
        for user, text, msg_id in (("AliceChen", "me", 801), ("AliceChen", "help", 802),
                                   ("BobLi", "me", 803)):
            response = wecom.post(text_callback(user, text, msg_id))
            assert response.status_code == 200 and response.content == b""
        wait_until(lambda: ran, "message run")
        # a free thread took Bob's, sent after Alice's second, which waits its turn
        assert ["BobLi" in stored["xml"] for stored in ran] == [True]
        assert wecom.told("AliceChen") == []
    finally:
        gate.set()
    adapter.inbox.pool.stop()
    assert [parse_xml(stored["xml"]).findtext("MsgId") for stored in ran] == [
        "803", "801", "802"]
    assert ["Alice Chen" in text for text in wecom.told("AliceChen")] == [True, False]


# --- a real install: WeCom's own rules, held by the strict fake -----------------------

def later(minutes: int):
    return lambda: datetime.now(UTC) + timedelta(minutes=minutes)


def test_each_group_robot_is_its_own_delivery_so_a_retry_posts_only_where_it_failed(org, fake):
    with running(org, fake, all_staff_robot_envs=["ROBOT_ALL", "ROBOT_2"]) as wecom:
        fake.fail("webhook/send:key-of-ROBOT_2")  # robot 2 fails once
        wecom.say("WangFang", "praise @bob listened patiently")
        wecom.deliver()
        dispatch_pending(wecom.engine, wecom.channels, now=later(10))  # the retry
    posted = [key for key, _body in fake.robot_posts()]
    assert posted.count("key-of-ROBOT_ALL") == 1  # robot 1 posted exactly once
    assert posted.count("key-of-ROBOT_2") == 1
    assert {d.channel for d in rows(org, OutboxDelivery)} >= {
        "wecom:robot:ROBOT_ALL", "wecom:robot:ROBOT_2"}


def test_pieces_cut_on_line_breaks_within_the_byte_limit():
    text = "\n".join(["一二三四五六七八九十" * 3] * 20)  # 90 bytes a line
    cut = pieces(text, 200)
    assert all(len(piece.encode()) <= 200 for piece in cut)
    assert "\n".join(cut) == text  # whole lines, in order
    long_line = "好" * 1000  # 3,000 bytes on one line: cut between characters
    assert "".join(pieces(long_line, limits.TEXT_BYTES)) == long_line
    assert all(len(p.encode()) <= limits.TEXT_BYTES for p in pieces(long_line, 2048))
    assert pieces("", 10) == [""] and pieces("short", 10) == ["short"]


def test_a_long_text_arrives_whole_in_messages_wecom_does_not_cut(wecom, fake, org):
    """WeCom cuts message/send text at 2,048 bytes (the fake too): a longer text goes as
    several messages, each within the limit, cut at line breaks."""
    reply, locale = execute(org, parse_config({}), "console", "hana", parse("帮助"))
    help_text = render_reply(reply, locale)
    text = "\n".join([help_text] * 3)  # a text no single message holds
    assert len(text.encode()) > limits.TEXT_BYTES
    wecom.channel.api.send_text("LiLei", text)
    told = wecom.told("LiLei")
    assert len(told) > 1 and "\n".join(told) == text  # all of it, in order
    assert all(len(piece.encode()) <= limits.TEXT_BYTES for piece in told)


def test_a_long_robot_post_goes_in_markdown_pieces(wecom, fake):
    content = "\n".join(f"第{n}行 " + "表扬" * 100 for n in range(10))  # ~6,000 bytes
    wecom.channel.api.robot_markdown("key-x", content)
    posts = [body["markdown"]["content"] for _key, body in fake.robot_posts()]
    assert len(posts) == 2 and "\n".join(posts) == content
    assert all(len(p.encode()) <= limits.ROBOT_MARKDOWN_BYTES for p in posts)


def test_the_fake_holds_a_group_robot_to_20_a_minute(fake):
    now = [1000.0]
    fake.clock = lambda: now[0]
    with fake.serve() as url:
        def post(n: int) -> dict:
            return httpx.post(f"{url}/cgi-bin/webhook/send", params={"key": "k"}, json={
                "msgtype": "text", "text": {"content": f"post {n}"}}).json()
        assert all(post(n)["errcode"] == 0 for n in range(limits.ROBOT_PER_MINUTE))
        assert post(20)["errcode"] == limits.RATE_LIMITED
        now[0] += limits.ROBOT_WINDOW_SECONDS
        assert post(21)["errcode"] == 0


def test_a_robot_wecom_throttles_is_retried_once_later(wecom, fake):
    """Frontline keeps to 20 a minute, but another sender may share the robot: WeCom's
    45009 leaves the post for later, and it goes once."""
    fake.fail("webhook/send", error=limits.RATE_LIMITED)
    wecom.say("WangFang", "praise @bob listened patiently")
    wecom.deliver()
    assert fake.robot_posts() == []
    dispatch_pending(wecom.engine, wecom.channels, now=later(10))
    assert len(fake.robot_posts()) == 1


def test_someone_outside_the_visible_range_is_named_to_hr_not_silently_lost(wecom, fake, org):
    fake.leave_range("WangFang")  # alice's approver: the app can no longer reach him
    wecom.say("AliceChen", "comp 500 refund #A7 broken on arrival")
    wecom.deliver()
    wecom.deliver()  # the dispatcher's next round: HR's notice, queued meanwhile
    assert not [m for m in fake.sent() if m["touser"] == "WangFang"]
    (told,) = [m for m in fake.sent() if m["touser"] == "HanaXu"]  # HR
    assert "王芳 Wang Fang (WangFang) cannot be reached on WeCom" in told["text"]["content"]
    assert "可见范围" in told["text"]["content"]
    assert all(row.delivered_at for row in rows(org, Outbox))  # not retried in vain
    wecom.say("AliceChen", "comp 400 refund #A8 late")
    wecom.deliver()
    wecom.deliver()  # the same day: HR was told already
    assert len([m for m in fake.sent() if m["touser"] == "HanaXu"]) == 1


def test_a_colleague_picked_from_the_at_list_is_that_person(wecom, fake, org):
    assert "P1" in wecom.say("WangFang", f"praise {picked('AliceChen')}she stayed late")
    assert rows(org, Praise)[0].employee_id == employee(org, "alice").id
    assert "P2" in wecom.say("WangFang", "praise @bob typed by hand")  # a handle still reads
    fake.members["Twin"] = ("Alice Chen", [2])  # two members share the name: no one's
    wecom.adapter.mentions._fetched = None  # the names read again
    assert wecom.adapter.mentions.names()["Alice Chen"] is None
    refused = wecom.say("WangFang", f"praise {picked('Stranger')}kind words")
    assert "陌生人" in refused and "还没有在这个聊天平台上关联 Frontline" in refused
    assert count(org, Praise) == 2


def findings(wecom) -> list:
    return asyncio.run(wecom.platform.findings())


def said(finding, locale="en") -> str:
    return render_message(finding.said, locale)


def test_doctor_checks_the_token_the_app_and_its_visible_range(wecom, fake):
    found = findings(wecom)
    assert [f.said.key for f in found] == ["doctor.wecom.token", "doctor.wecom.agent",
                                           "doctor.wecom.range"]
    assert all(f.ok for f in found)
    fake.leave_range("WangFang")
    (outside,) = [f for f in findings(wecom) if not f.ok]
    assert "王芳 Wang Fang (WangFang)" in said(outside)
    assert "应用管理 → the app → 可见范围" in render_message(outside.fix, "en")
    assert "可見範圍" in render_message(outside.fix, "zh-Hant")
    fake.allow_parties = []
    (empty,) = [f for f in findings(wecom) if not f.ok]
    assert empty.said.key == "doctor.wecom.range.empty"


def test_doctor_names_a_wrong_secret_and_a_wrong_agent(org, fake):
    with running(org, fake) as wecom:
        api = wecom.channel.api
        api.secret = "not-the-secret"
        (bad,) = findings(wecom)
        assert bad.said.key == "doctor.wecom.token.failed" and "40001" in said(bad)
        assert "WECOM_SECRET" in render_message(bad.fix, "zh")
        api.secret, api.agent_id = SECRET, AGENT_ID + 1
        token, agent = findings(wecom)
        assert token.ok and not agent.ok and str(limits.INVALID_AGENT) in said(agent)
        assert isinstance(wecom.platform, WeComPlatform)
