"""Configuration: a TOML file validated at start, with secrets read from the environment."""

import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from storage.engine import DEFAULT_URL

Money = Annotated[Decimal, Field(ge=0, decimal_places=2)]
LOCALES = ("en", "zh")
ROLES = ("employee", "supervisor", "hr", "admin")


class ConfigError(Exception):
    """A configuration problem, phrased as `key.path: what is expected`."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organisation(_Strict):
    name: str = "Frontline demo store"
    timezone: str = "Asia/Shanghai"
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    other_currencies: list[Annotated[str, Field(pattern=r"^[A-Z]{3}$")]] = []
    default_locale: str = "en"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}, e.g. 'Asia/Shanghai'") from exc
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in LOCALES:
            raise ValueError(f"expected one of {', '.join(LOCALES)}")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Authority(_Strict):
    per_incident_limit: Money = Decimal("0")
    daily_budget: Money | None = None
    monthly_budget: Money | None = None


class TeamBudget(_Strict):
    daily: Money | None = None
    monthly: Money | None = None


class PointsRules(_Strict):
    praise: int = Field(default=10, gt=0)
    suggestion_accepted: int = Field(default=20, gt=0)
    major_issue: int = Field(default=100, gt=0)
    golden_ear: int = Field(default=50, gt=0)
    career_improvement_cases: int = Field(default=3, ge=1)


class CatalogItem(_Strict):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name_en: str
    name_zh: str
    cost: int = Field(gt=0)
    stock: int | None = Field(default=None, ge=0)

    def name(self, locale: str) -> str:
        return self.name_zh if locale == "zh" else self.name_en


Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class MorningPraise(_Strict):
    time: Clock = "09:00"
    days: str = Field(default="mon-fri", description="cron day_of_week, e.g. mon-fri or mon-sat")
    fallback: str = Field(default="replay", pattern=r"^(skip|replay)$")
    replay_unseen_days: int = Field(default=30, ge=1)


class GoldenEarSchedule(_Strict):
    open_day: int = Field(default=1, ge=1, le=28)
    reminder_day: int = Field(default=25, ge=1, le=28)
    close_day: str = Field(default="last", pattern=r"^(last|[1-9]|1\d|2[0-8])$")
    time: Clock = "10:00"
    close_time: Clock = "17:00"


class Reminders(_Strict):
    waiver_hours_before: int = Field(default=4, ge=1, le=23)
    approval_after_hours: int = Field(default=24, ge=1)
    approval_escalate_after_hours: int = Field(default=72, ge=2)
    check_every_minutes: int = Field(default=5, ge=1, le=60)


class WeeklyDigest(_Strict):
    day: str = Field(default="mon", pattern=r"^(mon|tue|wed|thu|fri|sat|sun)$")
    time: Clock = "09:00"


class RedCarpet(_Strict):
    date: str = Field(default="12-20", pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
    time: Clock = "10:00"
    # team name -> target name -> number. praise, points and improvement_cases are
    # counted from Frontline's own records for the year; any other target is compared
    # with the value given for that team under `measured` (e.g. an NPS from a survey).
    targets: dict[str, dict[str, float]] = {}
    measured: dict[str, dict[str, float]] = {}


class Rituals(_Strict):
    grace_minutes: int = Field(default=120, ge=0, description="a missed run younger than "
                               "this runs at start; an older one is recorded as missed")
    morning_praise: MorningPraise = MorningPraise()
    golden_ear: GoldenEarSchedule = GoldenEarSchedule()
    reminders: Reminders = Reminders()
    weekly_digest: WeeklyDigest = WeeklyDigest()
    red_carpet: RedCarpet = RedCarpet()


class Database(_Strict):
    url: str = DEFAULT_URL
    url_env: str | None = Field(default=None, description="environment variable holding the URL")


class _ChatPlatform(_Strict):
    """A platform section whose secrets live in environment variables it names."""

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


class Platforms(_Strict):
    slack: Slack = Slack()
    telegram: Telegram = Telegram()
    wecom: WeCom = WeCom()

    def enabled(self) -> list[str]:
        return [name for name in ("slack", "telegram", "wecom") if getattr(self, name).enabled]


class Web(_Strict):
    """Where the webhook endpoints and the web console are served."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # POST /api/praise (survey and feedback tools): the HMAC secret's variable, or
    # None to leave the endpoint off.
    praise_secret_env: str | None = None
    praise_window_seconds: int = Field(default=300, ge=30)
    # The web console: the address people open (sign-in links point there), how long
    # a sign-in link and a signed-in session last.
    public_url: str = Field(default="http://localhost:8080", pattern=r"^https?://[^/\s]+(/\S*)?$")
    login_link_minutes: int = Field(default=10, ge=1, le=60)
    session_hours: int = Field(default=12, ge=1, le=24 * 30)

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def praise_secret(self) -> str | None:
        if self.praise_secret_env is None:
            return None
        value = os.environ.get(self.praise_secret_env)
        if not value:
            raise ConfigError(f"web.praise_secret_env: environment variable "
                              f"{self.praise_secret_env} is not set")
        return value


class Config(_Strict):
    organisation: Organisation = Organisation()
    database: Database = Database()
    roles: dict[str, Authority] = {
        "employee": Authority(per_incident_limit=Decimal("200")),
        "supervisor": Authority(per_incident_limit=Decimal("1000")),
        "hr": Authority(per_incident_limit=Decimal("1000")),
        "admin": Authority(),
    }
    team_budget: TeamBudget = TeamBudget()
    points: PointsRules = PointsRules()
    catalog: list[CatalogItem] = []
    rituals: Rituals = Rituals()
    web: Web = Web()
    platforms: Platforms = Platforms()

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: dict[str, Authority]) -> dict[str, Authority]:
        unknown = sorted(set(value) - set(ROLES))
        if unknown:
            raise ValueError(f"unknown role {unknown[0]!r}; roles are {', '.join(ROLES)}")
        return value

    @field_validator("catalog")
    @classmethod
    def _unique_keys(cls, value: list[CatalogItem]) -> list[CatalogItem]:
        keys = [item.key for item in value]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"catalog key {duplicates[0]!r} appears twice")
        return value

    def authority(self, role: str) -> Authority:
        return self.roles.get(role, Authority())

    def catalog_item(self, key: str) -> CatalogItem | None:
        return next((item for item in self.catalog if item.key == key), None)

    def database_url(self) -> str:
        if self.database.url_env:
            url = os.environ.get(self.database.url_env)
            if not url:
                raise ConfigError(
                    f"database.url_env: environment variable {self.database.url_env} is not set")
            return url
        return self.database.url

    @property
    def currencies(self) -> tuple[str, ...]:
        return (self.organisation.currency, *self.organisation.other_currencies)


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
    {"key": "leave-day", "name_en": "A day of paid leave", "name_zh": "一天带薪假", "cost": 200},
    {"key": "training", "name_en": "A place on a training course", "name_zh": "一个培训名额",
     "cost": 150, "stock": 5},
    {"key": "innovation-100", "name_en": "100 CNY innovation-fund credit",
     "name_zh": "100元创新基金额度", "cost": 100},
    {"key": "coffee", "name_en": "Coffee voucher", "name_zh": "咖啡券", "cost": 10},
]
