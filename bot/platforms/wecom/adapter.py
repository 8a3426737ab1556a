"""WeCom callbacks in, answers out through the app's message API (the outbox goes
through channels.py).

Text messages are commands (a colleague picked from WeCom's @ list is read as that
person: mentions.py); a template-card button click carries its command as
the button key; a voice message right after a praise command becomes its
recording. Every callback is checked (timestamp window, signature, corp id, safe
XML), stored in the durable inbox (bot/kit/inbox.py) and acknowledged with an empty
answer before any work: the work runs on a bounded pool and answers with
message/send, and a worker that dies leaves it to another. When the pool is full
nothing is stored and the acknowledgement is a passive reply asking to send it
again. Each callback carries
an idempotency key (MsgId, or the event and its create time), so a retried
callback never repeats an effect.
"""

import logging
import time
from collections.abc import Callable
from xml.etree.ElementTree import Element, tostring

from fastapi import APIRouter, Request, Response
from sqlalchemy import Engine

from bot.kit import Config, Event, Inbound, inbox_for
from bot.platforms.wecom import limits
from bot.platforms.wecom.api import WeComApi
from bot.platforms.wecom.crypto import CallbackError, WeComCrypto, parse_xml
from bot.platforms.wecom.mentions import Mentions
from bot.platforms.wecom.settings import PLATFORM
from handlers.base import Message
from handlers.grammar import parse
from handlers.i18n import render_message, render_reply
from handlers.praise import AttachRecording

log = logging.getLogger(__name__)


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def sent_by(_kind: str, stored: dict) -> str | None:
    """Who sent a stored callback: one person's callbacks run in the order they came."""
    return parse_xml(stored["xml"]).findtext("FromUserName") or None


class WeComAdapter:
    def __init__(self, engine: Engine, config: Config, crypto: WeComCrypto, api: WeComApi,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine, self.config, self.crypto, self.api = engine, config, crypto, api
        self.settings = config.platforms.wecom
        self.inbound = Inbound(engine, config, PLATFORM)
        self.clock = clock
        self.mentions = Mentions(api)
        self.inbox = inbox_for(
            engine, self.settings, lambda _kind, stored: self._work(parse_xml(stored["xml"])),
            order=sent_by)

    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/wecom/callback", self.verify_url, methods=["GET"])
        router.add_api_route("/wecom/callback", self.callback, methods=["POST"])
        return router

    def _fresh(self, timestamp: str) -> None:
        try:
            age = abs(self.clock() - int(timestamp))
        except ValueError:
            raise CallbackError("timestamp is not a number") from None
        if age > self.settings.replay_window_seconds:
            raise CallbackError("timestamp outside the replay window")

    def verify_url(self, msg_signature: str = "", timestamp: str = "", nonce: str = "",
                   echostr: str = "") -> Response:
        # FastAPI has URL-decoded the query already; answer the bare plaintext.
        try:
            self._fresh(timestamp)
            plain = self.crypto.verify_url(msg_signature, timestamp, nonce, echostr)
        except CallbackError as error:
            log.warning("WeCom URL verification refused: %s", error)
            return Response(status_code=403)
        return Response(content=plain, media_type="text/plain")

    async def callback(self, request: Request, msg_signature: str = "", timestamp: str = "",
                       nonce: str = "") -> Response:
        body = await request.body()
        try:
            self._fresh(timestamp)
            inner = self.crypto.decrypt_callback(msg_signature, timestamp, nonce, body)
        except CallbackError as error:
            log.warning("WeCom callback refused: %s", error)
            return Response(status_code=403)
        event = self._event(inner)
        if event is None or self.inbox.accept(event, "callback", {
                "xml": tostring(inner, encoding="unicode")}):
            return Response(content="", media_type="text/plain")  # the answer comes later
        user = inner.findtext("FromUserName") or ""
        busy = self._text_reply(user, render_message(
            Message("busy.retry"), self.config.organisation.default_locale))
        return Response(content=self.crypto.encrypt_reply(busy, timestamp, nonce),
                        media_type="application/xml")

    @staticmethod
    def _event(inner: Element) -> Event | None:
        """The callback's idempotency, or None for one that asks for nothing."""
        kind, user = inner.findtext("MsgType"), inner.findtext("FromUserName") or ""
        if kind in ("text", "voice"):
            return Event("msg", inner.findtext("MsgId"))
        if kind == "event" and inner.findtext("Event") == "template_card_event":
            return Event("card", f"{user}:{inner.findtext('TaskId')}:"
                                 f"{inner.findtext('EventKey') or ''}:"
                                 f"{inner.findtext('CreateTime')}")
        return None

    def _work(self, inner) -> None:
        text = self.handle(inner)
        if text is not None:
            self.api.send_text(inner.findtext("FromUserName") or "", text)

    def handle(self, inner) -> str | None:
        """Act on one decrypted callback; returns the answer for its sender, if any."""
        user = inner.findtext("FromUserName") or ""
        kind = inner.findtext("MsgType")
        if kind == "text":
            command = self.mentions.read(self.inbound, inner.findtext("Content") or "")
        elif kind == "voice":
            media_id = inner.findtext("MediaId") or ""
            data, content_type = self.api.media(media_id)
            command = AttachRecording(data, content_type, f"wecom:media:{media_id}")
        elif kind == "event" and inner.findtext("Event") == "template_card_event":
            return self._card_click(inner, user)
        else:
            return None
        reply, locale = self.inbound.run(user, command, Event("msg", inner.findtext("MsgId")))
        return render_reply(reply, locale)

    def _card_click(self, inner, user: str) -> str:
        button = inner.findtext("EventKey") or ""
        reply, locale = self.inbound.run(user, parse(button), self._event(inner))
        response_code = inner.findtext("ResponseCode")
        if reply.ok and response_code:
            decided = render_message(reply.messages[0], locale)
            try:
                self.api.update_card([user], response_code, decided[:limits.CARD_REPLACE_CHARS])
            except Exception:  # the decision stands; the card is only its picture
                log.exception("could not update the WeCom card %s", inner.findtext("TaskId"))
        return render_reply(reply, locale)

    def _text_reply(self, user: str, text: str) -> str:
        return (f"<xml><ToUserName>{cdata(user)}</ToUserName>"
                f"<FromUserName>{cdata(self.settings.corp_id)}</FromUserName>"
                f"<CreateTime>{int(self.clock())}</CreateTime><MsgType>{cdata('text')}</MsgType>"
                f"<Content>{cdata(text)}</Content></xml>")

