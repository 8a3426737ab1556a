"""The Feishu driver: the adapter in HTTP mode behind the bot's web app, its event
callbacks encrypted and signed here with Feishu's published scheme (each delivery
signed afresh, as Feishu signs each retry; a card callback through the fake, which
times it out at 3 s), and lark-oapi pointed (its domain) at a local fake of the
Feishu open API (tests/fake_feishu.py)."""

import base64
import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import lark_oapi as lark
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from lark_oapi.api.im.v1 import P2ImMessageReceiveV1
from sqlalchemy import Engine

from bot.app.web import create_app
from bot.kit.config import DEMO_CATALOG, parse_config
from bot.kit.outbox import dispatch_pending
from bot.platforms.feishu.adapter import FeishuAdapter
from bot.platforms.feishu.api import FeishuApi, client, text_body_size
from bot.platforms.feishu.channels import channels
from bot.platforms.feishu.limits import TEXT_BODY_MAX
from bot.platforms.feishu.platform import FeishuPlatform
from storage.engine import transaction
from storage.models import ChatIdentity
from tests.fake_feishu import CREATE, PATCH, SECRET, FakeFeishu
from tests.http_servers import serve
from tests.platforms.driver import MENTION, Driver
from tests.support import employee, settled

ENCRYPT_KEY, TOKEN = "frontline-encrypt-key", "frontline-verification-token"
USERS = {"wang": "ou_wang", "alice": "ou_alice", "bob": "ou_bob", "lilei": "ou_lilei",
         "hana": "ou_hana"}
STRANGER = "ou_stranger"
ALL_STAFF = "oc_all_staff"


def encrypt(key: str, plain: str, iv: bytes | None = None) -> str:
    """Feishu's scheme: AES-256-CBC under SHA-256(Encrypt Key), PKCS#7, base64(iv + data)."""
    iv = iv or os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(hashlib.sha256(key.encode()).digest()),
                       modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(padded) + encryptor.finalize()).decode()


def p2p(open_id: str) -> str:
    """The chat id of a person's one-to-one chat with the bot (in these tests)."""
    return f"oc_p2p_{open_id}"


def link(org: Engine) -> None:
    """Each of the demo organisation's people linked to their open_id."""
    with transaction(org) as session:
        for handle, open_id in USERS.items():
            session.add(ChatIdentity(employee_id=employee(org, handle).id, platform="feishu",
                                     platform_user_id=open_id))


