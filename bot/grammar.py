"""The command language: one grammar for every platform, in English and Simplified Chinese.

`parse(text)` returns a Command: an Unparsed one names the command whose usage
the sender should see. It never raises on any input.
"""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from handlers import commands as c
from handlers.i18n import accepted_words
from handlers.policy import LOCALES

VERBS: dict[str, str] = {}
for _canonical, _aliases in {
    "help": ["help", "h", "?", "帮助", "？"],
    "me": ["me", "我", "我的"],
    "comp": ["comp", "compensate", "补偿"],
    "waiver": ["waiver", "豁免"],
    "waivers": ["waivers", "豁免列表"],
    "praise": ["praise", "表扬"],
    "touching": ["touching", "heart", "感动"],
    "suggest": ["suggest", "suggestion", "建议"],
    "solved": ["solved", "解决"],
    "approve": ["approve", "ok", "ratify", "批准", "同意", "认可"],
    "decline": ["decline", "reject", "拒绝", "驳回"],
    "pending": ["pending", "待批", "待办"],
    "nominate": ["nominate", "提名"],
    "vote": ["vote", "投票"],
    "goldenear": ["goldenear", "golden-ear", "金耳朵"],
    "catalog": ["catalog", "catalogue", "商城", "目录"],
    "redeem": ["redeem", "兑换"],
    "cancel": ["cancel", "取消"],
    "ledger": ["ledger", "流水", "积分"],
    "lang": ["lang", "language", "语言", "語言"],
    "link": ["link", "绑定"],
    "login": ["login", "signin", "登录"],
}.items():
    for _alias in _aliases:
        VERBS[_alias] = _canonical

KINDS = {
    "refund": "refund", "退款": "refund",
    "voucher": "voucher", "代金券": "voucher", "券": "voucher",
    "upgrade": "upgrade", "升级": "upgrade",
    "gift": "gift", "礼品": "gift", "礼物": "gift",
    "other": "other", "其他": "other",
}
LANGUAGES = {word: locale for locale in LOCALES for word in accepted_words(f"word.lang.{locale}")}
WAIVER_REPORT_WORDS = {"report", "报备"}
WAIVER_LIST_WORDS = {"list", "列表"}
CLOSE_WORDS = {"close", "结算"}
REFERENCE = re.compile(r"^#?([CWPSMRcwpsmr])(\d{1,9})$")
AMOUNT = re.compile(r"^(?:[¥￥])?(\d{1,9}(?:\.\d{1,2})?)(元|[A-Za-z]{3})?$")
CURRENCY = re.compile(r"^[A-Za-z]{3}$")
HANDLE = re.compile(r"^@([\w.-]{1,64})$")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
AGO = re.compile(r"^-?(\d{1,3})(m|min|h|小时|分钟)$")
CLOCK = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)$")
FIELD_SEPARATOR = re.compile(r"\s*[/／|｜]\s*")


def parse(text: str) -> c.Command | c.Unparsed:
    words = text.replace("\u3000", " ").split()
    if not words:
        return c.Unparsed(None)
    verb = words[0].lstrip("/").split("@", 1)[0].lower()
    topic = VERBS.get(verb)
    if topic is None:
        return c.Unparsed(None)
    rest = words[1:]
    try:
        return _PARSERS[topic](rest)
    except _Usage as usage:
        return c.Unparsed(topic, usage.problem)


class _Usage(Exception):
    def __init__(self, problem: str = "") -> None:
        self.problem = problem


def _require(condition: bool, problem: str = "") -> None:
    if not condition:
        raise _Usage(problem)


def _handle(word: str) -> str:
    match = HANDLE.match(word)
    _require(match is not None, "error.handle")
    return match.group(1).lower()


def _number(word: str) -> int:
    word = word.lstrip("#")
    _require(word.isascii() and word.isdigit() and len(word) <= 9, "error.id")
    return int(word)


def parse_amount(word: str) -> tuple[Decimal, str | None] | None:
    """`120`, `120.50`, `¥120`, `120元`, `120USD` -> (amount, currency or None)."""
    match = AMOUNT.match(word)
    if match is None:
        return None
    try:
        amount = Decimal(match.group(1))
    except InvalidOperation:
        return None
    suffix = match.group(2)
    currency = None if suffix in (None, "元") else suffix.upper()
    return amount, currency


