"""The WeCom driver: callbacks built here, encrypted and signed as WeCom does, posted
to /wecom/callback on the bot's web app (and cut off after WeCom's 5 seconds); the
app's API (message/send, template cards, group robots, the app and its visible range)
answered by a local fake of the WeCom API, as strict as WeCom (tests/fake_wecom.py).
A colleague picked from WeCom's @ list arrives as "@" and the name WeCom shows, then
U+2005, as the client writes it."""

import base64
import time
from collections.abc import Iterator
from contextlib import contextmanager
from xml.etree.ElementTree import tostring

import httpx
from sqlalchemy import Engine

from bot.app.web import create_app
from bot.kit.config import DEMO_CATALOG, parse_config
from bot.kit.outbox import dispatch_pending
from bot.platforms.wecom import limits
from bot.platforms.wecom.adapter import WeComAdapter
from bot.platforms.wecom.api import WeComApi
from bot.platforms.wecom.channels import UNREACHABLE
from bot.platforms.wecom.crypto import WeComCrypto, parse_xml
from bot.platforms.wecom.platform import WeComPlatform, channels
from handlers.base import Message
from handlers.i18n import render_message
from storage.engine import transaction
from storage.models import ChatIdentity, InboxItem, Outbox
from tests.fake_wecom import AGENT_ID, CORP_ID, PEOPLE, SECRET, FakeWeCom
from tests.http_servers import serve
from tests.platforms.driver import MENTION, Driver
from tests.support import employee, rows, wait_until

TOKEN = "callback-token"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
USERS = {"wang": "WangFang", "alice": "AliceChen", "bob": "BobLi", "lilei": "LiLei",
         "hana": "HanaXu"}
STRANGER = "Stranger"


def settings(api_url: str, **overrides) -> dict:
    return {"catalog": DEMO_CATALOG, "platforms": {"wecom": {
        "enabled": True, "corp_id": CORP_ID, "agent_id": AGENT_ID, "api_base": api_url,
        "all_staff_robot_envs": ["ROBOT_ALL"], **overrides}}}


def text_callback(user: str, text: str, msg_id: int) -> str:
    """The inner XML of a text message from `user` to the app."""
    return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]>"
            f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]>"
            f"</MsgType><Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId>"
            f"<AgentID>{AGENT_ID}</AgentID></xml>")


def card_click(user: str, key: str, task_id: str, create_time: int | None = None) -> str:
    """The inner XML of `user` pressing the button `key` on the template card `task_id`."""
    return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]>"
            f"</FromUserName><CreateTime>{create_time or int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>"
            f"<EventKey><![CDATA[{key}]]></EventKey><TaskId><![CDATA[{task_id}]]></TaskId>"
            "<CardType><![CDATA[button_interaction]]></CardType>"
            f"<ResponseCode><![CDATA[rc-{task_id}-{user}]]></ResponseCode>"
            f"<AgentID>{AGENT_ID}</AgentID></xml>")


def picked(userid: str) -> str:
    """A member picked from WeCom's @ list, as the text callback carries them."""
    return f"@{PEOPLE[userid]}\u2005"


