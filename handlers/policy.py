"""The organisation's policy: who may give how much, what earns points, what can be
redeemed, when the rituals run, which languages are spoken. It is the domain's own
configuration; `bot.kit.config` adds the platform, web and database settings around it."""

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from storage.enums import Role

Money = Annotated[Decimal, Field(ge=0, decimal_places=2)]
# The languages Frontline speaks: one for each catalog in handlers/locales/ (the folder
# `zh_Hant` is the code `zh-Hant`), English, the source, first. `zh` is Simplified
# Chinese; `zh-Hant` Traditional Chinese, for Hong Kong, Macau and Taiwan. Adding a
# language is adding its catalog.
LOCALES = ("en", *sorted(folder.parent.parent.name.replace("_", "-") for folder in (
    Path(__file__).parent / "locales").glob("*/LC_MESSAGES/frontline.po")
    if folder.parent.parent.name != "en"))



def known_roles(value: dict) -> dict:
    """A setting keyed by role names only the roles there are."""
    unknown = sorted(set(value) - set(Role))
    if unknown:
        raise ValueError(f"unknown role {unknown[0]!r}; roles are {', '.join(Role)}")
    return value

class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organisation(StrictModel):
    name: str = "Harbour Street Store"
    timezone: str = "Asia/Shanghai"
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    other_currencies: list[Annotated[str, Field(pattern=r"^[A-Z]{3}$")]] = []
    default_locale: str = "en"
    # The languages a post to a shared chat (all staff's, a team's) carries, in this
    # order; empty: every language the organisation's people read (handlers.directory).
    shared_languages: list[str] = []

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

    @field_validator("shared_languages")
    @classmethod
    def _known_locales(cls, value: list[str]) -> list[str]:
        for code in value:
            cls._known_locale(code)
        return list(dict.fromkeys(value))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Authority(StrictModel):
    per_incident_limit: Money = Decimal("0")
    daily_budget: Money | None = None
    monthly_budget: Money | None = None


class TeamBudget(StrictModel):
    daily: Money | None = None
    monthly: Money | None = None


class CompensationRules(StrictModel):
    # Compensations to one customer reference by one person within this many hours are
    # one incident: together they must fit the per-incident limit.
    incident_window_hours: int = Field(default=24, ge=1, le=720)


class Signals(StrictModel):
    """When a pattern in goodwill is worth a look by the supervisor and HR."""

    window_days: int = Field(default=7, ge=1, le=31)  # several staff, one customer
    several_staff: int = Field(default=3, ge=2)
    team_median_multiple: float = Field(default=3.0, gt=1)
    team_min_givers: int = Field(default=3, ge=2)  # a team median needs this many givers
    approval_days: int = Field(default=90, ge=7)
    approval_min_requests: int = Field(default=5, ge=2)
    approval_share: float = Field(default=0.95, gt=0, le=1)
    near_limit_share: float = Field(default=0.9, gt=0, lt=1)
    near_limit_count: int = Field(default=3, ge=2)
    # two colleagues who each thanked the other this many times within a month
    thanks_pair: int = Field(default=3, ge=2)


class ThanksPoints(StrictModel):
    """Points colleagues may give with thanks (`thanks @bob +5 …`): none unless the
    sender's role has a monthly allowance. The points are new, not the sender's own."""

    allowance: dict[str, Annotated[int, Field(ge=0, le=10_000)]] = Field(
        default={}, description="role -> points a person may give with thanks in a month, "
        "e.g. {employee = 20, supervisor = 50}; a role left out gives none")
    per_recipient: int = Field(default=10, ge=1, le=10_000, description="the most points "
                               "one person may give one colleague with thanks in a month")

    @field_validator("allowance")
    @classmethod
    def _known_roles(cls, value: dict[str, int]) -> dict[str, int]:
        return known_roles(value)