def _looks_like_amount(word: str) -> bool:
    return bool(re.match(r"^[-+¥￥]?[\d.,]+", word))


def _help(rest: list[str]) -> c.Help:
    return c.Help(VERBS.get(rest[0].lstrip("/").lower()) if rest else None)


def _me(rest: list[str]) -> c.Me:
    return c.Me()


def _comp(rest: list[str]) -> c.Compensate:
    _require(len(rest) >= 3)
    parsed = parse_amount(rest[0])
    _require(parsed is not None, "error.amount" if _looks_like_amount(rest[0]) else "")
    amount, currency = parsed
    _require(amount > 0, "error.amount")
    rest = rest[1:]
    if currency is None and CURRENCY.match(rest[0]) and rest[0].lower() not in KINDS:
        currency, rest = rest[0].upper(), rest[1:]
    _require(bool(rest) and rest[0].lower() in KINDS, "error.kind")
    kind = KINDS[rest[0].lower()]
    refs = [w for w in rest[1:] if w.startswith("#") and len(w) > 1]
    reason = " ".join(w for w in rest[1:] if w not in refs[:1])
    _require(bool(reason), "error.reason")
    return c.Compensate(amount, currency, kind, refs[0][1:] if refs else "", reason)


def _occurred(words: list[str]) -> c.Occurred:
    """`now`, `2h` / `-2h` / `30m` ago, `14:30` today, or `2026-11-23 14:30`."""
    joined = " ".join(words)
    if joined.lower() in ("now", "现在", "刚才"):
        return c.Occurred()
    if match := AGO.match(joined.lower()):
        unit = match.group(2)
        minutes = int(match.group(1)) * (1 if unit in ("m", "min", "分钟") else 60)
        return c.Occurred(ago=timedelta(minutes=minutes))
    if match := CLOCK.match(joined):
        return c.Occurred(today_at=time(int(match.group(1)), int(match.group(2))))
    try:
        return c.Occurred(local=datetime.strptime(joined.replace("：", ":"), "%Y-%m-%d %H:%M"))
    except ValueError:
        raise _Usage("error.when") from None


def _waiver(rest: list[str]) -> c.Command:
    _require(bool(rest))
    head = rest[0].lower()
    if head in WAIVER_LIST_WORDS:
        return c.WaiverList()
    if head in WAIVER_REPORT_WORDS:
        return _waiver_report(rest[1:])
    occurred = c.Occurred()
    if "@" in rest:
        at = rest.index("@")
        occurred, rest = _occurred(rest[at + 1:]), rest[:at]
    rule = " ".join(rest)
    _require(bool(rule), "error.rule")
    return c.WaiverOpen(rule, occurred)


def _waiver_report(rest: list[str]) -> c.WaiverReport:
    """`W3 <what was done instead> / <why> [#customer-ref] [cost [currency]]`: the
    customer reference and the cost are the trailing words of the line."""
    _require(len(rest) >= 2)
    waiver_id = _number(rest[0][1:] if rest[0][:1] in "Ww" else rest[0])
    parts = [p for p in FIELD_SEPARATOR.split(" ".join(rest[1:])) if p]
    _require(len(parts) >= 2, "error.report_fields")
    words = " ".join(parts[1:]).split()
    customer_ref, cost, currency = "", None, None
    while words:
        word = words[-1]
        if word.startswith("#") and len(word) > 1 and not customer_ref:
            customer_ref = word[1:]
        elif CURRENCY.match(word) and currency is None and cost is None and len(words) > 1 \
                and parse_amount(words[-2]) is not None:
            currency = word.upper()
        elif cost is None and (parsed := parse_amount(word)) is not None:
            cost, currency = parsed[0], parsed[1] or currency
        else:
            break
        words.pop()
    _require(bool(words), "error.report_fields")
    return c.WaiverReport(waiver_id, parts[0], " ".join(words), customer_ref, cost, currency)


def _waivers(rest: list[str]) -> c.WaiverList:
    return c.WaiverList()


