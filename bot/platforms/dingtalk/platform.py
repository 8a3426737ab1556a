"""DingTalk as a Frontline platform: Stream mode (the SDK's long connection; no public
URL) or HTTP mode (callbacks at /dingtalk/robot and /dingtalk/events on the web app);
the outbox goes out through the open API and the custom robots."""

import asyncio
import os

from fastapi import APIRouter
from sqlalchemy import Engine

from bot.kit import Channel, Config, ConfigError, Platform
from bot.platforms.dingtalk.adapter import DingTalkAdapter
from bot.platforms.dingtalk.api import DingTalkApi
from bot.platforms.dingtalk.channels import (
    DingTalkGroupChannel,
    DingTalkPersonChannel,
    DingTalkRecordingChannel,
    DingTalkRobotChannel,
)
from bot.platforms.dingtalk.crypto import DingTalkCrypto
from bot.platforms.dingtalk.settings import PLATFORM, Settings


class DingTalkPlatform(Platform):
    name = PLATFORM

    def __init__(self, adapter: DingTalkAdapter, channels: list[Channel], stream=None) -> None:
        self.adapter, self._channels, self.stream = adapter, channels, stream

    def router(self) -> APIRouter | None:
        return None if self.stream is not None else self.adapter.router()

    async def start(self) -> None:
        self.adapter.inbox.start()
        if self.stream is not None:
            await self.stream.start()

    async def stop(self) -> None:
        if self.stream is not None:
            await self.stream.stop()
        await asyncio.to_thread(self.adapter.inbox.stop)  # what was acknowledged is done

    def ready(self) -> bool:
        return self.stream is None or self.stream.ready()

    def channels(self) -> list[Channel]:
        return self._channels


def _env(settings: Settings, name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ConfigError(f"platforms.{settings.section}: environment variable {name} is not set")
    return value


def shared_channels(engine: Engine, settings: Settings, api: DingTalkApi,
                    template: str) -> list[Channel]:
    found: list[Channel] = []
    chats = ([(settings.all_staff_chat, None)] if settings.all_staff_chat else []) \
        + [(chat, team) for team, chat in settings.team_chats.items()]
    for chat, team in chats:  # a group's posts, then the recordings that go with them
        post = DingTalkGroupChannel(api, template, chat, team)
        found += [post, DingTalkRecordingChannel(api, engine, post)]
    robots = [(robot, None) for robot in settings.all_staff_robots] + [
        (robot, team) for team, robots in settings.team_robots.items() for robot in robots]
    found += [DingTalkRobotChannel(api, robot, _env(settings, robot.url_env),
                                   _env(settings, robot.secret_env), team)
              for robot, team in robots]
    return found


def build(engine: Engine, config: Config) -> DingTalkPlatform:
    settings = config.platforms.dingtalk
    key, secret = settings.secret("app_key_env"), settings.secret("app_secret_env")
    api = DingTalkApi(settings.api_base, key, secret, settings.robot_code or key,
                      oapi_url=settings.oapi_base)
    crypto = None
    if settings.mode == "http" and settings.corp_id:
        try:
            crypto = DingTalkCrypto(settings.secret("event_token_env"),
                                    settings.secret("event_aes_key_env"), settings.corp_id)
        except ValueError as error:
            raise ConfigError(f"platforms.dingtalk.event_aes_key_env: {error}") from None
    adapter = DingTalkAdapter(engine, config, api, secret, crypto)
    # Card clicks come back on the Stream connection: in HTTP mode, plain messages.
    template = settings.card_template_id if settings.mode == "stream" else ""
    channels = [DingTalkPersonChannel(api, template),
                *shared_channels(engine, settings, api, template)]
    stream = None
    if settings.mode == "stream":
        from bot.platforms.dingtalk.stream import DingTalkStream

        stream = DingTalkStream(adapter, key, secret, settings.api_base)
    return DingTalkPlatform(adapter, channels, stream)
