"""Echo: a webhook that takes `{"user", "text", "id"}` and answers with the reply;
its outbox channel keeps what it delivers."""

from fastapi import APIRouter, Header, HTTPException
from pydantic import BaseModel
from sqlalchemy import Engine

from bot.kit import Channel, Config, Event, Inbound, Notification, Platform, for_shared_chat
from handlers.grammar import parse
from handlers.i18n import render_reply
from tests.echo_platform.settings import PLATFORM


class Said(BaseModel):
    user: str
    text: str
    id: str


class EchoChannel:
    name = PLATFORM

    def __init__(self, room: str) -> None:
        self.room = room
        self.delivered: list[tuple[str, str]] = []  # (person's echo id or room, text)

    def wants(self, notification: Notification) -> bool:
        if notification.recipient is None:
            return bool(self.room) and for_shared_chat(notification, None)
        return PLATFORM in notification.identities

    def deliver(self, notification: Notification) -> None:
        if notification.recipient is None:
            self.delivered.append((self.room, notification.shared()))
        else:
            self.delivered.append((notification.identities[PLATFORM],
                                   notification.text(notification.recipient.locale)))


class EchoPlatform(Platform):
    name = PLATFORM
    body_limit = 8 * 1024  # a line of chat

    def __init__(self, engine: Engine, config: Config, token: str) -> None:
        self.inbound = Inbound(engine, config, PLATFORM)
        self.token = token
        self.channel = EchoChannel(config.platforms.echo.all_staff_room)
        self.running = False

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.post("/echo/hook")
        def hook(said: Said, x_echo_token: str = Header(default="")) -> dict:
            if x_echo_token != self.token:
                raise HTTPException(status_code=403)
            reply, locale = self.inbound.run(said.user, parse(said.text), Event("said", said.id))
            return {"ok": reply.ok, "text": render_reply(reply, locale)}

        return router

    async def start(self) -> None:
        self.running = True

    async def stop(self) -> None:
        self.running = False

    def channels(self) -> list[Channel]:
        return [self.channel]


def build(engine: Engine, config: Config) -> EchoPlatform:
    return EchoPlatform(engine, config, config.platforms.echo.secret("token_env"))