def _praise(rest: list[str]) -> c.PraiseLog:
    _require(bool(rest))
    employee = None
    if rest[0].startswith("@"):
        employee, rest = _handle(rest[0]), rest[1:]
    attachment = ""
    if rest and re.match(r"^(https?://|file:)\S+$", rest[-1]):
        attachment, rest = rest[-1], rest[:-1]
    _require(bool(rest), "error.text")
    return c.PraiseLog(" ".join(rest), employee, attachment)


def _reference(word: str, kinds: str) -> tuple[str, int]:
    match = REFERENCE.match(word)
    _require(match is not None and match.group(1).upper() in kinds, "error.reference")
    return match.group(1).upper(), int(match.group(2))


def _touching(rest: list[str]) -> c.Touching:
    _require(len(rest) == 1)
    return c.Touching(_reference(rest[0], "P")[1])


def _suggest(rest: list[str]) -> c.Suggest:
    _require(bool(rest), "error.text")
    return c.Suggest(" ".join(rest))


def _solved(rest: list[str]) -> c.MajorIssueSolved:
    _require(bool(rest))
    employee = None
    if rest[0].startswith("@"):
        employee, rest = _handle(rest[0]), rest[1:]
    _require(bool(rest), "error.text")
    return c.MajorIssueSolved(" ".join(rest), employee)


def _decision(approve: bool):
    def parse_decision(rest: list[str]) -> c.Decide:
        _require(bool(rest))
        kind, record_id = _reference(rest[0], "CWPSMR")
        return c.Decide(kind, record_id, approve, " ".join(rest[1:]))

    return parse_decision


def _pending(rest: list[str]) -> c.Pending:
    return c.Pending()


def _nominate(rest: list[str]) -> c.Nominate:
    _require(len(rest) >= 2)
    return c.Nominate(_handle(rest[0]), " ".join(rest[1:]))


def _vote(rest: list[str]) -> c.CastVote:
    _require(len(rest) == 1)
    return c.CastVote(_handle(rest[0]))


def _goldenear(rest: list[str]) -> c.GoldenEar:
    if not rest:
        return c.GoldenEar()
    _require(rest[0].lower() in CLOSE_WORDS and len(rest) <= 2)
    month = rest[1] if len(rest) == 2 else None
    _require(month is None or MONTH.match(month) is not None, "error.month")
    return c.GoldenEar(close=True, month=month)


def _catalog(rest: list[str]) -> c.Catalog:
    return c.Catalog()


def _redeem(rest: list[str]) -> c.Redeem:
    _require(len(rest) == 1)
    return c.Redeem(rest[0].lower())


def _cancel(rest: list[str]) -> c.CancelRedemption:
    _require(len(rest) == 1)
    return c.CancelRedemption(_reference(rest[0], "R")[1])


def _ledger(rest: list[str]) -> c.Ledger:
    employee, limit = None, 10
    for word in rest:
        if word.startswith("@") and employee is None:
            employee = _handle(word)
        elif word.isascii() and word.isdigit() and 0 < int(word) <= 200:
            limit = int(word)
        else:
            raise _Usage()
    return c.Ledger(employee, limit)


def _lang(rest: list[str]) -> c.SetLanguage:
    _require(len(rest) == 1 and rest[0].lower() in LANGUAGES)
    return c.SetLanguage(LANGUAGES[rest[0].lower()])


def _link(rest: list[str]) -> c.LinkAccount:
    _require(len(rest) == 1 and rest[0].isascii() and rest[0].isalnum() and len(rest[0]) <= 32)
    return c.LinkAccount(rest[0])


def _login(rest: list[str]) -> c.SignIn:
    _require(not rest)
    return c.SignIn()


_PARSERS = {
    "help": _help, "me": _me, "comp": _comp, "waiver": _waiver, "waivers": _waivers,
    "praise": _praise, "touching": _touching, "suggest": _suggest, "solved": _solved,
    "approve": _decision(True), "decline": _decision(False), "pending": _pending,
    "nominate": _nominate, "vote": _vote, "goldenear": _goldenear, "catalog": _catalog,
    "redeem": _redeem, "cancel": _cancel, "ledger": _ledger, "lang": _lang,
    "link": _link, "login": _login,
}