class PointsRules(StrictModel):
    praise: int = Field(default=10, gt=0)
    # Praise naming several people: "each" gives every one of them `praise` points;
    # "share" splits `praise` between them, in whole points: each gets praise // n and
    # the remainder goes one point each to the first named, so the total stays `praise`.
    team_praise: Literal["each", "share"] = "each"
    team_praise_max: int = Field(default=10, ge=2, le=50, description="the most people "
                                 "one praise may name")
    suggestion_accepted: int = Field(default=20, gt=0)
    major_issue: int = Field(default=100, gt=0)
    golden_ear: int = Field(default=50, gt=0)
    career_improvement_cases: int = Field(default=3, ge=1)
    thanks: ThanksPoints = ThanksPoints()


def fallbacks(locale: str) -> list[str]:
    """A locale code and the more general ones it can borrow from: zh-Hant, zh."""
    parts = locale.split("-")
    return ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]


class CatalogItem(StrictModel):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name_en: str
    name_zh: str
    names: dict[str, str] = Field(default={}, description="the name in other languages, "
                                  "e.g. {\"zh-Hant\" = \"一天帶薪假\"}")
    cost: int = Field(gt=0)
    stock: int | None = Field(default=None, ge=0)
    # What payroll makes of it: time off, training, fund credit, or a cash equivalent,
    # whose value in the organisation's currency is taxable.
    category: str = Field(default="other", pattern=r"^(time_off|training|fund|cash_equivalent|"
                          r"other)$")
    value: Money | None = Field(default=None, description="cash equivalents: the value in the "
                                "organisation's currency")

    @model_validator(mode="after")
    def _cash_equivalents_have_a_value(self) -> "CatalogItem":
        if (self.category == "cash_equivalent") != (self.value is not None):
            raise ValueError("a cash_equivalent item needs a value; other categories have none")
        return self

    @field_validator("names")
    @classmethod
    def _known_locales(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(LOCALES))
        if unknown:
            raise ValueError(f"unknown language {unknown[0]!r}; expected one of "
                             f"{', '.join(LOCALES)}")
        return value

    def all_names(self) -> dict[str, str]:
        """The name in each language it is given in (a message's `item_names`)."""
        return {"en": self.name_en, "zh": self.name_zh, **self.names}

    def name(self, locale: str) -> str:
        """The name in that language; Traditional Chinese borrows the Simplified name
        when it has none of its own, any other language the English one."""
        names = self.all_names()
        return next((names[code] for code in fallbacks(locale) if code in names), self.name_en)


Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class MorningPraise(StrictModel):
    time: Clock = "09:00"
    days: str = Field(default="mon-fri", description="cron day_of_week, e.g. mon-fri or mon-sat")
    fallback: str = Field(default="replay", pattern=r"^(skip|replay)$")
    replay_unseen_days: int = Field(default=30, ge=1)


class GoldenEarSchedule(StrictModel):
    open_day: int = Field(default=1, ge=1, le=28)
    reminder_day: int = Field(default=25, ge=1, le=28)
    close_day: str = Field(default="last", pattern=r"^(last|[1-9]|1\d|2[0-8])$")
    time: Clock = "10:00"
    close_time: Clock = "17:00"


class Reminders(StrictModel):
    waiver_hours_before: int = Field(default=4, ge=1, le=23)
    approval_after_hours: int = Field(default=24, ge=1)
    approval_escalate_after_hours: int = Field(default=72, ge=2)
    check_every_minutes: int = Field(default=5, ge=1, le=60)


class WeeklyDigest(StrictModel):
    day: str = Field(default="mon", pattern=r"^(mon|tue|wed|thu|fri|sat|sun)$")
    time: Clock = "09:00"


class MonthlyDigest(StrictModel):
    """The month's council results (items validated or reopened), told on this day of the
    next month."""

    day: int = Field(default=1, ge=1, le=28)
    time: Clock = "09:00"


