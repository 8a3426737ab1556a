"""Slack as a Frontline platform: HTTP mode serves /slack/events on the web app;
Socket Mode opens a WebSocket to Slack instead (Slack's own client, in its
threads), started and stopped with the web app."""

import asyncio

from fastapi import APIRouter
from slack_bolt.adapter.socket_mode import SocketModeHandler
from sqlalchemy import Engine

from bot.kit import Channel, Config, Platform
from bot.platforms.slack.adapter import SlackAdapter
from bot.platforms.slack.channels import channels
from bot.platforms.slack.settings import PLATFORM


class SlackPlatform(Platform):
    name = PLATFORM
    body_limit = 1024 * 1024  # interactions carry the whole message or modal shown

    def __init__(self, adapter: SlackAdapter, socket: SocketModeHandler | None = None) -> None:
        self.adapter, self.socket = adapter, socket

    def router(self) -> APIRouter | None:
        return self.adapter.router() if self.socket is None else None

    async def start(self) -> None:
        self.adapter.inbox.start()
        if self.socket is not None:
            await asyncio.to_thread(self.socket.connect)

    async def stop(self) -> None:
        if self.socket is not None:
            await asyncio.to_thread(self.socket.close)
        await asyncio.to_thread(self.adapter.inbox.stop)  # what was acknowledged is done

    def channels(self) -> list[Channel]:
        return channels(self.adapter.client, self.adapter.engine, self.adapter.config)


def build(engine: Engine, config: Config) -> SlackPlatform:
    settings = config.platforms.slack
    bot_token = settings.secret("bot_token_env")  # every secret before Slack is called
    if settings.mode == "http":
        return SlackPlatform(SlackAdapter(engine, config, bot_token,
                                          settings.secret("signing_secret_env")))
    app_token = settings.secret("app_token_env")
    adapter = SlackAdapter(engine, config, bot_token)
    return SlackPlatform(adapter, SocketModeHandler(adapter.app, app_token))
