"""WeCom as a Frontline platform: callbacks arrive at /wecom/callback on the web
app; the outbox goes out through the app's API and the group robots."""

import asyncio
import os

from fastapi import APIRouter
from sqlalchemy import Engine

from bot.kit import Channel, Config, ConfigError, Platform
from bot.platforms.wecom.adapter import WeComAdapter
from bot.platforms.wecom.api import WeComApi
from bot.platforms.wecom.channels import WeComChannel
from bot.platforms.wecom.crypto import WeComCrypto
from bot.platforms.wecom.settings import PLATFORM


class WeComPlatform(Platform):
    name = PLATFORM

    def __init__(self, adapter: WeComAdapter, channel: WeComChannel) -> None:
        self.adapter, self.channel = adapter, channel

    def router(self) -> APIRouter | None:
        return self.adapter.router()

    async def start(self) -> None:
        self.adapter.inbox.start()

    async def stop(self) -> None:
        await asyncio.to_thread(self.adapter.inbox.stop)  # what was acknowledged is done

    def channels(self) -> list[Channel]:
        return [self.channel]


def build(engine: Engine, config: Config) -> WeComPlatform:
    settings = config.platforms.wecom
    try:
        crypto = WeComCrypto(settings.secret("token_env"), settings.secret("aes_key_env"),
                             settings.corp_id)
    except ValueError as error:
        raise ConfigError(f"platforms.wecom.aes_key_env: {error}") from None
    api = WeComApi(settings.api_base, settings.corp_id, settings.secret("secret_env"),
                   settings.agent_id, engine)
    robot_envs = [*settings.all_staff_robot_envs,
                  *(env for envs in settings.team_robot_envs.values() for env in envs)]
    robot_keys = {env: os.environ.get(env, "") for env in robot_envs}
    missing = [env for env, key in robot_keys.items() if not key]
    if missing:
        raise ConfigError(f"platforms.wecom: environment variable {missing[0]} is not set")
    return WeComPlatform(WeComAdapter(engine, config, crypto, api),
                         WeComChannel(config, api, robot_key=robot_keys.__getitem__))
