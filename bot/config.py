"""Configuration: a TOML file validated at start, with secrets read from the environment."""

import os
import tomllib
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, Field, ValidationError

from handlers.policy import ConsoleLinks, Policy, StrictModel
from storage.engine import DEFAULT_URL


class ConfigError(Exception):
    """A configuration problem, phrased as `key.path: what is expected`."""


class Database(StrictModel):
    url: str = DEFAULT_URL
    url_env: str | None = Field(default=None, description="environment variable holding the URL")


class _ChatPlatform(BaseModel):
    """A platform section whose secrets live in environment variables it names."""

    model_config = StrictModel.model_config

    section: ClassVar[str]

    def secret(self, field: str) -> str:
        name = getattr(self, field)
        value = os.environ.get(name)
        if not value:
            raise ConfigError(f"platforms.{self.section}.{field}: environment variable "
                              f"{name} is not set")
        return value


class WeCom(_ChatPlatform):
    """A WeCom self-built app. Every *_env names an environment variable."""

    section: ClassVar[str] = "wecom"

    enabled: bool = False
    corp_id: str = ""
    agent_id: int = 0
    secret_env: str = "WECOM_SECRET"  # the app's Secret, for gettoken
    token_env: str = "WECOM_TOKEN"  # the callback Token
    aes_key_env: str = "WECOM_AES_KEY"  # the callback EncodingAESKey
    api_base: str = "https://qyapi.weixin.qq.com"
    replay_window_seconds: int = Field(default=300, ge=30)
    # Group robots (webhook keys, from the environment) that receive broadcasts:
    # all-staff posts go to `all_staff_robot_envs`, a team's posts to its own.
    all_staff_robot_envs: list[str] = []
    team_robot_envs: dict[str, list[str]] = {}


class Telegram(_ChatPlatform):
    """A Telegram bot. Every *_env names an environment variable."""

    section: ClassVar[str] = "telegram"

    enabled: bool = False
    token_env: str = "TELEGRAM_BOT_TOKEN"  # from @BotFather
    mode: str = Field(default="polling", pattern=r"^(polling|webhook)$")
    webhook_url: str = Field(default="", description="public https URL of /telegram/webhook")
    webhook_secret_env: str = "TELEGRAM_WEBHOOK_SECRET"  # checked on every webhook call
    api_base: str = "https://api.telegram.org/bot"
    file_base: str = "https://api.telegram.org/file/bot"
    # Chat ids (groups are negative) that receive broadcasts: all-staff posts go to
    # `all_staff_chats`, a team's posts to the chats listed under its name.
    all_staff_chats: list[int] = []
    team_chats: dict[str, list[int]] = {}
    touching_reaction: str = "❤"  # a reaction with this emoji marks praise as touching
    form_timeout_minutes: float = Field(default=10, gt=0, le=120)


class Slack(_ChatPlatform):
    """A Slack app. Every *_env names an environment variable."""

    section: ClassVar[str] = "slack"
    enabled: bool = False
    mode: str = Field(default="http", pattern=r"^(http|socket)$")
    bot_token_env: str = "SLACK_BOT_TOKEN"  # xoxb-…
    signing_secret_env: str = "SLACK_SIGNING_SECRET"  # HTTP mode: verifies every request
    app_token_env: str = "SLACK_APP_TOKEN"  # Socket Mode: xapp-… with connections:write
    api_base: str = "https://slack.com/api/"
    command: str = Field(default="/frontline", pattern=r"^/[a-z0-9_-]{1,31}$")
    alias: str = Field(default="/fl", pattern=r"^(/[a-z0-9_-]{1,31})?$")
    # Channel ids that receive broadcasts: all-staff posts, and each team's posts.
    all_staff_channel: str = ""
    team_channels: dict[str, str] = {}
    touching_reaction: str = "heart"  # the reaction's name, without colons


class Platforms(StrictModel):
    slack: Slack = Slack()
    telegram: Telegram = Telegram()
    wecom: WeCom = WeCom()

    def enabled(self) -> list[str]:
        return [name for name in ("slack", "telegram", "wecom") if getattr(self, name).enabled]


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
    platforms: Platforms = Platforms()

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
