"""Robot messages and card clicks in, answers out; the same for Stream mode (the SDK's
long connection, stream.py) and HTTP mode (routes on the shared web app).

A text is a command, from a one-to-one chat or an @-mention in a group; a voice note
right after a praise command becomes its recording. Each carries an idempotency key
(the message's msgId, the card callback's id), so a repeat never has a second effect.
A robot message is stored in the durable inbox (bot/kit/inbox.py) under its msgId before
it is acknowledged, in either mode, and worked on by a bounded pool; a worker that
dies leaves it to another, and a redelivery is not stored again. A card click is
answered when its command has run.
In HTTP mode a robot callback's `timestamp` and `sign` headers are checked before
anything else: a forged or stale callback is refused and changes nothing.
"""

import hmac
import json
import logging
import time
from collections.abc import Callable

from dingtalk_stream import CardCallbackMessage, ChatbotMessage
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from bot.kit import CallbackError, Config, Event, Inbound, inbox_for
from bot.platforms.dingtalk.api import DingTalkApi, sign
from bot.platforms.dingtalk.crypto import DingTalkCrypto
from bot.platforms.dingtalk.settings import PLATFORM
from handlers import limits
from handlers.approvals import Decide
from handlers.base import Message
from handlers.grammar import parse
from handlers.i18n import render_message, render_reply
from handlers.praise import AttachRecording
from handlers.registry import Command

log = logging.getLogger(__name__)
SINGLE_CHAT = "1"


def _read(model, data: dict):
    """The SDK's reading of a message or card callback; a malformed one is refused."""
    try:
        return model.from_dict(data)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise CallbackError(f"malformed {model.__name__}: {error!r}") from None


def sent_by(_kind: str, data: dict) -> str | None:
    """Who sent a stored robot message (only one with a staff id is stored): one
    person's messages run in the order they came."""
    return data.get("senderStaffId") or None


