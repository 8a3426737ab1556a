"""Robot messages and card clicks in, answers out; the same for Stream mode (the SDK's
long connection, stream.py) and HTTP mode (routes on the shared web app).

A text is a command, from a one-to-one chat or an @-mention in a group; colleagues
picked from DingTalk's @ list (`atUsers`) read as the people they are. A voice note (or
an audio file) right after a praise command becomes its recording. Each carries an
idempotency key (the message's msgId, the card callback's id), so a repeat never has a
second effect. A robot message, and a card click, is stored in the durable inbox
(bot/kit/inbox.py) before it is acknowledged, in either mode, and worked on by a bounded
pool after: a card click is acknowledged at once (DingTalk allows a few seconds,
limits.CARD_ACK_SECONDS), its command, the card's redraw and the answer follow. A worker
that dies leaves it to another, and a redelivery is not stored again. In a group, HR
is told the group's openConversationId (which the config names) when they ask where
the bot is, or when the group is one the config does not know.
In HTTP mode a robot callback's `timestamp` and `sign` headers are checked before
anything else: a forged or stale callback is refused and changes nothing.
"""

import hashlib
import hmac
import json
import logging
import mimetypes
import re
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
from bot.platforms.dingtalk.limits import pieces
from bot.platforms.dingtalk.settings import PLATFORM
from handlers import limits
from handlers.approvals import Decide
from handlers.base import Message
from handlers.grammar import parse
from handlers.i18n import render_message, render_reply
from handlers.policy import LOCALES
from handlers.praise import AttachRecording
from handlers.registry import Command
from storage.enums import PRIVILEGED

log = logging.getLogger(__name__)
SINGLE_CHAT = "1"
MENTION = re.compile(r"@\S+")
# A recording sent as a file (msgtype "file", its fileName) rather than as a voice
# message (msgtype "audio"): https://open.dingtalk.com/document/orgapp/receive-message
AUDIO_FILES = (".amr", ".mp3", ".m4a", ".wav", ".ogg", ".opus", ".aac")
VOICE_TYPE = "audio/amr"  # a DingTalk voice message, when the download does not say


def card_key(secret: str) -> str:
    """The path secret of the HTTP card callback URL: DingTalk posts card clicks to
    exactly the URL registered under the route key, so only DingTalk (and this
    server) knows it."""
    return hmac.new(secret.encode(), b"frontline card callback", hashlib.sha256).hexdigest()[:32]


def _read(model, data: dict):
    """The SDK's reading of a message or card callback; a malformed one is refused."""
    try:
        return model.from_dict(data)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise CallbackError(f"malformed {model.__name__}: {error!r}") from None


def sent_by(kind: str, data: dict) -> str | None:
    """Who sent a stored robot message or clicked a stored card (only one with a staff
    id is stored): one person's messages run in the order they came."""
    if kind == "card":
        return (data.get("data") or {}).get("userId") or None
    return data.get("senderStaffId") or None


