"""Wire the enabled platforms into one process: their webhook routes on the shared
web app (beside the web console), their start/stop hooks in its event loop, and
their outbox channels. Several platforms can run side by side; every one uses the same handlers."""

import asyncio
import os
from dataclasses import dataclass, field

from fastapi import APIRouter
from sqlalchemy import Engine

from bot.config import Config, ConfigError
from bot.outbox import Channel
from bot.web import Hook


@dataclass
class Platforms:
    routers: list[APIRouter] = field(default_factory=list)
    on_start: list[Hook] = field(default_factory=list)
    on_stop: list[Hook] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)


def _wecom(engine: Engine, config: Config, wired: Platforms) -> None:
    from bot.wecom.adapter import WeComAdapter, WeComChannel
    from bot.wecom.api import WeComApi
    from bot.wecom.crypto import WeComCrypto

    wecom = config.platforms.wecom
    try:
        crypto = WeComCrypto(wecom.secret("token_env"), wecom.secret("aes_key_env"),
                             wecom.corp_id)
    except ValueError as error:
        raise ConfigError(f"platforms.wecom.aes_key_env: {error}") from None
    api = WeComApi(wecom.api_base, wecom.corp_id, wecom.secret("secret_env"), wecom.agent_id)
    robot_envs = [*wecom.all_staff_robot_envs,
                  *(env for envs in wecom.team_robot_envs.values() for env in envs)]
    robot_keys = {env: os.environ.get(env, "") for env in robot_envs}
    missing = [env for env, key in robot_keys.items() if not key]
    if missing:
        raise ConfigError(f"platforms.wecom: environment variable {missing[0]} is not set")
    wired.channels.append(WeComChannel(config, api, robot_key=robot_keys.__getitem__))
    wired.routers.append(WeComAdapter(engine, config, crypto, api).router())


def _telegram(engine: Engine, config: Config, wired: Platforms) -> None:
    from bot.telegram.adapter import TelegramAdapter
    from bot.telegram.channels import channels

    telegram = config.platforms.telegram
    webhook = telegram.mode == "webhook"
    if webhook and not telegram.webhook_url.startswith("https://"):
        raise ConfigError("platforms.telegram.webhook_url: webhook mode needs the public "
                          "https URL of /telegram/webhook")
    adapter = TelegramAdapter(engine, config, telegram.secret("token_env"),
                              telegram.secret("webhook_secret_env") if webhook else None)
    if webhook:
        wired.routers.append(adapter.router())
    wired.on_start.append(adapter.start)
    wired.on_stop.append(adapter.stop)
    wired.channels.extend(channels(adapter))


def _slack(engine: Engine, config: Config, wired: Platforms) -> None:
    from bot.slack.adapter import SlackAdapter
    from bot.slack.channels import channels

    slack = config.platforms.slack
    socket_mode = slack.mode == "socket"
    adapter = SlackAdapter(engine, config, slack.secret("bot_token_env"),
                           "" if socket_mode else slack.secret("signing_secret_env"))
    wired.channels.extend(channels(adapter.client, engine, config))
    if not socket_mode:
        wired.routers.append(adapter.router())
        return
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    # Socket Mode: Slack's own client holds a WebSocket open to Slack, in its threads.
    handler = SocketModeHandler(adapter.app, slack.secret("app_token_env"))

    async def connect() -> None:
        await asyncio.to_thread(handler.connect)

    async def close() -> None:
        await asyncio.to_thread(handler.close)

    wired.on_start.append(connect)
    wired.on_stop.append(close)


BUILDERS = {"wecom": _wecom, "telegram": _telegram, "slack": _slack}


def wire(engine: Engine, config: Config) -> Platforms:
    from bot import webui

    wired = Platforms(routers=[webui.router(engine, config)])
    for name in config.platforms.enabled():
        BUILDERS[name](engine, config, wired)
    secret = config.web.praise_secret()
    if secret:
        from bot import praise_api

        wired.routers.append(praise_api.router(engine, config, secret))
    return wired
