"""Slack as a Frontline platform: HTTP mode serves /slack/events on the web app;
Socket Mode opens a WebSocket to Slack instead (Slack's own client, in its
threads), started and stopped with the web app."""

import asyncio

from fastapi import APIRouter
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.kit import Channel, Config, Finding, Platform, fails, holds
from bot.platforms.slack.adapter import SlackAdapter
from bot.platforms.slack.channels import channels
from bot.platforms.slack.limits import SCOPES
from bot.platforms.slack.settings import PLATFORM


class SlackPlatform(Platform):
    name = PLATFORM
    body_limit = 1024 * 1024  # interactions carry the whole message or modal shown

    def __init__(self, adapter: SlackAdapter, socket: SocketModeHandler | None = None) -> None:
        self.adapter, self.socket = adapter, socket

    def router(self) -> APIRouter | None:
        return self.adapter.router() if self.socket is None else None

    async def start(self) -> None:
        await asyncio.to_thread(self.adapter.client.auth_test)  # a refused token stops here
        self.adapter.inbox.start()
        if self.socket is not None:
            await asyncio.to_thread(self.socket.connect)

    async def stop(self) -> None:
        if self.socket is not None:
            await asyncio.to_thread(self.socket.close)
        await asyncio.to_thread(self.adapter.inbox.stop)  # what was acknowledged is done
        self.adapter.answers.close()

    def channels(self) -> list[Channel]:
        return channels(self.adapter.client, self.adapter.engine, self.adapter.config)

    async def findings(self) -> list[Finding]:
        return await asyncio.to_thread(self._findings)

    def _findings(self) -> list[Finding]:
        """auth.test: whether the bot token works, and the scopes granted to it, which
        Slack lists in the answer's `x-oauth-scopes` header
        (https://docs.slack.dev/reference/methods/auth.test,
        https://docs.slack.dev/authentication/tokens#bot): each scope Frontline needs
        (limits.SCOPES) that is missing is a finding of its own."""
        try:
            answer = self.adapter.client.auth_test()
        except SlackApiError as refused:
            return [fails("doctor.slack.token.failed", "doctor.slack.fix.token",
                          error=refused.response.get("error") or refused.response.status_code)]
        headers = {name.lower(): value for name, value in (answer.headers or {}).items()}
        granted = headers.get("x-oauth-scopes", "")
        granted = granted[0] if isinstance(granted, list) else granted
        scopes = {scope.strip() for scope in granted.split(",")}
        found = [holds("doctor.slack.token", team=answer.get("team", ""),
                       bot=answer.get("user", ""))]
        missing = [scope for scope in SCOPES if scope not in scopes]
        found += [fails("doctor.slack.scope.missing", "doctor.slack.fix.scope", scope=scope)
                  for scope in missing]
        if not missing:
            found.append(holds("doctor.slack.scopes", scopes=", ".join(SCOPES)))
        return found


def build(engine: Engine, config: Config) -> SlackPlatform:
    settings = config.platforms.slack
    bot_token = settings.secret("bot_token_env")  # every secret before Slack is called
    if settings.mode == "http":
        return SlackPlatform(SlackAdapter(engine, config, bot_token,
                                          settings.secret("signing_secret_env")))
    app_token = settings.secret("app_token_env")
    adapter = SlackAdapter(engine, config, bot_token)
    return SlackPlatform(adapter, SocketModeHandler(adapter.app, app_token))
