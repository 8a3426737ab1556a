"""The contract every chat platform keeps, and the registry of platforms.

A platform is a package `bot/platforms/<name>/`, built on the kit alone, with two
entry points:

- `settings.py`: `Settings`, its `[platforms.<name>]` config section (a
  `PlatformSettings`). It imports no platform SDK: the config is built from the
  settings of every registered platform, enabled or not.
- `platform.py`: `build(engine, config) -> Platform`, which reads the platform's
  secrets and builds it. It is imported only when the platform is enabled, so a
  disabled platform's SDK is never loaded.

Adding a platform is such a package and one line in `PLATFORMS`.
"""

import os
from collections.abc import Mapping
from importlib import import_module
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, Field
from sqlalchemy import Engine

from handlers.policy import StrictModel
from storage.errors import FrontlineError

if TYPE_CHECKING:  # for annotations only: bot.kit.config itself imports this module (and
    from fastapi import APIRouter  # the commands that serve no web app need no FastAPI)

    from bot.kit.config import Config
    from bot.kit.doctor import Finding
    from bot.kit.outbox import Channel

# name -> package. The name is the config section ([platforms.<name>]) and the
# `platform` of the people's chat identities.
PLATFORMS: dict[str, str] = {
    "slack": "bot.platforms.slack",
    "telegram": "bot.platforms.telegram",
    "wecom": "bot.platforms.wecom",
    "feishu": "bot.platforms.feishu",
    "teams": "bot.platforms.teams",
    "dingtalk": "bot.platforms.dingtalk",
}


@runtime_checkable
class Platform(Protocol):
    """One running chat platform: what comes in through its routes or its own
    connection, what goes out through its outbox channels. Subclass it to inherit
    the defaults (no routes, nothing to start or stop, ready once started)."""

    name: ClassVar[str]
    # The largest request body its routes take, in bytes: what one of its webhook
    # calls can carry (the web app refuses a larger one before reading it).
    body_limit: ClassVar[int] = 64 * 1024

    def router(self) -> "APIRouter | None":
        """Its routes on the shared web app (webhooks, callbacks), or None."""
        return None

    async def start(self) -> None:
        """Run in the web app's event loop before it serves: connect, poll, register."""
        return None

    async def stop(self) -> None:
        """Run in the web app's event loop when it shuts down."""
        return None

    def ready(self) -> bool:
        """Asked by `/readyz` once `start()` has returned: whether it is connected and
        serving. By default a started platform is ready; a package that can tell more
        (a dropped socket, a rejected token) says so here."""
        return True

    def channels(self) -> "list[Channel]":
        """Its outbox channels: people by direct message, each shared chat its own."""
        ...

    async def findings(self) -> "list[Finding]":
        """For `frontline doctor`: its live credentials and permissions, asked of the
        platform's own API (a missing scope, an app nobody may see, ...)."""
        return []


class ConfigError(FrontlineError):
    """A configuration problem, phrased as `key.path: what is expected` (the platforms'
    sections and secrets too; bot.kit.config, built from those sections, raises it as well)."""


class PlatformSettings(BaseModel):
    """A platform's config section. Secrets never sit in the file: a field ending
    in `_env` names the environment variable that holds one."""

    model_config = StrictModel.model_config

    section: ClassVar[str]  # the platform's name in the registry

    enabled: bool = False
    # Work after the ack, from the durable inbox (bot/kit/inbox.py): threads, and requests
    # that may wait for one; beyond that the platform's way of "send it again" answers.
    work_threads: int = Field(default=8, ge=1, le=64)
    work_queue: int = Field(default=500, ge=0, le=100_000)
    # A request whose worker died is run by another once its lease has run out; every
    # worker looks for such requests (and retries that are due) this often.
    inbox_lease_seconds: float = Field(default=15, ge=1, le=600)
    inbox_sweep_seconds: float = Field(default=3, gt=0, le=600)

    def secret(self, field: str) -> str:
        name = getattr(self, field)
        value = os.environ.get(name)
        if not value:
            raise ConfigError(f"platforms.{self.section}.{field}: environment variable "
                              f"{name} is not set")
        return value


def settings_model(name: str, registry: Mapping[str, str] = PLATFORMS,
                   ) -> type[PlatformSettings]:
    """The config section of the platform registered as `name`."""
    model = import_module(".settings", registry[name]).Settings
    if model.section != name:
        raise TypeError(f"{registry[name]}.settings.Settings.section is {model.section!r}, "
                        f"but the platform is registered as {name!r}")
    return model


def build(name: str, engine: Engine, config: "Config",
          registry: Mapping[str, str] = PLATFORMS) -> Platform:
    """The platform registered as `name`, built from its settings and secrets."""
    platform = import_module(".platform", registry[name]).build(engine, config)
    if platform.name != name:
        raise TypeError(f"{registry[name]}.platform.build made {platform.name!r}, "
                        f"but the platform is registered as {name!r}")
    return platform