class DingTalkAdapter:
    def __init__(self, engine: Engine, config: Config, api: DingTalkApi, app_secret: str,
                 crypto: DingTalkCrypto | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.config, self.api, self.app_secret, self.crypto = config, api, app_secret, crypto
        self.settings = config.platforms.dingtalk
        self.inbound = Inbound(engine, config, PLATFORM)
        self.clock = clock
        self.inbox = inbox_for(engine, self.settings,
                               lambda _kind, data: self.on_message(data), order=sent_by)

    # --- robot messages --------------------------------------------------
    def accept_message(self, data: dict) -> bool:
        """Store a robot message before its ack; False, having stored nothing, when the
        pool is full. A malformed one raises CallbackError; one with no sender in the
        organisation, or an id no store keeps, is acknowledged and dropped."""
        message = _read(ChatbotMessage, data)
        user, message_id = message.sender_staff_id, message.message_id
        if not (isinstance(user, str) and user and isinstance(message_id, str)
                and message_id and limits.storable(message_id)):
            return True
        return self.inbox.accept(Event("msg", message_id), "message", data)

    def on_message(self, data: dict) -> None:
        """Run a robot message's command as its sender and answer in its conversation."""
        message = _read(ChatbotMessage, data)
        user = message.sender_staff_id  # absent for someone outside the organisation
        if not (isinstance(user, str) and user and isinstance(message.message_id, str)
                and message.message_id):
            return
        command = self._command(message)
        if command is None:
            return
        reply, locale = self.inbound.run(user, command, Event("msg", message.message_id))
        try:
            self._answer(message, user, render_reply(reply, locale))
        except Exception:  # the command stands; only its answer is lost
            log.exception("could not answer DingTalk message %s", message.message_id)

    def _command(self, message: ChatbotMessage) -> Command | None:
        if message.message_type == "text" and message.text is not None \
                and isinstance(message.text.content, str):
            return parse(message.text.content.strip())
        if message.message_type == "audio":
            content = message.extensions.get("content")
            code = content.get("downloadCode") if isinstance(content, dict) else None
            if isinstance(code, str) and code:
                data, content_type = self.api.download(code)
                return AttachRecording(data, content_type, f"dingtalk:file:{message.message_id}")
        return None

    def _answer(self, message: ChatbotMessage, user: str, text: str) -> None:
        group = message.conversation_type != SINGLE_CHAT
        expires = message.session_webhook_expired_time or 0
        webhook = message.session_webhook
        # Only DingTalk's own session URL: a message never sends Frontline elsewhere.
        if isinstance(webhook, str) and webhook.startswith(self.settings.oapi_base + "/") \
                and expires > self.clock() * 1000:
            self.api.reply(webhook, text, user if group else None)
        elif group:
            self.api.send_to_group(message.conversation_id, "sampleText", {"content": text})
        else:
            self.api.send_to_user(user, "sampleText", {"content": text})

    # --- card clicks -----------------------------------------------------
    def on_card(self, data: dict, callback_id: str) -> dict:
        """A card button: its command run as the clicker, who is answered one-to-one;
        a decision made redraws the card in place without its buttons."""
        card = _read(CardCallbackMessage, data)
        private = card.content.get("cardPrivateData") if isinstance(card.content, dict) else None
        params = (private or {}).get("params") if isinstance(private, dict) else None
        text = params.get("command") if isinstance(params, dict) else None
        if not isinstance(card.user_id, str) or not card.user_id or not isinstance(text, str) \
                or not text or not callback_id:
            return {}
        command = parse(text)
        reply, locale = self.inbound.run(card.user_id, command, Event("card", callback_id))
        answer = render_reply(reply, locale)
        if reply.ok and isinstance(command, Decide):
            decided = f"{answer} {self.inbound.decided_by(card.user_id, locale)}"
            try:
                self.api.update_card(card.card_instance_id, {"decided": decided,
                                                             "buttons": "hide"})
            except Exception:  # the decision stands; the card is only its picture
                log.exception("could not update DingTalk card %s", card.card_instance_id)
        try:
            self.api.send_to_user(card.user_id, "sampleText", {"content": answer})
        except Exception:
            log.exception("could not answer DingTalk card click %s", callback_id)
        return {}

    # --- HTTP mode -------------------------------------------------------
    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/dingtalk/robot", self.robot_callback, methods=["POST"])
        if self.crypto is not None:
            router.add_api_route("/dingtalk/events", self.event_callback, methods=["POST"])
        return router

    def _fresh(self, timestamp: str) -> None:
        """DingTalk's timestamps are in milliseconds."""
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise CallbackError("timestamp is not a number")
        if abs(self.clock() * 1000 - int(timestamp)) > self.settings.replay_window_seconds * 1000:
            raise CallbackError("timestamp outside the replay window")

    def check_signature(self, timestamp: str, signature: str) -> None:
        """DingTalk signs a robot callback with the app secret; refuse it when the sign
        is wrong or the timestamp (ms) is more than the window away from now."""
        self._fresh(timestamp)
        expected = sign(self.app_secret, timestamp).encode()
        if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
            raise CallbackError("signature mismatch")

    async def robot_callback(self, request: Request) -> Response:
        try:
            self.check_signature(request.headers.get("timestamp", ""),
                                 request.headers.get("sign", ""))
            data = json.loads(await request.body())
            if not isinstance(data, dict):
                raise CallbackError("not a JSON object")
        except (CallbackError, ValueError) as error:
            log.warning("DingTalk robot callback refused: %s", error)
            return Response(status_code=403)
        try:
            accepted = await run_in_threadpool(self.accept_message, data)
        except CallbackError as error:
            log.warning("DingTalk robot callback refused: %s", error)
            return Response(status_code=400)
        if not accepted:  # nothing stored: its sender is asked to send it again
            await run_in_threadpool(self._busy, data)
        return JSONResponse({})

    def _busy(self, data: dict) -> None:
        message = _read(ChatbotMessage, data)
        busy = render_message(Message("busy.retry"), self.config.organisation.default_locale)
        try:
            self._answer(message, message.sender_staff_id, busy)
        except Exception:
            log.exception("could not ask for DingTalk message %s again", message.message_id)

    async def event_callback(self, request: Request, msg_signature: str = "",
                             signature: str = "", timestamp: str = "",
                             nonce: str = "") -> Response:
        """Event subscriptions (事件订阅) over HTTP: encrypted, answered with an encrypted
        "success" (which is also how DingTalk checks the URL)."""
        try:
            self._fresh(timestamp)
            event = self.crypto.decrypt_callback(msg_signature or signature, timestamp, nonce,
                                                 await request.body())
        except CallbackError as error:
            log.warning("DingTalk event callback refused: %s", error)
            return Response(status_code=403)
        log.info("DingTalk event %s", event.get("EventType"))
        return JSONResponse(self.crypto.encrypt_reply("success", timestamp, nonce))
