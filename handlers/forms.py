"""Forms: a command's fields, for platforms that ask one question at a time
(Telegram conversations) or show them all at once (Slack modals). Each field reads
one answer or says, as a message key, what is wrong with it; the form builds the
same command the one-line grammar would. A use case declares its form beside its
handler (`declare(Form(...))`); a verb typed alone opens it (`OpenForm`)."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from handlers.registry import Command
from handlers.words import CURRENCY, REFERENCE, kinds, parse_amount
from storage.errors import FrontlineError

SKIP = {"-", "—", "无", "没有", "none", "no"}


class FieldError(FrontlineError):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem  # message key


def read_money(text: str) -> tuple[Decimal, str | None]:
    words = text.split()
    parsed = parse_amount(words[0]) if words else None
    if parsed is None or parsed[0] <= 0 or len(words) > 2:
        raise FieldError("error.amount")
    amount, currency = parsed
    if len(words) == 2:
        if currency is not None or not CURRENCY.match(words[1]):
            raise FieldError("error.amount")
        currency = words[1].upper()
    return amount, currency


def read_kind(text: str) -> str:
    kind = kinds().get(text.strip().lower())
    if kind is None:
        raise FieldError("error.kind")
    return kind


def read_text(problem: str) -> Callable[[str], str]:
    def read(text: str) -> str:
        if not text.strip():
            raise FieldError(problem)
        return " ".join(text.split())
    return read


def read_reference(text: str) -> str:
    """A customer reference, or nothing (`-`)."""
    text = text.strip()
    if not text or text.lower() in SKIP:
        return ""
    if len(text.split()) != 1:
        raise FieldError("error.customer_ref")
    return text.lstrip("#")


def read_waiver(text: str) -> int:
    match = REFERENCE.match(text.strip())
    if match is None or match.group(1).upper() != "W":
        raise FieldError("error.waiver_ref")
    return int(match.group(2))


def read_cost(text: str) -> tuple[Decimal | None, str | None]:
    if not text.strip() or text.strip().lower() in SKIP:
        return None, None
    return read_money(text)


@dataclass(frozen=True)
class Field:
    name: str
    prompt: str  # message key of the question, asked in a conversation
    read: Callable[[str], Any]
    optional: bool = False

    @property
    def label(self) -> str:  # message key of the short label, shown in a modal
        return f"label.{self.name}"


@dataclass(frozen=True)
class Form:
    name: str
    fields: tuple[Field, ...]
    build: Callable[[dict[str, Any]], Command]


FORMS: dict[str, Form] = {}


def declare(form: Form) -> Form:
    if form.name in FORMS:
        raise ValueError(f"form {form.name!r} declared twice")
    FORMS[form.name] = form
    return form


def read_all(form: Form, answers: dict[str, str]) -> tuple[Command | None, dict[str, str]]:
    """Read every field at once (a modal): the command, or the problem key per field."""
    values, problems = {}, {}
    for field in form.fields:
        try:
            values[field.name] = field.read(answers.get(field.name) or "")
        except FieldError as error:
            problems[field.name] = error.problem
    return (None if problems else form.build(values)), problems