class DingTalkAdapter:
    def __init__(self, engine: Engine, config: Config, api: DingTalkApi, app_secret: str,
                 crypto: DingTalkCrypto | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.config, self.api, self.app_secret, self.crypto = config, api, app_secret, crypto
        self.settings = config.platforms.dingtalk
        self.inbound = Inbound(engine, config, PLATFORM)
        self.clock = clock
        self.inbox = inbox_for(engine, self.settings, self._stored, order=sent_by)

    def _stored(self, kind: str, data: dict) -> None:
        if kind == "card":
            self.on_card(data["data"], data["callback"])
        else:
            self.on_message(data)

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
        told = self._where(message, user)
        if told is not None and told[1]:  # HR asked where this is: the id is the answer
            self._reply(message, user, told[0])
            return
        command = self._command(message)
        if command is None:
            return
        reply, locale = self.inbound.run(user, command, Event("msg", message.message_id))
        text = render_reply(reply, locale)
        if told is not None:  # HR in a group the config does not know
            text = f"{text}\n\n{told[0]}"
        self._reply(message, user, text)

    def _reply(self, message: ChatbotMessage, user: str, text: str) -> None:
        try:
            for piece in pieces(text):
                self._answer(message, user, piece)
        except Exception:  # the command stands; only its answer is lost
            log.exception("could not answer DingTalk message %s", message.message_id)

    def _known_chats(self) -> set[str]:
        return {self.settings.all_staff_chat, *self.settings.team_chats.values()} - {""}

    def _where(self, message: ChatbotMessage, user: str) -> tuple[str, bool] | None:
        """In a group, to HR: the group's openConversationId (the robot callback's
        conversationId; the config names groups by it) and whether that is all they
        asked (a "where" word), or None. Logged, for the installer reading the logs.
        https://open.dingtalk.com/document/orgapp/receive-message"""
        chat = message.conversation_id
        if message.conversation_type == SINGLE_CHAT or not isinstance(chat, str) or not chat:
            return None
        asked = False
        if message.message_type == "text" and message.text is not None \
                and isinstance(message.text.content, str):
            said = set(message.text.content.lower().split())
            asked = any(said & set(render_message(Message("dingtalk.where_words"), code)
                                   .lower().split()) for code in LOCALES)
        if not asked and chat in self._known_chats():
            return None
        role = self.inbound.view(user, lambda ctx: ctx.actor.role)
        if role not in PRIVILEGED:
            return None
        title = message.conversation_title if isinstance(message.conversation_title, str) \
            else ""
        log.info("DingTalk group %r has openConversationId %s", title, chat)
        said = render_message(Message("dingtalk.chat_id", {"chat": chat}),
                              self.inbound.locale(user))
        return said, asked

    def _command(self, message: ChatbotMessage) -> Command | None:
        if message.message_type == "text" and message.text is not None \
                and isinstance(message.text.content, str):
            return self.inbound.read(message.text.content.strip(), self._mentioned(message))
        content = message.extensions.get("content")
        code = content.get("downloadCode") if isinstance(content, dict) else None
        if not (isinstance(code, str) and code):
            return None
        if message.message_type == "audio":  # a voice message: always a recording
            fallback = VOICE_TYPE
        elif message.message_type == "file" \
                and str(content.get("fileName", "")).lower().endswith(AUDIO_FILES):
            fallback = (mimetypes.guess_type(str(content["fileName"]))[0] or VOICE_TYPE).lower()
        else:
            return None
        data, content_type = self.api.download(code)
        if not content_type.startswith("audio/"):  # storage answers octet-stream
            content_type = fallback
        return AttachRecording(data, content_type, f"dingtalk:file:{message.message_id}")

    def _mentioned(self, message: ChatbotMessage) -> dict[str, tuple[str, str]]:
        """The colleagues picked from DingTalk's @ list: `atUsers` lists each (the robot
        too, in a group) with their staffId (the userid the directory links; absent for
        someone outside the organisation), in the order the text's @names come.
        https://open.dingtalk.com/document/orgapp/receive-message
        Paired by order only when the counts agree: a typed @handle is left to the
        grammar rather than read as the wrong person."""
        people = [u for u in message.at_users or []
                  if getattr(u, "dingtalk_id", None) != message.chatbot_user_id]
        words = MENTION.findall(message.text.content) if message.text is not None else []
        if not people or len(words) != len(people):
            return {}
        found: dict[str, tuple[str, str]] = {}
        for word, person in zip(words, people, strict=True):
            staff = person.staff_id if isinstance(person.staff_id, str) else ""
            who = staff or str(person.dingtalk_id or "")  # outside: linked to nobody
            found[word] = (who, word[1:])
        return found

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
    def accept_card(self, data: dict, callback_id: str) -> bool:
        """Store a card click before its ACK (its work follows on the pool); False,
        having stored nothing, when the pool is full. Malformed: CallbackError."""
        card = _read(CardCallbackMessage, data)
        if not isinstance(card.user_id, str) or not card.user_id or not callback_id \
                or not limits.storable(callback_id):
            return True
        return self.inbox.accept(Event("card", callback_id), "card",
                                 {"callback": callback_id, "data": data})

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
            for piece in pieces(answer):
                self.api.send_to_user(card.user_id, "sampleText", {"content": piece})
        except Exception:
            log.exception("could not answer DingTalk card click %s", callback_id)
        return {}

    # --- HTTP mode -------------------------------------------------------
    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/dingtalk/robot", self.robot_callback, methods=["POST"])
        router.add_api_route("/dingtalk/card/{key}", self.card_callback, methods=["POST"])
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
        is wrong or the timestamp (ms) is more than the window away from now. The sign
        covers the timestamp alone, not the body, so the window is kept to minutes, and
        a message id already stored is never run again, whatever body comes with it."""
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

    async def card_callback(self, key: str, request: Request) -> Response:
        """HTTP mode's card clicks, posted to the URL registered under the route key
        (api.register_card_callback): stored, then answered at once with an empty
        answer (the card stays as it is; a decision redraws it through the API after).
        https://open.dingtalk.com/document/orgapp/event-callback-card"""
        if not hmac.compare_digest(key.encode("utf-8", "replace"),
                                   card_key(self.app_secret).encode()):
            return Response(status_code=403)
        try:
            data = json.loads(await request.body())
            if not isinstance(data, dict):
                raise CallbackError("not a JSON object")
            callback = data.get("outTrackId", "")
            # One click is one callback: its user, card and time say which
            callback_id = hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()
            if not isinstance(callback, str):
                raise CallbackError("no outTrackId")
            accepted = await run_in_threadpool(self.accept_card, data, callback_id)
        except (CallbackError, ValueError) as error:
            log.warning("DingTalk card callback refused: %s", error)
            return Response(status_code=400)
        if not accepted:
            return Response(status_code=503)  # nothing stored: DingTalk tries again
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
