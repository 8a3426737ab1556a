"""Configuration: a TOML file validated at start, with secrets read from the environment."""

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, ValidationError, create_model

from bot.platform import PLATFORMS, settings_model
from handlers.policy import ConsoleLinks, Policy, StrictModel
from storage.engine import DEFAULT_URL
from storage.errors import FrontlineError


class ConfigError(FrontlineError):
    """A configuration problem, phrased as `key.path: what is expected`."""


class Database(StrictModel):
    url: str = DEFAULT_URL
    url_env: str | None = Field(default=None, description="environment variable holding the URL")


class PlatformSections(StrictModel):
    """`[platforms.<name>]`: one section per registered platform (see bot/platform.py)."""

    def enabled(self) -> list[str]:
        return [name for name in type(self).model_fields if getattr(self, name).enabled]


def platforms_model(registry: Mapping[str, str] = PLATFORMS) -> type[PlatformSections]:
    """The `platforms` section, derived from the registry: each platform brings its
    own settings model, and a section no platform owns is refused."""
    sections = {}
    for name in registry:
        model = settings_model(name, registry)
        sections[name] = (model, Field(default_factory=model))
    return create_model("Platforms", __base__=PlatformSections, **sections)


Platforms = platforms_model()


class Web(ConsoleLinks):
    """Where the webhook endpoints and the web console are served."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # POST /api/praise (survey and feedback tools): the HMAC secret's variable, or
    # None to leave the endpoint off.
    praise_secret_env: str | None = None
    praise_window_seconds: int = Field(default=300, ge=30)
    # How long a signed-in session lasts (sign-in links: see ConsoleLinks).
    session_hours: int = Field(default=12, ge=1, le=24 * 30)

    def praise_secret(self) -> str | None:
        if self.praise_secret_env is None:
            return None
        value = os.environ.get(self.praise_secret_env)
        if not value:
            raise ConfigError(f"web.praise_secret_env: environment variable "
                              f"{self.praise_secret_env} is not set")
        return value


class Config(Policy):
    """The organisation's policy plus where Frontline runs: database, web, platforms."""

    database: Database = Database()
    web: Web = Web()
    platforms: Platforms = Field(default_factory=Platforms)

    def database_url(self) -> str:
        if self.database.url_env:
            url = os.environ.get(self.database.url_env)
            if not url:
                raise ConfigError(
                    f"database.url_env: environment variable {self.database.url_env} is not set")
            return url
        return self.database.url


def parse_config(data: dict) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ConfigError(f"{path}: {first['msg']}") from None


def load_config(path: str | Path | None = None) -> Config:
    """Read `path`, else $FRONTLINE_CONFIG, else ./frontline.toml, else built-in defaults."""
    path = path or os.environ.get("FRONTLINE_CONFIG")
    if path is None and Path("frontline.toml").exists():
        path = "frontline.toml"
    if path is None:
        return parse_config({"catalog": DEMO_CATALOG})
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_config(data)


DEMO_CATALOG = [
    {"key": "leave-day", "name_en": "A day of paid leave", "name_zh": "一天带薪假",
     "names": {"zh-Hant": "一天有薪假"}, "cost": 200},
    {"key": "training", "name_en": "A place on a training course", "name_zh": "一个培训名额",
     "cost": 150, "stock": 5},
    {"key": "innovation-100", "name_en": "100 CNY innovation-fund credit",
     "name_zh": "100元创新基金额度", "cost": 100},
    {"key": "coffee", "name_en": "Coffee voucher", "name_zh": "咖啡券", "cost": 10},
]
