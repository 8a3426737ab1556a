"""What free text a command may carry: one table of maximum lengths, one check.

`check(command)` walks every string field of a Command (and of the dataclasses inside
it) before any handler runs, and refuses, changing nothing, a field longer than its
limit or holding a character no store keeps: NUL (PostgreSQL refuses it in text) or a
lone UTF-16 surrogate (a JSON escape such as `\\ud800` decodes to one; it cannot be
encoded as UTF-8). A whole message longer than `MESSAGE` is refused before it is
parsed (`Overlong`). Lengths count characters; the longest rule, 200 CJK or emoji
characters, stays far inside PostgreSQL's limit for a btree index entry.
"""

import dataclasses
import re
from typing import Any

from handlers.base import Refusal
from handlers.registry import Command

# A whole chat message, before it is parsed: Telegram's own maximum.
MESSAGE = 4096

# field name -> the most characters it may hold
FIELDS: dict[str, int] = {
    "rule": 200,  # indexed
    "customer_ref": 64,
    "text": 2000,
    "reason": 1000,
    "done_instead": 1000,
    "why": 1000,
    "comment": 1000,
    "attachment": 1000,  # a link to a recording
}
# every other string field: handles, item keys, codes, currencies, kinds, months …
WORD = 100
# an id that names a sender or an event (a platform's user id, an idempotency key)
ID = 200

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclasses.dataclass(frozen=True)
class Overlong(Command):
    """A message longer than `MESSAGE`, left unparsed."""

    length: int


def field_label(name: str) -> str:
    """The message key that names a field to the sender."""
    return f"field.{name}" if name in FIELDS else "field.word"


def storable(value: str) -> bool:
    """No NUL and no lone surrogate: every store keeps it as it is."""
    return _UNSTORABLE.search(value) is None


def problem(name: str, value: str, limit: int) -> Refusal | None:
    """Why `value` may not be stored in the field `name`, or None."""
    if not storable(value):
        return Refusal("input.bad_character", field_key=field_label(name))
    if len(value) > limit:
        return Refusal("input.too_long", field_key=field_label(name), limit=limit,
                       length=len(value))
    return None


def check_value(name: str, value: str, limit: int | None = None) -> None:
    """Raises the refusal for one value (limit: the field's from the table)."""
    refusal = problem(name, value, limit or FIELDS.get(name, WORD))
    if refusal is not None:
        raise refusal


def check_id(value: str | None) -> None:
    """A sender's or an event's id, as a platform sent it."""
    if value is not None:
        check_value("word", value, ID)


def check(command: Command) -> None:
    """Refuses (raises `Refusal`) a command with a field it may not carry."""
    if isinstance(command, Overlong):
        raise Refusal("input.message_too_long", limit=MESSAGE, length=command.length)
    _check_fields(command)


def _check_fields(value: Any, name: str = "") -> None:
    if isinstance(value, str):
        check_value(name, value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            _check_fields(getattr(value, field.name), field.name)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_fields(item, name)
