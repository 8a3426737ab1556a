"""DingTalk as a Frontline platform: Stream mode (the SDK's long connection; no public
URL) or HTTP mode (callbacks at /dingtalk/robot, /dingtalk/card/… and /dingtalk/events
on the web app); the outbox goes out through the open API and the custom robots.
`frontline doctor` asks DingTalk whether the app's key and secret work, the robot
exists and the app holds the permissions Frontline needs."""

import asyncio
import logging
import os

from fastapi import APIRouter
from sqlalchemy import Engine

from bot.kit import Channel, Config, ConfigError, Finding, Platform, fails, holds
from bot.platforms.dingtalk.adapter import DingTalkAdapter, card_key
from bot.platforms.dingtalk.api import DingTalkApi, DingTalkError
from bot.platforms.dingtalk.channels import (
    DingTalkGroupChannel,
    DingTalkPersonChannel,
    DingTalkRecordingChannel,
    DingTalkRobotChannel,
)
from bot.platforms.dingtalk.crypto import DingTalkCrypto
from bot.platforms.dingtalk.limits import CARD_SCOPE, SEND_SCOPE
from bot.platforms.dingtalk.settings import PLATFORM, Settings

log = logging.getLogger(__name__)
# The permissions' names in the console's 权限管理 list
SCOPE_NAMES = {SEND_SCOPE: "企业内机器人发送消息权限", CARD_SCOPE: "互动卡片实例写权限"}


class DingTalkPlatform(Platform):
    name = PLATFORM

    def __init__(self, adapter: DingTalkAdapter, channels: list[Channel], stream=None,
                 card_callback: str = "") -> None:
        self.adapter, self._channels, self.stream = adapter, channels, stream
        self.card_callback = card_callback  # HTTP mode with cards: the URL to register

    def router(self) -> APIRouter | None:
        return None if self.stream is not None else self.adapter.router()

    async def start(self) -> None:
        self.adapter.inbox.start()
        if self.stream is not None:
            await self.stream.start()
        elif self.card_callback:
            settings = self.adapter.settings
            try:
                await asyncio.to_thread(self.adapter.api.register_card_callback,
                                        settings.card_callback_route_key, self.card_callback,
                                        card_key(self.adapter.app_secret))
            except Exception:  # `frontline doctor` names what is wrong
                log.exception("DingTalk: could not register the card callback URL")

    async def findings(self) -> list[Finding]:
        return await asyncio.to_thread(self._findings)

    def _findings(self) -> list[Finding]:
        api, settings = self.adapter.api, self.adapter.settings
        try:  # https://open.dingtalk.com/document/orgapp/obtain-the-access_token-of-an-internal-app
            api.token()
        except DingTalkError as error:
            return [fails("doctor.dingtalk.token.failed", "doctor.dingtalk.fix.token",
                          error=str(error))]
        found = [holds("doctor.dingtalk.token", app=api.app_key)]
        checks = [(SEND_SCOPE, api.probe_robot)]
        if settings.card_template_id:
            checks.append((CARD_SCOPE, api.probe_cards))
        for scope, probe in checks:
            try:
                probe()
            except DingTalkError as error:
                if error.denied:
                    found.append(fails("doctor.dingtalk.scope.missing", "doctor.dingtalk.fix.scope",
                                       scope=scope, name=SCOPE_NAMES[scope]))
                else:
                    found.append(fails("doctor.dingtalk.robot.failed", "doctor.dingtalk.fix.robot",
                                       robot=api.robot_code, error=str(error)))
                continue
            if scope == SEND_SCOPE:
                found.append(holds("doctor.dingtalk.robot", robot=api.robot_code))
            found.append(holds("doctor.dingtalk.scope", scope=scope, name=SCOPE_NAMES[scope]))
        return found

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
                    template: str, route_key: str = "") -> list[Channel]:
    found: list[Channel] = []
    chats = ([(settings.all_staff_chat, None)] if settings.all_staff_chat else []) \
        + [(chat, team) for team, chat in settings.team_chats.items()]
    for chat, team in chats:  # a group's posts, then the recordings that go with them
        post = DingTalkGroupChannel(api, template, chat, team, route_key)
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
    # Card clicks come back on the Stream connection, or in HTTP mode to the URL
    # registered under the card callback route key (callbackType HTTP).
    template = settings.card_template_id
    route_key = settings.card_callback_route_key if settings.mode == "http" and template else ""
    channels = [DingTalkPersonChannel(api, template, route_key),
                *shared_channels(engine, settings, api, template, route_key)]
    stream, callback = None, ""
    if settings.mode == "stream":
        from bot.platforms.dingtalk.stream import DingTalkStream

        stream = DingTalkStream(adapter, key, secret, settings.api_base)
    elif route_key:
        callback = f"{config.web.public_url.rstrip('/')}/dingtalk/card/{card_key(secret)}"
    return DingTalkPlatform(adapter, channels, stream, callback)
