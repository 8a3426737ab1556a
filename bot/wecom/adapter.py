"""WeCom callbacks in, replies and notifications out.

Text messages are commands; a template-card button click carries its command as
the button key; a voice message right after a praise command becomes its
recording. Every callback is checked (timestamp window, signature, corp id, safe
XML) before anything else, and carries an idempotency key (MsgId, or the event
and its create time), so a retried callback never repeats an effect.
"""

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from bot.config import Config
from bot.grammar import parse
from bot.outbox import Notification
from bot.wecom.api import WeComApi
from bot.wecom.crypto import CallbackError, WeComCrypto
from handlers.base import Message
from handlers.dispatch import execute
from handlers.i18n import render_message, render_reply
from handlers.praise import AttachRecording

log = logging.getLogger(__name__)
PLATFORM = "wecom"
CARD_TEXT_LIMIT = 112  # characters WeCom shows in a card's sub-title


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


class WeComAdapter:
    def __init__(self, engine: Engine, config: Config, crypto: WeComCrypto, api: WeComApi,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine, self.config, self.crypto, self.api = engine, config, crypto, api
        self.settings = config.platforms.wecom
        self.clock = clock

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
        # The rest is blocking database and API work: run it off the event loop.
        reply = await run_in_threadpool(self.handle, inner)
        if reply is None:
            return Response(content="", media_type="text/plain")
        return Response(content=self.crypto.encrypt_reply(reply, timestamp, nonce),
                        media_type="application/xml")

    def handle(self, inner) -> str | None:
        """Act on one decrypted callback; returns the passive reply's XML, if any."""
        user = inner.findtext("FromUserName") or ""
        kind = inner.findtext("MsgType")
        if kind == "text":
            command = parse(inner.findtext("Content") or "")
            key = f"wecom:msg:{inner.findtext('MsgId')}"
        elif kind == "voice":
            media_id = inner.findtext("MediaId") or ""
            data, content_type = self.api.media(media_id)
            command = AttachRecording(data, content_type, f"wecom:media:{media_id}")
            key = f"wecom:msg:{inner.findtext('MsgId')}"
        elif kind == "event" and inner.findtext("Event") == "template_card_event":
            return self._card_click(inner, user)
        else:
            return None
        reply, locale = execute(self.engine, self.config, PLATFORM, user, command,
                                idempotency_key=key, now=datetime.now(UTC))
        return self._text_reply(user, render_reply(reply, locale))

    def _card_click(self, inner, user: str) -> str:
        button = inner.findtext("EventKey") or ""
        key = (f"wecom:card:{user}:{inner.findtext('TaskId')}:{button}:"
               f"{inner.findtext('CreateTime')}")
        reply, locale = execute(self.engine, self.config, PLATFORM, user, parse(button),
                                idempotency_key=key, now=datetime.now(UTC))
        response_code = inner.findtext("ResponseCode")
        if reply.ok and response_code:
            decided = render_message(reply.messages[0], locale)
            try:
                self.api.update_card([user], response_code, decided[:48])
            except Exception:  # the decision stands; the card is only its picture
                log.exception("could not update the WeCom card %s", inner.findtext("TaskId"))
        return self._text_reply(user, render_reply(reply, locale))

    def _text_reply(self, user: str, text: str) -> str:
        return (f"<xml><ToUserName>{cdata(user)}</ToUserName>"
                f"<FromUserName>{cdata(self.settings.corp_id)}</FromUserName>"
                f"<CreateTime>{int(self.clock())}</CreateTime><MsgType>{cdata('text')}</MsgType>"
                f"<Content>{cdata(text)}</Content></xml>")


class WeComChannel:
    """Delivers the outbox: to people through the app (a card when there is a decision
    to make), to all staff and teams through the configured group robots."""

    name = PLATFORM

    def __init__(self, config: Config, api: WeComApi, robot_key: Callable[[str], str]) -> None:
        self.api = api
        self.settings = config.platforms.wecom
        self.robot_key = robot_key  # env var name -> webhook key

    def _robots(self, notification: Notification) -> list[str]:
        if notification.team is not None:
            return self.settings.team_robot_envs.get(notification.team.name, [])
        return self.settings.all_staff_robot_envs

    def wants(self, notification: Notification) -> bool:
        if notification.recipient is not None:
            return PLATFORM in notification.identities
        return bool(self._robots(notification))

    def deliver(self, notification: Notification) -> None:
        if notification.recipient is None:
            for env in self._robots(notification):
                self.api.robot_markdown(self.robot_key(env), notification.bilingual())
            return
        person = notification.recipient
        userid = notification.identities[PLATFORM]
        text = render_message(notification.message, person.locale)
        if not notification.actions:
            self.api.send_text(userid, text)
            return
        if len(text) > CARD_TEXT_LIMIT:  # the card shows a summary: send the whole first
            self.api.send_text(userid, text)
        self.api.send_card(userid, {
            "card_type": "button_interaction",
            "main_title": {"title": "Frontline", "desc": text.split("\n", 1)[0][:30]},
            "sub_title_text": text[:CARD_TEXT_LIMIT],
            "task_id": f"frontline-{notification.outbox_id}",
            "button_list": [
                {"text": render_message(Message(a.label), person.locale),
                 "style": 1 if n == 0 else 2, "key": a.command}
                for n, a in enumerate(notification.actions)],
        })
