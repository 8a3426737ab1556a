"""Microsoft Teams as a Frontline platform: activities arrive at /api/messages on
the web app (messages and reactions through the durable inbox); the outbox goes out
proactively through the Bot Connector."""

from pathlib import Path

from fastapi import APIRouter
from microsoft_agents.hosting.fastapi import CloudAdapter
from sqlalchemy import Engine

from bot.kit import Channel, Config, ConfigError, Platform
from bot.platforms.teams.adapter import TeamsAdapter
from bot.platforms.teams.auth import (
    BotTokenValidator,
    Certificate,
    ClientCredentials,
    OneConnection,
)
from bot.platforms.teams.channels import channels
from bot.platforms.teams.settings import PLATFORM


class TeamsPlatform(Platform):
    name = PLATFORM
    body_limit = 256 * 1024  # one activity (a message, a card action, a form)

    def __init__(self, adapter: TeamsAdapter) -> None:
        self.adapter = adapter

    def router(self) -> APIRouter | None:
        return self.adapter.router()

    async def start(self) -> None:
        await self.adapter.start()

    async def stop(self) -> None:
        await self.adapter.stop()  # what was acknowledged is done

    def channels(self) -> list[Channel]:
        return channels(self.adapter.engine, self.adapter.cloud, self.adapter.config)


def build(engine: Engine, config: Config) -> TeamsPlatform:
    settings = config.platforms.teams
    if not settings.app_id:
        raise ConfigError("platforms.teams.app_id: the bot's Microsoft App ID is required")
    if settings.certificate_env:
        path = Path(settings.secret("certificate_env"))
        try:
            proof: str | Certificate = Certificate(path.read_bytes())
        except (OSError, ValueError) as error:
            raise ConfigError(f"platforms.teams.certificate_env: {path}: {error}") from None
    else:
        proof = settings.secret("secret_env")
    credentials = ClientCredentials(settings, proof)
    cloud = CloudAdapter(connection_manager=OneConnection(credentials))
    return TeamsPlatform(TeamsAdapter(engine, config, cloud, BotTokenValidator(settings)))
