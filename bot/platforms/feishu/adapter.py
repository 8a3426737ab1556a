"""Feishu events and card callbacks in, replies out, on lark-oapi's event dispatcher.

Text in a one-to-one chat, or after an @-mention of the bot in a group, is a command
(the mention stripped, a colleague's mention read as their @handle); a bot-menu click
runs its event key; an audio message right after a praise command becomes its
recording; a card button runs its command as the person who clicked. In HTTP mode
the SDK decrypts each request and checks its signature and verification token; the
timestamp must be within the replay window, and a request already seen (its
signature) is refused. Each event's effect is keyed by its event id, so a delivery
Feishu retries changes nothing, and replies carry a uuid, so it is not answered twice.
A message or a menu click is stored in the durable inbox (bot/kit/inbox.py) under its
event id before it is acknowledged, on either path, and worked on by a bounded
pool; a worker that dies leaves it to another, and a retry is not stored again.
With the pool full nothing is stored and the event is refused (an HTTP 503, or an
error answer on the long connection), so that Feishu sends it again. A card click
is answered at once (a toast: Feishu wants the answer within 3 s) and stored in the
inbox too; its command runs after, and then the card is redrawn (a decision, once:
a redelivered click is stored once) or the outcome is sent to the person who clicked.
A request that is not Feishu's (a forged signature, another app's key or token) is
refused with one line in the log, checked before the SDK sees it. A person's union_id
is kept beside their open_id, so that they are still known when the app is re-created
and their open_id changes.
"""

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

import lark_oapi as lark
from fastapi import APIRouter, Request, Response
from lark_oapi.api.application.v6 import P2ApplicationBotMenuV6
from lark_oapi.api.im.v1 import P2ImMessageReceiveV1
from lark_oapi.core.const import (
    LARK_REQUEST_NONCE,
    LARK_REQUEST_SIGNATURE,
    LARK_REQUEST_TIMESTAMP,
)
from lark_oapi.core.model import RawRequest
from lark_oapi.core.utils import AESCipher
from lark_oapi.event.callback.model.p2_card_action_trigger import (
    P2CardActionTrigger,
    P2CardActionTriggerResponse,
)
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from bot.kit import Config, Event, Inbound, inbox_for
from bot.platforms.feishu import cards
from bot.platforms.feishu.api import FeishuApi
from bot.platforms.feishu.limits import TOAST_MAX
from bot.platforms.feishu.settings import PLATFORM
from handlers.approvals import Decide
from handlers.base import Message
from handlers.grammar import parse
from handlers.i18n import render_message, render_reply
from handlers.praise import AttachRecording
from handlers.registry import Command
from storage.errors import FrontlineError

log = logging.getLogger(__name__)


class _Quiet(logging.Filter):
    """The SDK logs every request it refuses with a traceback ("handle event failed"):
    the adapter logs the refusal itself, in one line, so the traceback is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("handle event failed"):
            record.exc_info, record.exc_text = None, None
        return True


logging.getLogger("Lark").addFilter(_Quiet())


@dataclass
class _Delivery:
    """The HTTP request being dispatched: its signature, and whether it was seen before."""

    signature: str
    replayed: bool = False
    busy: bool = False  # the pool was full: refused, to be sent again


_DELIVERY: ContextVar[_Delivery | None] = ContextVar("feishu_delivery", default=None)


class Busy(FrontlineError):
    """The pool is full: the event is refused, and Feishu sends it again."""


def sent_by(kind: str, stored: dict) -> str | None:
    """Who sent a stored event (a message's sender, a menu click's operator): one
    person's events run in the order they came."""
    event = stored.get("event") or {}
    if kind == "message":
        person = (event.get("sender") or {}).get("sender_id")
    elif kind == "card":
        person = event.get("operator")
    else:
        person = (event.get("operator") or {}).get("operator_id")
    return (person or {}).get("open_id") or None


def refused() -> Response:
    return Response(content='{"msg":"refused"}', status_code=401, media_type="application/json")


