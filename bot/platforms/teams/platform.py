"""Microsoft Teams as a Frontline platform: activities arrive at /api/messages on
the web app (messages and reactions through the durable inbox); the outbox goes out
proactively through the Bot Connector."""

import asyncio
from pathlib import Path

import httpx
from fastapi import APIRouter
from microsoft_agents.hosting.fastapi import CloudAdapter
from sqlalchemy import Engine

from bot.kit import Channel, Config, ConfigError, Finding, Platform, fails, holds
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

    def __init__(self, adapter: TeamsAdapter, credentials: ClientCredentials) -> None:
        self.adapter, self.credentials = adapter, credentials

    def router(self) -> APIRouter | None:
        return self.adapter.router()

    async def start(self) -> None:
        await self.adapter.start()

    async def stop(self) -> None:
        await self.adapter.stop()  # what was acknowledged is done

    def channels(self) -> list[Channel]:
        return channels(self.adapter.engine, self.adapter.cloud, self.adapter.config)

    async def findings(self) -> list[Finding]:
        """What `frontline doctor` checks, live: the app registration and its tenant,
        and a token for the Bot Connector granted to the app's secret or certificate."""
        settings = self.adapter.config.platforms.teams
        app = {"app_id": settings.app_id, "tenant": settings.tenant_id,
               "env": settings.certificate_env or settings.secret_env}
        # A single-tenant bot gets its tokens from its own tenant; new multi-tenant bots
        # can no longer be created.
        # https://learn.microsoft.com/en-us/azure/bot-service/bot-service-manage-settings#bot-identity-information
        if not settings.tenant_id:
            return [fails("doctor.teams.tenant", "doctor.teams.fix.tenant", **app)]
        found = [holds("doctor.teams.app", **app)]
        try:
            error = await asyncio.to_thread(self.credentials.refused)
        except httpx.HTTPError as unreachable:
            return [*found, fails("doctor.teams.token.unreachable",
                                  "doctor.teams.fix.token.unreachable",
                                  error=str(unreachable), **app)]
        if error is None:
            return [*found, holds("doctor.teams.token", **app)]
        # invalid_client: the secret (or certificate) is wrong or expired;
        # unauthorized_client: no such app in this tenant (AADSTS700016).
        # https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes
        fix = ("doctor.teams.fix.secret" if error == "invalid_client"
               else "doctor.teams.fix.registration")
        return [*found, fails("doctor.teams.token.refused", fix, error=error, **app)]


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
    return TeamsPlatform(TeamsAdapter(engine, config, cloud, BotTokenValidator(settings)),
                         credentials)
