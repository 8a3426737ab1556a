"""Configuration: a TOML file validated at start, with secrets read from the environment."""

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, ValidationError, create_model, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.kit.platform import PLATFORMS, ConfigError, settings_model
from handlers.policy import DEFAULT_CATALOG, ConsoleLinks, Policy, StrictModel
from storage.engine import DEFAULT_URL, normalise_url


class Database(StrictModel):
    url: str = DEFAULT_URL
    url_env: str | None = Field(default=None, description="environment variable holding the URL")


class PlatformSections(StrictModel):
    """`[platforms.<name>]`: one section per registered platform (see bot/kit/platform.py)."""

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
    # POST /api/feedback signed the Standard Webhooks way: the variable holding the
    # `whsec_…` secret, or None to take only pushes signed like /api/praise.
    feedback_secret_env: str | None = None
    # How long a signed-in session lasts (sign-in links: see ConsoleLinks).
    session_hours: int = Field(default=12, ge=1, le=24 * 30)

    @model_validator(mode="before")
    @classmethod
    def _public_url_is_where_it_is_served(cls, data: object) -> object:
        """Unless `public_url` is set, sign-in links point at `host` and `port`."""
        if isinstance(data, dict) and "public_url" not in data:
            host = data.get("host", cls.model_fields["host"].default)
            port = data.get("port", cls.model_fields["port"].default)
            return {**data, "public_url": f"http://{served_host(host)}:{port}"}
        return data

    def praise_secret(self) -> str | None:
        return _secret("praise_secret_env", self.praise_secret_env)

    def feedback_secret(self) -> str | None:
        return _secret("feedback_secret_env", self.feedback_secret_env)


def _secret(field: str, variable: str | None) -> str | None:
    if variable is None:
        return None
    value = os.environ.get(variable)
    if not value:
        raise ConfigError(f"web.{field}: environment variable {variable} is not set")
    return value


def served_host(host: object) -> object:
    """The name a browser on this machine uses for a listening address: `localhost` for
    loopback and every-interface addresses (browsers keep Secure cookies there)."""
    if host in ("127.0.0.1", "0.0.0.0", "::", "::1", ""):
        return "localhost"
    return f"[{host}]" if isinstance(host, str) and ":" in host else host


class Privacy(StrictModel):
    """Personal-data requests (`frontline directory erase`)."""

    # Whether an erased person's own words (request reasons, suggestions, comments,
    # notes) stay, with their name taken out, or are blanked with the rest of them.
    keep_free_text_on_erase: bool = False


class Config(Policy):
    """The organisation's policy plus where Frontline runs: database, web, platforms."""

    database: Database = Database()
    privacy: Privacy = Privacy()
    web: Web = Web()
    platforms: Platforms = Field(default_factory=Platforms)

    def chat_platforms(self) -> tuple[str, ...]:
        return tuple(type(self.platforms).model_fields)

    def database_url(self) -> str:
        if self.database.url_env:
            url = os.environ.get(self.database.url_env)
            if not url:
                raise ConfigError(
                    f"database.url_env: environment variable {self.database.url_env} is not set")
            return _store(f"database.url_env ({self.database.url_env})", url)
        return _store("database.url", self.database.url)


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
        return parse_config({})
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:  # TOML is UTF-8 text
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_config(data)


def _store(where: str, url: str) -> str:
    """`url` when it names a store Frontline runs on; else a ConfigError that does not
    repeat it (a URL may hold a password)."""
    try:
        driver = make_url(normalise_url(url)).drivername
    except (ArgumentError, ValueError):
        driver = ""
    if driver not in ("sqlite", "postgresql+psycopg"):
        raise ConfigError(f"{where}: not a SQLite or PostgreSQL URL (like "
                          "sqlite:///frontline.db or postgresql://user@host/frontline)")
    return url


# The default catalog as config data, for settings built in code on top of it.
DEMO_CATALOG = [item.model_dump(exclude_defaults=True) for item in DEFAULT_CATALOG]
