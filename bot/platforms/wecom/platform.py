"""WeCom as a Frontline platform: callbacks arrive at /wecom/callback on the web
app; the outbox goes out through the app's API and each group robot; `frontline
doctor` asks WeCom whether the credentials work and whom the app may reach."""

import asyncio
import os

from fastapi import APIRouter
from sqlalchemy import Engine
from sqlmodel import select

from bot.kit import Channel, Config, ConfigError, Finding, Platform, fails, holds
from bot.platforms.wecom.adapter import WeComAdapter
from bot.platforms.wecom.api import WeComApi, WeComError
from bot.platforms.wecom.channels import WeComChannel, WeComRobotChannel
from bot.platforms.wecom.crypto import WeComCrypto
from bot.platforms.wecom.settings import PLATFORM
from storage.engine import transaction
from storage.models import ChatIdentity, Employee

NAMED = 5  # people named in a finding; the rest are counted


class WeComPlatform(Platform):
    name = PLATFORM

    def __init__(self, adapter: WeComAdapter, channels: list[Channel]) -> None:
        self.adapter, self._channels = adapter, channels
        self.api: WeComApi = adapter.api

    def router(self) -> APIRouter | None:
        return self.adapter.router()

    async def start(self) -> None:
        self.adapter.inbox.start()

    async def stop(self) -> None:
        await asyncio.to_thread(self.adapter.inbox.stop)  # what was acknowledged is done

    def channels(self) -> list[Channel]:
        return list(self._channels)

    async def findings(self) -> list[Finding]:
        return await asyncio.to_thread(self._findings)

    def _findings(self) -> list[Finding]:
        """gettoken (the corp id and the Secret), agent/get (the app exists), and its
        visible range (可见范围) against the people Frontline messages there."""
        settings = self.adapter.settings
        try:  # https://developer.work.weixin.qq.com/document/path/91039
            self.api.check_token()
        except Exception as error:
            return [fails("doctor.wecom.token.failed", "doctor.wecom.fix.token",
                          corp_id=settings.corp_id, env=settings.secret_env,
                          error=_said(error))]
        found = [holds("doctor.wecom.token", corp_id=settings.corp_id)]
        try:  # https://developer.work.weixin.qq.com/document/path/90227
            agent = self.api.agent()
        except Exception as error:
            return [*found, fails("doctor.wecom.agent.failed", "doctor.wecom.fix.agent",
                                  agent_id=settings.agent_id, error=_said(error))]
        found.append(holds("doctor.wecom.agent", agent_id=settings.agent_id,
                           name=agent.get("name", "")))
        if agent.get("close"):  # the app is stopped (停用): nobody can use it
            found.append(fails("doctor.wecom.agent.closed", "doctor.wecom.fix.agent.closed",
                               agent_id=settings.agent_id, name=agent.get("name", "")))
        return [*found, self._range(agent)]

    def _range(self, agent: dict) -> Finding:
        agent_id = self.adapter.settings.agent_id
        members = self.api.members(agent)
        if not members:
            return fails("doctor.wecom.range.empty", "doctor.wecom.fix.range",
                         agent_id=agent_id)
        with transaction(self.adapter.engine) as session:
            linked = session.exec(select(ChatIdentity.platform_user_id, Employee.name).join(
                Employee, Employee.id == ChatIdentity.employee_id).where(
                ChatIdentity.platform == PLATFORM, Employee.active)).all()
        outside = sorted((name, userid) for userid, name in linked if userid not in members)
        if outside:
            people = ", ".join(f"{name} ({userid})" for name, userid in outside[:NAMED])
            if len(outside) > NAMED:
                people += f", … (+{len(outside) - NAMED})"
            return fails("doctor.wecom.range.outside", "doctor.wecom.fix.range",
                         agent_id=agent_id, count=len(outside), people=people)
        return holds("doctor.wecom.range", agent_id=agent_id, count=len(linked))


def _said(error: Exception) -> str:
    return str(error) if isinstance(error, WeComError) else (
        f"{error.__class__.__name__}: {error}")


def build(engine: Engine, config: Config) -> WeComPlatform:
    settings = config.platforms.wecom
    try:
        crypto = WeComCrypto(settings.secret("token_env"), settings.secret("aes_key_env"),
                             settings.corp_id)
    except ValueError as error:
        raise ConfigError(f"platforms.wecom.aes_key_env: {error}") from None
    api = WeComApi(settings.api_base, settings.corp_id, settings.secret("secret_env"),
                   settings.agent_id, engine)
    return WeComPlatform(WeComAdapter(engine, config, crypto, api),
                         channels(engine, config, api, os.environ.get))


def channels(engine: Engine, config: Config, api: WeComApi, key_of) -> list[Channel]:
    """The app's channel to people, then one per group robot: `key_of(env)` reads a
    robot's webhook key from its environment variable."""
    settings = config.platforms.wecom
    robots = [(env, None) for env in settings.all_staff_robot_envs] + [
        (env, team) for team, envs in settings.team_robot_envs.items() for env in envs]
    found: list[Channel] = [WeComChannel(engine, config, api)]
    for env, team in robots:
        key = key_of(env)
        if not key:
            raise ConfigError(f"platforms.wecom: environment variable {env} is not set")
        found.append(WeComRobotChannel(api, env, key, team))
    return found
