"""Feishu / Lark as a Frontline platform. HTTP mode serves /feishu/events (events and
card callbacks) on the web app; long-connection mode opens the SDK's WebSocket to
Feishu instead (no public URL). The outbox goes out through the open API."""

import asyncio

from fastapi import APIRouter
from sqlalchemy import Engine

from bot.kit import Channel, Config, ConfigError, Finding, Platform, fails, holds
from bot.platforms.feishu.adapter import FeishuAdapter
from bot.platforms.feishu.api import FeishuApi, client
from bot.platforms.feishu.channels import channels
from bot.platforms.feishu.connection import LongConnection
from bot.platforms.feishu.limits import (
    BOT_ACTIVE,
    NEEDED_SCOPES,
    RANGE_SCOPE,
    SCOPE_GRANTED,
    VISIBLE_TO_ALL,
)
from bot.platforms.feishu.settings import PLATFORM


class FeishuPlatform(Platform):
    name = PLATFORM

    def __init__(self, adapter: FeishuAdapter, connection: LongConnection | None = None,
                 ) -> None:
        self.adapter, self.connection = adapter, connection

    def router(self) -> APIRouter | None:
        return self.adapter.router() if self.connection is None else None

    async def start(self) -> None:
        self.adapter.inbox.start()
        if self.connection is not None:
            await asyncio.to_thread(self.connection.start)

    async def stop(self) -> None:
        if self.connection is not None:
            await asyncio.to_thread(self.connection.stop)
        await asyncio.to_thread(self.adapter.inbox.stop)  # what was acknowledged is done

    def ready(self) -> bool:
        return self.connection is None or self.connection.ready()

    def channels(self) -> list[Channel]:
        return channels(self.adapter.api, self.adapter.engine, self.adapter.config)

    async def findings(self) -> list[Finding]:
        return await asyncio.to_thread(self._findings)

    def _findings(self) -> list[Finding]:
        """Asked of Feishu: a tenant access token (the app id and secret work), the bot
        enabled in the company (a published version), each scope Frontline needs
        granted (limits.NEEDED_SCOPES), and the app available to all staff."""
        api = self.adapter.api
        try:
            api.token()
            bot = api.bot_info()
        except Exception as error:  # any refusal is what the installer must see
            return [fails("doctor.feishu.token.failed", "doctor.feishu.fix.token",
                          error=str(error)[:200])]
        found = [holds("doctor.feishu.token", app=str(bot.get("app_name") or api.app_id))]
        status = bot.get("activate_status")
        found.append(holds("doctor.feishu.active") if status == BOT_ACTIVE else
                     fails("doctor.feishu.active.failed", "doctor.feishu.fix.active",
                           status=str(status)))
        try:
            granted = api.scopes()
        except Exception as error:
            found.append(fails("doctor.feishu.scopes.failed", "doctor.feishu.fix.scopes",
                               error=str(error)[:200]))
            return found
        for scope in NEEDED_SCOPES:
            found.append(holds("doctor.feishu.scope", scope=scope)
                         if granted.get(scope) == SCOPE_GRANTED else
                         fails("doctor.feishu.scope.failed", "doctor.feishu.fix.scope",
                               scope=scope))
        found.append(self._range())
        return found

    def _range(self) -> Finding:
        """The app's availability range (可用范围): the bot can be used by, and message,
        only the people in it, so anything short of all staff (the excluded win over the
        included) is named."""
        try:
            shown = self.adapter.api.availability()
        except Exception as error:
            return fails("doctor.feishu.range.failed", "doctor.feishu.fix.range.failed",
                         scope=RANGE_SCOPE, error=str(error)[:200])

        def count(*keys: str) -> dict[str, str]:
            return {name: str(len(shown.get(key) or [])) for name, key in zip(
                ("departments", "groups", "people"), keys, strict=True)}
        excluded = count("invisible_departments", "invisible_groups", "invisible_users")
        included = count("departments", "groups", "users")
        if shown.get("has_more_users"):  # only the first page of people was read
            included["people"] += "+"
        if shown.get("is_visible_to_all") == VISIBLE_TO_ALL:
            if set(excluded.values()) == {"0"}:
                return holds("doctor.feishu.range")
            return fails("doctor.feishu.range.excluded", "doctor.feishu.fix.range",
                         **excluded)
        if set(included.values()) == {"0"}:
            return fails("doctor.feishu.range.none", "doctor.feishu.fix.range")
        return fails("doctor.feishu.range.narrow", "doctor.feishu.fix.range", **included)


def build(engine: Engine, config: Config) -> FeishuPlatform:
    settings = config.platforms.feishu
    if not settings.app_id:
        raise ConfigError("platforms.feishu.app_id: the app's App ID (cli_…) is not set")
    secret = settings.secret("app_secret_env")
    try:
        api = FeishuApi(client(settings.app_id, secret, settings.base_url()))
    except ValueError as error:  # the SDK accepts https origins (http on loopback only)
        raise ConfigError(f"platforms.feishu.domain: {error}") from None
    if settings.mode == "http":
        adapter = FeishuAdapter(engine, config, api, settings.secret("encrypt_key_env"),
                                settings.secret("verification_token_env"))
        return FeishuPlatform(adapter)
    adapter = FeishuAdapter(engine, config, api)
    return FeishuPlatform(adapter, LongConnection(settings.app_id, secret,
                                                  settings.base_url(), adapter.handler))

