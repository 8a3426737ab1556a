"""Telegram as a Frontline platform: python-telegram-bot's Application runs in the
web app's event loop, receiving by long polling, or through /telegram/webhook on
the web app in webhook mode."""

from fastapi import APIRouter
from sqlalchemy import Engine

from bot.kit import Channel, Config, ConfigError, Finding, Platform
from bot.platforms.telegram import doctor
from bot.platforms.telegram.adapter import TelegramAdapter
from bot.platforms.telegram.channels import channels
from bot.platforms.telegram.settings import PLATFORM


class TelegramPlatform(Platform):
    name = PLATFORM
    body_limit = 256 * 1024  # one update (a message of up to 4,096 characters)

    def __init__(self, adapter: TelegramAdapter) -> None:
        self.adapter = adapter

    def router(self) -> APIRouter | None:
        return self.adapter.router() if self.adapter.settings.mode == "webhook" else None

    async def start(self) -> None:
        await self.adapter.start()

    async def stop(self) -> None:
        await self.adapter.stop()

    def ready(self) -> bool:
        return self.adapter.ready()

    def channels(self) -> list[Channel]:
        return channels(self.adapter)

    async def findings(self) -> list[Finding]:
        """The token, the bot's group settings, its place in each shared chat, and
        where its updates go (bot/platforms/telegram/doctor.py)."""
        return await doctor.findings(self.adapter.settings, self.adapter.token)


def build(engine: Engine, config: Config) -> TelegramPlatform:
    settings = config.platforms.telegram
    webhook = settings.mode == "webhook"
    if webhook and not settings.webhook_url.startswith("https://"):
        raise ConfigError("platforms.telegram.webhook_url: webhook mode needs the public "
                          "https URL of /telegram/webhook")
    return TelegramPlatform(TelegramAdapter(
        engine, config, settings.secret("token_env"),
        settings.secret("webhook_secret_env") if webhook else None))
