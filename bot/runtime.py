"""Wire the enabled platforms into one process: their webhook routes on the shared
web app (beside the web console), their start/stop hooks in its event loop, and
their outbox channels. Several platforms can run side by side; every one uses the
same handlers. Each platform builds itself (see bot/kit/platform.py)."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from fastapi import APIRouter
from sqlalchemy import Engine

from bot.app.web import Hook
from bot.kit import platform
from bot.kit.config import Config
from bot.kit.outbox import Channel


@dataclass
class Platforms:
    platforms: list[platform.Platform] = field(default_factory=list)
    routers: list[APIRouter] = field(default_factory=list)
    on_start: list[Hook] = field(default_factory=list)
    on_stop: list[Hook] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    webhooks: dict[str, str] = field(default_factory=dict)  # path -> who it acknowledges for
    body_limits: dict[str, int] = field(default_factory=dict)  # path -> the largest body
    started: set[str] = field(default_factory=set)  # the platforms whose start() returned

    def readiness(self) -> dict[str, bool]:
        """Each enabled platform: started, and ready by its own account."""
        return {built.name: built.name in self.started and built.ready()
                for built in self.platforms}

    def hooks(self, built: platform.Platform) -> tuple[Hook, Hook]:
        """Its start and stop, noting whether it has started (for `/readyz`)."""
        async def start() -> None:
            await built.start()
            self.started.add(built.name)

        async def stop() -> None:
            self.started.discard(built.name)
            await built.stop()

        return start, stop


def wire(engine: Engine, config: Config,
         registry: Mapping[str, str] = platform.PLATFORMS) -> Platforms:
    from bot import webui

    wired = Platforms(routers=[webui.router(engine, config)])
    for name in config.platforms.enabled():
        built = platform.build(name, engine, config, registry)
        wired.platforms.append(built)
        router = built.router()
        if router is not None:  # every route a platform mounts is a webhook of its own
            wired.routers.append(router)
            wired.webhooks.update({route.path: built.name for route in router.routes})
            wired.body_limits.update({route.path: built.body_limit for route in router.routes})
        start, stop = wired.hooks(built)
        wired.on_start.append(start)
        wired.on_stop.append(stop)
        wired.channels.extend(built.channels())
    secret, feedback_secret = config.web.praise_secret(), config.web.feedback_secret()
    if secret or feedback_secret:
        from bot.app import praise_api

        wired.routers.append(praise_api.router(engine, config, secret,
                                               feedback_secret=feedback_secret))
        wired.webhooks.update(praise_api.WEBHOOKS)
    return wired