class RedCarpet(StrictModel):
    date: str = Field(default="12-20", pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
    time: Clock = "10:00"
    # team name -> target name -> number. praise, points and improvement_cases are
    # counted from Frontline's own records for the year, nps, csat and enps measured from
    # its feedback and pulse; any other target (or a score nobody answered) is compared
    # with the value given for that team under `measured`.
    targets: dict[str, dict[str, float]] = {}
    measured: dict[str, dict[str, float]] = {}


class PulseSchedule(StrictModel):
    """The employee pulse: asked of every team in chat, answered anonymously."""

    day: str = Field(default="mon", pattern=r"^(mon|tue|wed|thu|fri|sat|sun)$")
    weeks: str = Field(default="*/2", description="cron week of the ISO year: */2 is "
                       "every second week, * every week")
    time: Clock = "10:00"
    open_days: int = Field(default=7, ge=1, le=28)
    min_answers: int = Field(default=5, ge=3, description="a team's pulse figures are "
                             "shown only with at least this many answers")
    key_env: str | None = Field(default=None, description="environment variable with a "
                                "secret mixed into the one-answer-per-person hashes")


class Retention(StrictModel):
    """Bookkeeping past its use, deleted once a day: command receipts, done inbox
    requests, delivered notifications, and forms, sign-in links and web sessions long
    expired. The period must stay well beyond every platform's retry window (Slack
    retries within the hour, Telegram keeps an update a day, a Standard Webhooks sender
    about a day), since a retry whose receipt is gone runs its command again."""

    time: Clock = "04:00"
    days: int = Field(default=30, ge=7, le=3650, description="rows past their use for "
                      "longer than this many days are deleted")


class Moments(StrictModel):
    """Service anniversaries (from the directory's start_date) and birthdays (only those
    people chose to share, `birthday MM-DD`), posted in the team's channel on the day."""

    time: Clock = "09:00"  # the team's local time


class Rituals(StrictModel):
    grace_minutes: int = Field(default=120, ge=0, description="a missed run younger than "
                               "this runs at start; an older one is recorded as missed")
    morning_praise: MorningPraise = MorningPraise()
    golden_ear: GoldenEarSchedule = GoldenEarSchedule()
    reminders: Reminders = Reminders()
    weekly_digest: WeeklyDigest = WeeklyDigest()
    monthly_digest: MonthlyDigest = MonthlyDigest()
    red_carpet: RedCarpet = RedCarpet()
    pulse: PulseSchedule = PulseSchedule()
    retention: Retention = Retention()
    moments: Moments = Moments()


# The built-in defaults, which config.example.toml shows: a section or a role a config
# leaves out keeps these (tests/test_config.py holds the example to them).
DEFAULT_ROLES: dict[str, Authority] = {
    Role.EMPLOYEE: Authority(per_incident_limit=Decimal("200"), daily_budget=Decimal("600"),
                             monthly_budget=Decimal("3000")),
    Role.SUPERVISOR: Authority(per_incident_limit=Decimal("1000")),
    Role.HR: Authority(per_incident_limit=Decimal("1000")),
    Role.ADMIN: Authority(),
}
DEFAULT_CATALOG: list[CatalogItem] = [
    CatalogItem(key="leave-day", name_en="A day of paid leave", name_zh="一天带薪假",
                names={"zh-Hant": "一天有薪假"}, cost=200, category="time_off"),
    CatalogItem(key="training", name_en="A place on a training course", name_zh="一个培训名额",
                cost=150, stock=5, category="training"),
    CatalogItem(key="innovation-100", name_en="100 CNY innovation-fund credit",
                name_zh="100元创新基金额度", cost=100, category="fund"),
    CatalogItem(key="coffee", name_en="Coffee voucher", name_zh="咖啡券", cost=10,
                category="cash_equivalent", value=Decimal("15")),
]


class Theme(StrictModel):
    """A theme of the experience vocabulary shared by customers' and staff's voices."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    names: dict[str, str] = Field(description="the name in each language, e.g. "
                                  "{en = \"IT systems\", zh = \"IT系统\"}")
    keywords: list[str] = Field(description="words, in any language, that tag a text "
                                "with this theme (matched case-insensitively)")

    def name(self, locale: str) -> str:
        return next((self.names[code] for code in fallbacks(locale) if code in self.names),
                    self.names.get("en", self.key))


DEFAULT_THEMES: list[Theme] = [
    Theme(key="it-systems", names={"en": "IT systems", "zh": "IT系统", "zh-Hant": "IT系統"},
          keywords=["system", "crm", "computer", "app", "order system", "offline", "系统",
                    "系統", "电脑", "電腦", "死机", "當機"]),
    Theme(key="refund-policy", names={"en": "Refund policy", "zh": "退款政策",
                                      "zh-Hant": "退款政策"},
          keywords=["refund", "receipt", "return", "退款", "退货", "退貨", "小票", "收据",
                    "收據"]),
    Theme(key="staffing", names={"en": "Staffing", "zh": "人手", "zh-Hant": "人手"},
          keywords=["staff", "queue", "wait", "busy", "shift", "排队", "排隊", "人手",
                    "等太久", "等了", "班次"]),
    Theme(key="product", names={"en": "Product", "zh": "产品", "zh-Hant": "產品"},
          keywords=["product", "broken", "quality", "stock", "产品", "產品", "质量",
                    "質量", "缺货", "缺貨"]),
]


class Council(StrictModel):
    """How the experience council prices a mirror problem and validates its fix."""

    complaint_cost: Money = Decimal("200")
    detractor_value: Money = Decimal("500")
    workaround_hours: Annotated[Decimal, Field(ge=0, decimal_places=2)] = Decimal("0.5")
    hourly_cost: Money = Decimal("60")
    window_days: int = Field(default=30, ge=7, le=180)
    auto_open_waivers: int = Field(default=5, ge=0, description="open an item by itself "
                                   "for a rule a team waived more often than this within "
                                   "the window; 0: never")
    members: list[str] = Field(default_factory=list, description="handles of the council's "
                               "members (e.g. the COO, the IT head), besides member_roles")
    member_roles: list[str] = Field(default_factory=lambda: ["hr", "admin"],
                                    description="every person of these roles sits on the "
                                    "council")

    def has_member(self, handle: str, role: str) -> bool:
        """Does this person sit on the council (and so approve and validate its items)?"""
        return role in self.member_roles or handle.lower() in {m.lower() for m in self.members}


class Recovery(StrictModel):
    """Which customer responses open a recovery case, and how soon the customer is
    called back."""

    rules: list[Annotated[str, Field(pattern=r"^(nps|csat|ces|complaint)$")]] = Field(
        default_factory=lambda: ["nps", "csat", "ces", "complaint"],
        description="the kinds of response that may open a case; leave one out to turn "
        "its rule off")
    nps_at_most: int = Field(default=6, ge=0, le=10, description="a detractor: 0 to this")
    csat_at_most: int = Field(default=2, ge=1, le=5)
    ces_at_least: int = Field(default=6, ge=1, le=7, description="effort: this to 7")
    callback_hours: int = Field(default=24, ge=1, le=720)
    complaint_callback_hours: int = Field(default=4, ge=1, le=720)
    remind_hours_before: int = Field(default=2, ge=1, le=24, description="the holder is "
                                     "reminded this long before the deadline")
    hr_after_hours: int = Field(default=24, ge=1, le=720, description="still open this long "
                                "after the deadline (the supervisor told at it): HR is told")
    live_voice: bool = Field(default=True, description="a good score naming someone is "
                             "told to them as it arrives")
    good_nps_at_least: int = Field(default=9, ge=0, le=10, description="a promoter: this to 10")
    good_csat_at_least: int = Field(default=5, ge=1, le=5)
    good_ces_at_most: int = Field(default=2, ge=1, le=7, description="little effort: 1 to this")

    def unhappy(self, kind: str, score: int | None) -> bool:
        """Whether a response of this kind and score opens a case."""
        if kind not in self.rules:
            return False
        if kind == "complaint":
            return True
        if score is None:
            return False
        return {"nps": score <= self.nps_at_most, "csat": score <= self.csat_at_most,
                "ces": score >= self.ces_at_least}.get(kind, False)

    def happy(self, kind: str, score: int | None) -> bool:
        """Whether a response is good news: praise, or a score at the good end."""
        if kind == "praise":
            return True
        if score is None:
            return False
        return {"nps": score >= self.good_nps_at_least, "csat": score >= self.good_csat_at_least,
                "ces": score <= self.good_ces_at_most}.get(kind, False)

    def callback_within(self, kind: str) -> int:
        """Hours the customer is to be called back within."""
        return self.complaint_callback_hours if kind == "complaint" else self.callback_hours


class Leavers(StrictModel):
    """What happens to the balance of a person marked as left (`leaver @bob`, or the
    directory import's active = no): kept as it is, paid out (a ledger entry taking it
    to 0, and a line of the payroll export), or forfeited (a ledger entry taking it
    to 0)."""

    balance: Literal["kept", "paid_out", "forfeited"] = "kept"
    point_value: Money | None = Field(default=None, description="paid_out: what one point "
                                      "is worth in the organisation's currency, which the "
                                      "payroll export reports as taxable")


class Seasons(StrictModel):
    """The monthly board of each team (`board`): customer-earned points only."""

    min_customers: int = Field(default=3, ge=0, le=1000, description="customers served "
                               "in the month (feedback naming the person and praise "
                               "credited to them) before anyone is ranked")


Hours = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")]


class QuietHours(StrictModel):
    """Working hours: outside them a notification to a person that is not urgent waits
    in the outbox for their next working time. A person's shifts (imported) come first,
    then their own hours (`prefs hours`), their team's, the organisation's."""

    enabled: bool = False
    hours: Hours | None = Field(default=None, description="the organisation's working "
                                "hours in each team's timezone, e.g. \"08:00-20:00\" "
                                "(22:00-06:00 spans midnight); none: any time")
    teams: dict[str, Hours] = Field(default={}, description="team name -> its hours")
    approvals_urgent: bool = Field(default=True, description="a request waiting on "
                                   "someone's decision reaches them at once")
    urgent: list[str] = Field(default_factory=lambda: ["notify.login_link",
                                                       "notify.recovery_*"],
                              description="message keys sent at once whatever the hour; "
                              "one ending in * stands for every key it begins")

    @field_validator("hours")
    @classmethod
    def _some_time(cls, value: str | None) -> str | None:
        if value is not None and value[:5] == value[6:]:
            raise ValueError("working hours must not start and end at the same time")
        return value

    @field_validator("teams")
    @classmethod
    def _some_time_each(cls, value: dict[str, str]) -> dict[str, str]:
        for hours in value.values():
            cls._some_time(hours)
        return value


class ConsoleLinks(StrictModel):
    """Where sign-in links to the web console point, and how long they last."""

    public_url: str = Field(default="http://localhost:8080", pattern=r"^https?://[^/\s]+(/\S*)?$")
    login_link_minutes: int = Field(default=10, ge=1, le=60)

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


class Policy(StrictModel):
    organisation: Organisation = Organisation()
    roles: dict[str, Authority] = Field(default_factory=lambda: dict(DEFAULT_ROLES),
                                       description="a role given replaces that role's default")
    team_budget: TeamBudget = TeamBudget()
    compensation: CompensationRules = CompensationRules()
    signals: Signals = Signals()
    points: PointsRules = PointsRules()
    catalog: list[CatalogItem] = Field(default_factory=lambda: list(DEFAULT_CATALOG),
                                       description="given, it replaces the default catalog "
                                       "(an empty list: nothing to redeem)")
    rituals: Rituals = Rituals()
    web: ConsoleLinks = ConsoleLinks()
    themes: list[Theme] = Field(default_factory=lambda: list(DEFAULT_THEMES),
                                description="given, it replaces the default themes")
    council: Council = Council()
    recovery: Recovery = Recovery()
    quiet_hours: QuietHours = QuietHours()
    leavers: Leavers = Leavers()
    seasons: Seasons = Seasons()

    def theme(self, key: str) -> Theme | None:
        return next((theme for theme in self.themes if theme.key == key), None)

    def chat_platforms(self) -> tuple[str, ...]:
        """The chat platforms people are linked on (the directory has a `<name>_id`
        column for each). The domain knows none; the running configuration (bot's
        `Config`) names every platform registered."""
        return ()

    @model_validator(mode="before")
    @classmethod
    def _roles_left_out_keep_their_defaults(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("roles"), dict):
            return {**data, "roles": {**DEFAULT_ROLES, **data["roles"]}}
        return data

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: dict[str, Authority]) -> dict[str, Authority]:
        return known_roles(value)

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

    @property
    def currencies(self) -> tuple[str, ...]:
        return (self.organisation.currency, *self.organisation.other_currencies)