class Bot:
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)

    def __init__(self, url, engine, platform: WeComPlatform, fake, adapter):
        self.url, self.engine, self.platform, self.msg_id = url, engine, platform, 1000
        self.channels = platform.channels()
        self.channel = self.channels[0]  # to people; the robots follow
        self.fake, self.adapter = fake, adapter

    def post(self, inner: str, *, timestamp=None, signature=None, crypto=None, body=None):
        crypto = crypto or self.crypto
        timestamp = str(timestamp or int(time.time()))
        encrypted = crypto.encrypt(inner)
        body = body or (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA["
                        f"{encrypted}]]></Encrypt><AgentID>{AGENT_ID}</AgentID></xml>").encode()
        params = {"msg_signature": signature or crypto.signature(timestamp, "4242", encrypted),
                  "timestamp": timestamp, "nonce": "4242"}
        return httpx.post(f"{self.url}/wecom/callback", params=params, content=body,
                          timeout=limits.CALLBACK_ACK_SECONDS)  # then WeCom cuts it off

    def next_msg_id(self) -> int:
        self.msg_id += 1
        return self.msg_id

    def say(self, user: str, text: str, msg_id: int | None = None) -> str:
        before = len(self.told(user))
        response = self.post(text_callback(user, text, msg_id or self.next_msg_id()))
        return self.answer(user, response, before)

    def click(self, user: str, key: str, task_id: str, create_time: int | None = None) -> str:
        before = len(self.told(user))
        response = self.post(card_click(user, key, task_id, create_time))
        return self.answer(user, response, before)

    def told(self, user: str) -> list[str]:
        return [m["text"]["content"] for m in self.fake.sent()
                if m["touser"] == user and m["msgtype"] == "text"]

    def answer(self, user: str, response, before: int) -> str:
        """The callback is acknowledged with an empty answer; the reply comes after,
        through message/send (the `before`th text the user is sent)."""
        assert response.status_code == 200 and response.content == b"", response.text
        self.fake.wait_for(lambda: len(self.told(user)) > before, what=f"an answer to {user}")
        return self.told(user)[before]

    def passive(self, response) -> tuple[str, str]:
        """(to whom, text) of a passive reply, its signature checked."""
        envelope = parse_xml(response.content)
        assert envelope.findtext("MsgSignature") == self.crypto.signature(
            envelope.findtext("TimeStamp"), envelope.findtext("Nonce"),
            envelope.findtext("Encrypt"))
        reply = parse_xml(self.crypto.decrypt(envelope.findtext("Encrypt")))
        return reply.findtext("ToUserName") or "", reply.findtext("Content") or ""

    def reply_text(self, response) -> str:
        return self.passive(response)[1]

    def deliver(self) -> int:
        return dispatch_pending(self.engine, self.channels)


@contextmanager
def running(org: Engine, fake: FakeWeCom, **overrides) -> Iterator[Bot]:
    """The adapter behind its callback URL, its people linked; `overrides` its
    settings. (Its inbox's sweeper is not started: a test sweeps when it means to.)"""
    with transaction(org) as session:
        for handle, userid in USERS.items():
            session.add(ChatIdentity(employee_id=employee(org, handle).id, platform="wecom",
                                     platform_user_id=userid))
    with fake.serve() as api_url:
        config = parse_config(settings(api_url, **overrides))
        api = WeComApi(api_url, CORP_ID, SECRET, AGENT_ID, org)
        adapter = WeComAdapter(org, config, WeComCrypto(TOKEN, AES_KEY, CORP_ID), api)
        platform = WeComPlatform(adapter, channels(org, config, api,
                                                   key_of=lambda env: f"key-of-{env}"))
        try:
            with serve(create_app([adapter.router()])) as bot_url:
                yield Bot(bot_url, org, platform, fake, adapter)
        finally:
            adapter.inbox.stop()  # what was acknowledged runs before the API goes away


class WeComDriver(Driver):
    name = "wecom"

    def __init__(self, bot: Bot):
        self.bot, self.engine, self.fake = bot, bot.engine, bot.fake
        self.passive: list[tuple[int, str, str]] = []  # (calls made before it, to, text)
        self.clicked = 0  # the CreateTime of the last card click

    @property
    def inbox(self):
        return self.bot.adapter.inbox

    @property
    def channels(self):
        return self.bot.channels

    @property
    def config(self):
        return self.bot.adapter.config

    @property
    def platform(self) -> WeComPlatform:
        return self.bot.platform

    def user_id(self, handle: str) -> str:
        return USERS.get(handle, STRANGER)

    def event(self, handle: str, text: str) -> str:
        text = MENTION.sub(lambda m: picked(self.user_id(m[1])), text)
        return text_callback(self.user_id(handle), text, self.bot.next_msg_id())

    def deliver(self, event: str) -> httpx.Response:
        return self._heard(self.bot.post(event))

    def forge(self, event: str) -> httpx.Response:
        # encrypted with the right key, signed with a token WeCom does not have
        return self._heard(self.bot.post(event, crypto=WeComCrypto("guessed", AES_KEY,
                                                                   CORP_ID)))

    def _heard(self, response: httpx.Response) -> httpx.Response:
        """Keeps the passive reply in a callback's answer, as the person saw it."""
        if response.status_code == 200 and response.content:
            to, text = self.bot.passive(response)
            self.passive.append((len(self.fake.calls), to, text))
        return response

    def acked(self, ack: httpx.Response) -> bool:
        return ack.status_code == 200 and ack.content == b""  # the answer comes later

    def asked_again(self, ack: httpx.Response) -> bool:
        busy = render_message(Message("busy.retry"),
                              self.bot.adapter.config.organisation.default_locale)
        return (ack.status_code == 200 and bool(ack.content)
                and self.bot.passive(ack)[1] == busy)

    def refused(self, ack: httpx.Response) -> bool:
        return ack.status_code == 403

    def stored(self, event: str) -> tuple[str, str, dict]:
        inner = parse_xml(event)
        return (f"wecom:msg:{inner.findtext('MsgId')}", "callback",
                {"xml": tostring(inner, encoding="unicode")})

    def answers(self, handle: str) -> list[str]:
        """Passive replies, texts and cards sent, and the lines that replaced a card's
        buttons once pressed, in the order the person got them."""
        userid = USERS.get(handle, STRANGER)
        shown = [(made, 0, text) for made, to, text in self.passive if to == userid]
        for n, (method, params) in enumerate(list(self.fake.calls)):
            if method == "message/send" and params["touser"] == userid:
                shown.append((n, 1, self.fake.text_of(params)))
            elif method == "message/update_template_card" and userid in params["userids"]:
                shown.append((n, 1, params["button"]["replace_name"]))
        return [text for _made, _kind, text in sorted(shown, key=lambda s: s[:2])]

    def press(self, handle: str, command: str) -> None:
        card = next(m for m in reversed(self.fake.sent())
                    if m["msgtype"] == "template_card"
                    and command in [b["key"] for b in m["template_card"]["button_list"]])
        userid = USERS.get(handle, STRANGER)
        self.clicked = max(int(time.time()), self.clicked + 1)  # each click its own event
        click = card_click(userid, command, card["template_card"]["task_id"], self.clicked)
        ack = self.deliver(click)
        if self.acked(ack):  # its answer and the card's update are made before it is done
            inner = parse_xml(click)
            key = (f"wecom:card:{userid}:{inner.findtext('TaskId')}:{command}:"
                   f"{self.clicked}")
            wait_until(lambda: any(item.done_at for item in
                                   rows(self.engine, InboxItem, key=key)),
                       f"{handle}'s press of {command}")

    def throttle_next_send(self) -> None:
        self.fake.fail("message/send", error=limits.RATE_LIMITED)  # "api freq out of limit"

    # --- a real install -----------------------------------------------------------
    reaches_first = True  # anyone in the app's visible range, written or not

    def never_wrote(self, handle: str) -> None:
        """Nothing to undo: WeCom keeps no conversation an app needs before it sends
        (message/send takes a userid: https://developer.work.weixin.qq.com/document/
        path/90236)."""

    def told_unreachable(self, handle: str) -> bool:
        """HR was told that `handle` is outside the app's visible range."""
        userid = self.user_id(handle)
        return any(row.message_key == UNREACHABLE and row.params.get("userid") == userid
                   and row.delivered_at for row in rows(self.engine, Outbox))

    def shared_posts(self) -> list[str]:
        return [body["markdown"]["content"] for key, body in self.fake.robot_posts()
                if key == "key-of-ROBOT_ALL"]

    def fits(self, text: str) -> bool:
        return len(text.encode()) <= limits.TEXT_BYTES

    def withhold_permission(self) -> None:
        self.fake.leave_range(self.user_id("wang"))  # out of the app's visible range


@contextmanager
def driver(org: Engine) -> Iterator[WeComDriver]:
    with running(org, FakeWeCom()) as bot:
        yield WeComDriver(bot)