class Bot:
    def __init__(self, url, engine, adapter, channels, fake):
        self.url, self.engine, self.adapter, self.channels = url, engine, adapter, channels
        self.fake, self.events = fake, 0
        self.platform = FeishuPlatform(adapter)

    def post(self, payload: dict, *, timestamp=None, key=ENCRYPT_KEY, signature=None,
             body=None, headers=None, signing_key=ENCRYPT_KEY):
        """Posts a callback as Feishu does: encrypted with `key`, signed (with a new nonce,
        so each call's signature is its own) with `signing_key`. A card callback goes
        through the fake, which gives up after Feishu's 3 s."""
        body = body or json.dumps({"encrypt": encrypt(key, json.dumps(payload))}).encode()
        timestamp = str(timestamp or int(time.time()))
        nonce = uuid.uuid4().hex
        signed = hashlib.sha256((timestamp + nonce + signing_key).encode() + body).hexdigest()
        sent = {"X-Lark-Request-Timestamp": timestamp, "X-Lark-Request-Nonce": nonce,
                "X-Lark-Signature": signature or signed, "Content-Type": "application/json"}
        sent = headers if headers is not None else sent
        sent = {name: value.encode() for name, value in sent.items()}
        if (payload.get("header") or {}).get("event_type") == "card.action.trigger":
            return self.fake.callback(f"{self.url}/feishu/events", body, sent)
        return httpx.post(f"{self.url}/feishu/events", content=body, timeout=10, headers=sent)

    def event(self, event_type: str, event: dict, event_id: str | None = None,
              token: str = TOKEN) -> dict:
        if event_id is None:
            self.events += 1
            event_id = f"ev-{self.events}"
        return {"schema": "2.0", "header": {
            "event_id": event_id, "token": token, "create_time": str(int(time.time() * 1000)),
            "event_type": event_type, "tenant_key": "tenant", "app_id": "cli_x"},
            "event": event}

    def message(self, user: str, text: str = "", *, chat: str | None = None,
                mentions: list | None = None, kind: str = "text", content: dict | None = None,
                event_id: str | None = None, message_id: str = "om_in") -> dict:
        return self.event("im.message.receive_v1", {
            "sender": {"sender_id": self.fake.ids(user), "sender_type": "user",
                       "tenant_key": "tenant"},
            "message": {"message_id": message_id, "create_time": "1", "chat_id":
                        chat or p2p(user), "chat_type": "group" if chat else "p2p",
                        "message_type": kind,
                        "content": json.dumps(content or {"text": text}, ensure_ascii=False),
                        "mentions": mentions or []}}, event_id)

    def settle(self) -> None:
        """Wait until the messages handed to the adapter's pool are handled."""
        settled(self.adapter.inbox.pool)

    def replies(self, chat: str) -> list[str]:
        return self.fake.texts_to(chat)

    def say(self, user: str, text: str, **kwargs) -> str:
        chat = kwargs.get("chat") or p2p(user)
        before = len(self.replies(chat))
        response = self.post(self.message(user, text, **kwargs))
        assert response.status_code == 200, response.text
        self.settle()
        replies = self.replies(chat)
        assert len(replies) == before + 1, replies
        return replies[-1]

    def click(self, user: str, value: dict, message_id: str, event_id: str | None = None):
        response = self.post(self.event("card.action.trigger", {
            "operator": {**self.fake.ids(user), "tenant_key": "tenant"},
            "token": f"c-{uuid.uuid4()}",
            "action": {"value": value, "tag": "button"}, "host": "im_message",
            "context": {"open_message_id": message_id, "open_chat_id": "oc_x"}}, event_id))
        assert response.status_code == 200, response.text
        return response.json()["toast"]

    def deliver(self, **kwargs) -> int:
        return dispatch_pending(self.engine, self.channels, **kwargs)


@contextmanager
def running(org: Engine, fake: FakeFeishu, **overrides) -> Iterator[Bot]:
    """The adapter in HTTP mode behind the bot's web app, its people linked;
    `overrides` its settings."""
    link(org)
    # The SDK caches tokens per app id for the process: each test is its own app.
    app_id = f"cli_{uuid.uuid4().hex[:16]}"
    with fake.serve() as api_url:
        config = parse_config({"catalog": DEMO_CATALOG, "platforms": {"feishu": {
            "enabled": True, "app_id": app_id, "domain": api_url, "mode": "http",
            "all_staff_chats": [ALL_STAFF], **overrides}}})
        api = FeishuApi(client(app_id, SECRET, api_url))
        adapter = FeishuAdapter(org, config, api, ENCRYPT_KEY, TOKEN)
        try:
            with serve(create_app([adapter.router()])) as bot_url:
                bot = Bot(bot_url, org, adapter, channels(api, org, config), fake)
                bot.fake_url = api_url
                yield bot
        finally:
            adapter.inbox.stop()


