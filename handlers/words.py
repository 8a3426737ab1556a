"""Reading the words of a command: the pieces every verb's parser shares (handles,
amounts, references, kinds, times). A parser raises `Usage` when the words do not
fit; the sender then gets the verb's usage, with the specific problem first.

The words people may type besides numbers and names (compensation kinds, language
names, `report`, `now`, …) come from the message catalogs, in every language at once."""

import re
from decimal import Decimal, InvalidOperation
from functools import cache

from handlers import registry
from handlers.i18n import accepted_words
from handlers.policy import LOCALES
from storage.enums import CompensationKind
from storage.errors import FrontlineError

AMOUNT = re.compile(r"^(?:[¥￥])?(\d{1,9}(?:\.\d{1,2})?)(元|[A-Za-z]{3})?$")
CURRENCY = re.compile(r"^[A-Za-z]{3}$")
HANDLE = re.compile(r"^@([\w.-]{1,64})$")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
REFERENCE = re.compile(r"^#?([A-Za-z])(\d{1,9})$")  # C12, #W3: letter and record id
FIELD_SEPARATOR = re.compile(r"\s*[/／|｜]\s*")


class Usage(FrontlineError):
    def __init__(self, problem: str = "") -> None:
        super().__init__(problem)
        self.problem = problem  # message key of what is wrong, or "" for the usage alone


def require(condition: bool, problem: str = "") -> None:
    if not condition:
        raise Usage(problem)


def is_word(word: str, key: str) -> bool:
    """Is `word` one of the catalog entry `key`'s words, in any language?"""
    return word.lower() in accepted_words(key)


def handle(word: str) -> str:
    match = HANDLE.match(word)
    require(match is not None, "error.handle")
    return match.group(1).lower()


def leading_handle(rest: list[str]) -> tuple[str | None, list[str]]:
    """`@bob the rest…` -> ("bob", the rest); without a leading handle, (None, all)."""
    if rest and rest[0].startswith("@"):
        return handle(rest[0]), rest[1:]
    return None, rest


def number(word: str) -> int:
    word = word.lstrip("#")
    require(word.isascii() and word.isdigit() and len(word) <= 9, "error.id")
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


def looks_like_amount(word: str) -> bool:
    return bool(re.match(r"^[-+¥￥]?[\d.,]+", word))


NUMERIC = re.compile(r"^[-+]?[¥￥]?[-+]?\d[\d.,]*(?:元|[A-Za-z]{3})?$")


def trailing_amount(word: str) -> tuple[Decimal, str | None] | None:
    """The amount a trailing word of free text is, None when it is a word; a number
    that is no valid amount (`-5`, `1.234`, `1,5`) is refused rather than taken as text."""
    parsed = parse_amount(word)
    require(parsed is not None or NUMERIC.match(word) is None, "error.amount")
    return parsed


def reference(word: str, letters: str) -> tuple[str, int]:
    """`C12` / `#c12` -> ("C", 12), if its letter is one of `letters`."""
    match = REFERENCE.match(word)
    require(match is not None and match.group(1).upper() in letters, "error.reference")
    return match.group(1).upper(), int(match.group(2))


@cache
def verbs() -> dict[str, str]:
    """Every word for a verb, in every language -> the canonical verb."""
    registry.load()
    return {word: name for name in registry.VERBS
            for word in accepted_words(f"verb.{name}") | {name}}


@cache
def kinds() -> dict[str, str]:
    """Every word for a compensation kind, in every language -> the kind."""
    return {word: kind for kind in CompensationKind
            for word in accepted_words(f"word.kind.{kind}") | {kind}}


@cache
def languages() -> dict[str, str]:
    """Every word naming a language the bot speaks -> its locale code."""
    return {word: code for code in LOCALES
            for word in accepted_words(f"word.lang.{code}") | {code.lower()}}