class FeishuAdapter:
    def __init__(self, engine: Engine, config: Config, api: FeishuApi, encrypt_key: str = "",
                 verification_token: str = "", clock: Callable[[], float] = time.time) -> None:
        self.engine, self.config, self.api = engine, config, api
        self.encrypt_key, self.verification_token = encrypt_key, verification_token
        self.settings = config.platforms.feishu
        self.inbound = Inbound(engine, config, PLATFORM)
        self.clock = clock
        self.inbox = inbox_for(engine, self.settings, self._stored, order=sent_by)
        self._unions: dict[str, str] = {}  # open_id -> union_id, known stored
        self.handler = (lark.EventDispatcherHandler.builder(encrypt_key, verification_token)
                        .register_p2_im_message_receive_v1(self.on_message)
                        .register_p2_application_bot_menu_v6(self.on_menu)
                        .register_p2_card_action_trigger(self.on_card)
                        # Events Feishu sends a bot anyway: acknowledged, nothing to do.
                        .register_p2_im_message_message_read_v1(lambda data: None)
                        .register_p2_im_chat_member_bot_added_v1(lambda data: None)
                        .register_p2_im_chat_access_event_bot_p2p_chat_entered_v1(
                            lambda data: None)
                        .build())

    # --- HTTP mode -------------------------------------------------------
    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/feishu/events", self.http, methods=["POST"])
        return router

    def _fresh(self, timestamp: str) -> bool:
        if not (timestamp.isascii() and timestamp.isdigit()):
            return False
        return abs(self.clock() - int(timestamp)) <= self.settings.replay_window_seconds

    async def http(self, request: Request) -> Response:
        body = await request.body()
        headers = {name.title(): value for name, value in request.headers.items()}
        timestamp = headers.get(LARK_REQUEST_TIMESTAMP)
        if timestamp is not None and not self._fresh(timestamp):
            log.warning("Feishu request refused: timestamp outside the replay window")
            return refused()
        if (why := self._not_feishus(body, headers)) is not None:
            log.warning("Feishu request refused: %s", why)
            return refused()
        raw = RawRequest()
        raw.uri, raw.body, raw.headers = request.url.path, body, headers
        # The SDK is synchronous, and the callbacks do database work: off the event loop.
        return await run_in_threadpool(self._dispatch, raw)

    def _not_feishus(self, body: bytes, headers: dict[str, str]) -> str | None:
        """Why a request is not Feishu's (None if it is): it must decrypt with the Encrypt
        Key, carry the Verification Token, and (all but the URL check) be signed
        sha256(timestamp + nonce + Encrypt Key + body)
        (https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/encrypt-key-encryption-configuration-case).
        Checked here so that a forgery is one line in the log, not the SDK's traceback."""
        try:
            envelope = json.loads(body)
            cipher = envelope.get("encrypt") if isinstance(envelope, dict) else None
            if self.encrypt_key and not isinstance(cipher, str):
                return "not encrypted"
            plain = json.loads(AESCipher(self.encrypt_key).decrypt_str(cipher)
                               if self.encrypt_key else body)
        except Exception:
            return "does not decrypt with our Encrypt Key"
        if not isinstance(plain, dict):
            return "not an event"
        header = plain.get("header") if isinstance(plain.get("header"), dict) else {}
        token = header.get("token", plain.get("token"))
        if self.verification_token and not (isinstance(token, str) and hmac.compare_digest(
                token.encode(), self.verification_token.encode())):
            return "wrong verification token"
        if plain.get("type") == "url_verification" or not self.encrypt_key:
            return None
        timestamp, nonce, signature = (headers.get(name) for name in (
            LARK_REQUEST_TIMESTAMP, LARK_REQUEST_NONCE, LARK_REQUEST_SIGNATURE))
        if not (timestamp and nonce and signature):
            return "unsigned"
        expected = hashlib.sha256((timestamp + nonce + self.encrypt_key).encode() + body)
        if not hmac.compare_digest(expected.hexdigest(), signature):
            return "signature does not match"
        return None

    def _dispatch(self, raw: RawRequest) -> Response:
        delivery = _Delivery(raw.headers.get(LARK_REQUEST_SIGNATURE, ""))
        token = _DELIVERY.set(delivery)
        try:
            answer = self.handler.do(raw)  # decrypts, checks token and signature, dispatches
        finally:
            _DELIVERY.reset(token)
        if delivery.busy:
            return Response(content='{"msg":"busy"}', status_code=503,
                            media_type="application/json")
        if answer.status_code != 200 or delivery.replayed:
            log.warning("Feishu request refused: %s", "replayed" if delivery.replayed
                        else (answer.content or b"")[:200].decode("utf-8", "replace"))
            return refused()
        return Response(content=answer.content, media_type="application/json")

    def _first_delivery(self) -> bool:
        """Called once the SDK has verified the request: False for a request seen before
        (the same signature), which is then refused. The long connection is
        authenticated as a whole and has no signatures."""
        delivery = _DELIVERY.get()
        if delivery is None:
            return True
        if not delivery.signature or not self.inbound.first(
                Event("request", delivery.signature[:128])):
            delivery.replayed = True
            return False
        return True

    def _accept(self, kind: str, data: P2ImMessageReceiveV1 | P2ApplicationBotMenuV6,
                ) -> None:
        """Store the event before the SDK acknowledges it; raises Busy (which the SDK
        answers as a failure) when the pool is full."""
        if not self.inbox.accept(Event("event", data.header.event_id), kind,
                                 json.loads(lark.JSON.marshal(data))):
            delivery = _DELIVERY.get()
            if delivery is not None:
                delivery.busy = True
            raise Busy(f"event {data.header.event_id} refused: busy")

    def _stored(self, kind: str, payload: dict) -> None:
        """Run an event from the inbox, rebuilt as the SDK built it."""
        if kind == "message":
            self.handle_message(P2ImMessageReceiveV1(payload))
        elif kind == "menu":
            self.handle_menu(P2ApplicationBotMenuV6(payload))
        elif kind == "card":
            self.handle_card(P2CardActionTrigger(payload))

    def _person(self, open_id: str | None, union_id: str | None) -> str:
        """The person's open_id, once their union_id is kept beside it. open_id is per
        app, union_id the same across the apps of one developer, user_id per tenant and
        only with a further scope
        (https://open.feishu.cn/document/home/user-identity-introduction/introduction):
        so a person whose app was re-created arrives with a new open_id and is known by
        their union_id. A pair stored once is not stored again by this process."""
        open_id = open_id or ""
        if open_id and union_id and self._unions.get(open_id) != union_id \
                and self.inbound.recognise(open_id, union_id):
            if len(self._unions) > 10_000:  # forget, to ask the database again
                self._unions.clear()
            self._unions[open_id] = union_id
        return open_id

    # --- messages --------------------------------------------------------
    def on_message(self, data: P2ImMessageReceiveV1) -> None:
        if self._first_delivery():
            self._accept("message", data)

    def handle_message(self, data: P2ImMessageReceiveV1) -> None:
        message, sender = data.event.message, data.event.sender
        if sender is None or sender.sender_type != "user" or sender.sender_id is None:
            return  # another bot or app
        user = self._person(sender.sender_id.open_id, sender.sender_id.union_id)
        event = Event("event", data.header.event_id)
        try:
            content = json.loads(message.content or "{}")
        except ValueError:
            content = {}
        content = content if isinstance(content, dict) else {}
        command: Command
        if message.message_type in ("text", "post"):
            text = post_text(content) if message.message_type == "post" \
                else str(content.get("text", ""))
            command = self._command(text, message)
            if command is None:
                return
        elif message.message_type == "audio" and message.chat_type == "p2p":
            file_key = str(content.get("file_key", ""))
            try:
                data_, content_type = self.api.resource(message.message_id, file_key)
            except Exception:
                log.exception("could not download the Feishu audio %s", file_key)
                failed = render_message(Message("feishu.failed"), self.inbound.locale(user))
                self.api.send_text("chat_id", message.chat_id, failed,
                                   uuid=f"reply-{data.header.event_id}")
                return
            command = AttachRecording(data_, content_type, f"feishu:file:{file_key}"[:200])
        else:
            return
        reply, locale = self.inbound.run(user, command, event)
        self.api.send_text("chat_id", message.chat_id, render_reply(reply, locale),
                           uuid=f"reply-{data.header.event_id}")

    def _command(self, text: str, message) -> Command | None:
        """The command in a message: in a group only after an @-mention (of the bot,
        which is removed); a colleague picked from Feishu's @ list (`@_user_N` in the
        text, resolved in `mentions`) is read through their linked identity."""
        mentions = {m.key: m for m in message.mentions or [] if m.key}
        words = text.split()
        if message.chat_type != "p2p":
            if not words or words[0] not in mentions:
                return None  # not addressed to the bot
            while words and words[0] in mentions:
                words.pop(0)
        mentioned = {key: (self._person(m.id.open_id, m.id.union_id), m.name or key)
                     for key, m in mentions.items()
                     if key in words and m.id is not None and m.id.open_id}
        return self.inbound.read(" ".join(words), mentioned)

    # --- the bot's menu ----------------------------------------------------
    def on_menu(self, data: P2ApplicationBotMenuV6) -> None:
        if self._first_delivery():
            self._accept("menu", data)

    def handle_menu(self, data: P2ApplicationBotMenuV6) -> None:
        operator = data.event.operator
        ids = operator.operator_id if operator else None
        user = self._person(ids.open_id, ids.union_id) if ids else ""
        if not user:
            return
        reply, locale = self.inbound.run(user, parse(data.event.event_key or "help"),
                                         Event("event", data.header.event_id))
        self.api.send_text("open_id", user, render_reply(reply, locale),
                           uuid=f"reply-{data.header.event_id}")

    # --- card buttons ------------------------------------------------------
    def on_card(self, data: P2CardActionTrigger) -> P2CardActionTriggerResponse:
        """Answered at once, within Feishu's 3 s (limits.CARD_CALLBACK_DEADLINE): the
        click is stored (a redelivery is stored once) and its command runs after."""
        if not self._first_delivery():
            return P2CardActionTriggerResponse({})
        user = data.event.operator.open_id if data.event and data.event.operator else ""
        locale = self.inbound.locale(user or "")
        key = (data.header.event_id if data.header else None) or (
            data.event.token if data.event else None)
        if not key or not user:
            return P2CardActionTriggerResponse({})
        # A click is not sent again by Feishu: with the pool full it is kept for a sweep.
        self.inbox.accept(Event("card", key), "card", json.loads(lark.JSON.marshal(data)),
                          kept_if_full=True)
        received = render_message(Message("feishu.card.received"), locale)
        return P2CardActionTriggerResponse({"toast": {"type": "info",
                                                      "content": received[:TOAST_MAX]}})

    def handle_card(self, data: P2CardActionTrigger) -> None:
        """A stored click: its command, then the card redrawn (a decision taken) or the
        outcome sent to the person who clicked."""
        click = data.event
        user = self._person(click.operator.open_id, click.operator.union_id) \
            if click.operator else ""
        value = click.action.value if click.action and isinstance(click.action.value, dict) \
            else {}
        command = parse(str(value.get("command", "")))
        key = (data.header.event_id if data.header else None) or click.token
        reply, locale = self.inbound.run(user, command, Event("card", key))
        outcome = render_reply(reply, locale)
        message_id = click.context.open_message_id if click.context else None
        if reply.ok and isinstance(command, Decide) and message_id:
            card = cards.decided(str(value.get("text", "")), outcome,
                                 self.inbound.decided_by(user, locale))
            try:
                self.api.patch_card(message_id, card)
                return
            except Exception:  # the decision stands; the card is only its picture
                log.exception("could not redraw the Feishu card %s", message_id)
        self.api.send_text("open_id", user, outcome, uuid=f"card-{key}")


def post_text(content: dict) -> str:
    """A rich-text ("post") message as its text: its title and every paragraph's text,
    links and @mentions (an `at` element as its `@_user_N` key, as in a text message)
    (https://open.feishu.cn/document/server-docs/im-v1/message-content-description/message_content#post).
    Received, a post's content is one language's {title, content}; a sent one may hold
    several languages, of which the first is read."""
    if "content" not in content:
        content = next((v for v in content.values() if isinstance(v, dict)), {})
    words = [str(content.get("title") or "")]
    for paragraph in content.get("content") or []:
        for element in paragraph if isinstance(paragraph, list) else []:
            if not isinstance(element, dict):
                continue
            tag = element.get("tag")
            if tag in ("text", "a", "md"):
                words.append(str(element.get("text", "")))
            elif tag == "at":
                words.append(str(element.get("user_id", "")))
        words.append("\n")
    return " ".join(word for word in words if word)