class FeishuDriver(Driver):
    name = "feishu"
    # A Feishu bot may message anyone in its app's availability range (可用范围), whether
    # or not they wrote to it: https://open.feishu.cn/document/server-docs/im-v1/message/create
    # ("给用户发消息时，用户需要在机器人的可用范围内").
    reaches_first = True

    def __init__(self, bot: Bot):
        self.bot, self.engine, self.fake = bot, bot.engine, bot.fake

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
    def platform(self) -> FeishuPlatform:
        return self.bot.platform

    def user_id(self, handle: str) -> str:
        return USERS.get(handle, STRANGER)

    def event(self, handle: str, text: str) -> dict:
        """`{@bob}` becomes Feishu's own mention: `@_user_N` in the text, and bob's open_id
        and shown name in the message's `mentions`."""
        mentions: list[dict] = []

        def mention(found) -> str:
            key = f"@_user_{len(mentions) + 1}"
            mentions.append({"key": key, "id": self.fake.ids(self.user_id(found[1])),
                             "name": found[1].title(), "tenant_key": "tenant"})
            return key
        text = MENTION.sub(mention, text)
        return self.bot.message(self.user_id(handle), text, mentions=mentions)

    def deliver(self, event: dict) -> httpx.Response:
        return self.bot.post(event)  # encrypted and signed again, as Feishu's retries are

    def forge(self, event: dict) -> httpx.Response:
        return self.bot.post(event, signing_key="another-apps-encrypt-key")

    def acked(self, ack: httpx.Response) -> bool:
        return ack.status_code == 200

    def asked_again(self, ack: httpx.Response) -> bool:
        return ack.status_code == 503  # Feishu sends an event again until it gets a 200

    def refused(self, ack: httpx.Response) -> bool:
        return ack.status_code == 401

    def stored(self, event: dict) -> tuple[str, str, dict]:
        parsed = lark.JSON.unmarshal(json.dumps(event), P2ImMessageReceiveV1)  # as the SDK
        return (f"feishu:event:{event['header']['event_id']}", "message",
                json.loads(lark.JSON.marshal(parsed)))

    def answers(self, handle: str) -> list[str]:
        """Messages to the person (by open_id, or in their chat with the bot) and the
        redraws of the cards among them. (A click's toast only says it was received:
        its outcome comes as a redraw or a message.)"""
        open_id = self.user_id(handle)
        chats = {open_id, p2p(open_id)}  # a notification by open_id, a reply in the chat
        mine: set[str] = set()  # the messages the bot sent them, to see their redraws
        shown: list[str] = []
        for method, params in list(self.fake.calls):
            if method == CREATE and params["receive_id"] in chats \
                    and params["msg_type"] in ("text", "interactive"):
                mine.add(params["message_id"])
                shown.append(self.fake.text_of(params))
            elif method == PATCH and params["message_id"] in mine:
                shown.append(self.fake.text_of(
                    {"msg_type": "interactive", "content": params["content"]}))
        return shown

    def press(self, handle: str, command: str) -> None:
        for card in reversed(self.fake.sent()):
            if card["msg_type"] != "interactive":
                continue
            values = [button["value"] for element in card["content"]["elements"]
                      if element["tag"] == "action" for button in element["actions"]]
            value = next((v for v in values if v.get("command") == command), None)
            if value is not None:
                break
        else:
            raise AssertionError(f"no card with a button for {command!r}")
        toast = self.bot.click(self.user_id(handle), value, card["message_id"])
        assert toast["type"] == "info"  # received; the outcome follows
        self.ran()

    def throttle_next_send(self) -> None:
        self.fake.fail(CREATE, status=429, error=99991400, retry_after=1)  # Feishu's limit

    def never_wrote(self, handle: str) -> None:
        """Nothing to undo: Feishu keeps no chat the bot needs first (see reaches_first);
        the fake delivers to any open_id in the app's range, as Feishu does."""

    def shared_posts(self) -> list[str]:
        return self.fake.texts_to(ALL_STAFF)

    def fits(self, text: str) -> bool:
        return text_body_size(text) <= TEXT_BODY_MAX

    def withhold_permission(self) -> None:
        self.fake.withhold("im:message")  # read messages, download a voice message


@contextmanager
def driver(org: Engine) -> Iterator[FeishuDriver]:
    with running(org, FakeFeishu()) as bot:
        yield FeishuDriver(bot)
