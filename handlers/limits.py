"""What text people may send: every text field declared once, with its kind and its
limit, and one check.

`FIELDS` names every text field a command, a form, a web page or the API carries;
its limit comes from its kind (`KINDS`) unless it says otherwise. The parser's check,
the API schemas, the platforms' forms and the limits table in the docs
(`markdown_table`) all read it. `check(command)` walks every string field of a
Command (and of the dataclasses inside it) before any handler runs, and refuses,
changing nothing, a field longer than its limit or holding a character it may not
(`storable`). A whole message longer than `MESSAGE` is refused before it is parsed
(`Overlong`). Lengths count characters; the longest rule, 200 CJK or emoji
characters, stays far inside PostgreSQL's limit for a btree index entry.
"""

import dataclasses
import re
from typing import Any

from handlers.base import Refusal
from handlers.registry import Command

# A whole chat message, before it is parsed: Telegram's own maximum.
MESSAGE = 4096


@dataclasses.dataclass(frozen=True)
class Kind:
    limit: int  # the most characters a field of this kind may hold
    what: str  # for the limits table


KINDS: dict[str, Kind] = {
    "text": Kind(2000, "praise, a suggestion, an issue, a council item's note"),
    "reason": Kind(1000, "a reason, a decline or settle comment, a waiver report's answers"),
    "link": Kind(1000, "a link to a recording"),
    "note": Kind(500, "a question on a request, its answer, a signal's dismissal note"),
    "name": Kind(200, "a team's name, or a person's as their platform shows it"),
    "id": Kind(200, "a platform's or a tool's id of a person, an event or a response"),
    "word": Kind(100, "a handle, a catalog item, a code, a currency, a month, a key"),
}
WORD, ID = KINDS["word"].limit, KINDS["id"].limit


@dataclasses.dataclass(frozen=True)
class TextField:
    kind: str
    limit: int | None = None  # None: its kind's
    why: str = ""  # what it is and why it differs from its kind, for the limits table
    labelled: bool = False  # a refusal names it by `field.<name>`, else by its kind's

    @property
    def most(self) -> int:
        return KINDS[self.kind].limit if self.limit is None else self.limit


# field name (as commands, forms, pages and the API call it) -> its declaration
FIELDS: dict[str, TextField] = {
    "text": TextField("text", labelled=True),
    "reason": TextField("reason", labelled=True),
    "why": TextField("reason", labelled=True),
    "done_instead": TextField("reason", labelled=True),
    "comment": TextField("reason", labelled=True),
    "attachment": TextField("link", labelled=True),
    "audio_url": TextField("link"),
    "question": TextField("note", labelled=True),
    "answer": TextField("note", labelled=True),
    "note": TextField("note", labelled=True),
    "rule": TextField("note", 200, "a waiver's rule, indexed (far inside PostgreSQL's limit "
                                   "for an index entry)", labelled=True),
    "team": TextField("name", labelled=True),
    "name": TextField("name"),
    "chat_id": TextField("id"),
    "source_id": TextField("id"),
    "id": TextField("id"),  # a sender's or an event's id (`check_id`)
    "customer_ref": TextField("word", 64, "a customer reference", labelled=True),
    **{name: TextField("word") for name in (
        "employee", "owner", "delegate", "person", "platform", "code", "locale", "key",
        "kind", "item_key", "outcome", "currency", "amount", "cost", "month", "theme",
        "step", "touchpoint", "source", "waiver", "ref", "form", "topic", "unknown", "problem",
        "day",
        "content_type", "colleague", "target", "also", "hours")},
}


def limit(name: str) -> int:
    """The most characters the field `name` may hold (an undeclared one: a word's)."""
    field = FIELDS.get(name)
    return WORD if field is None else field.most


def field_label(name: str) -> str:
    """The message key that names a field to the sender."""
    field = FIELDS.get(name, TextField("word"))
    return f"field.{name}" if field.labelled else f"field.{field.kind}"


# Refused in every field, wherever it comes from:
# - NUL (PostgreSQL refuses it in text) and lone UTF-16 surrogates (a JSON escape such
#   as `\ud800` decodes to one; it cannot be encoded as UTF-8);
# - the other C0 controls but tab and line feed, DEL and the C1 controls: ESC, BEL,
#   backspace and their kind drive a terminal or hide what precedes them; a carriage
#   return is kept only before a line feed (CRLF, as Windows and CSV files break lines)
#   since a lone one moves a terminal back to the start of the line;
# - the bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069): they reorder what a
#   reader sees, so a name or a reason could show other than it was stored.
_REFUSED = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_UNSTORABLE = re.compile(f"[{_REFUSED}\ud800-\udfff]|\r(?!\n)")
# The same for one word (a query parameter), as a schema pattern: no control at all.
WORD_PATTERN = "^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*$"
REFUSED_CHARACTERS = ("a control character other than tab and line break, a bidi override "
                      "or isolate (U+202A-U+202E, U+2066-U+2069), or a lone surrogate")


@dataclasses.dataclass(frozen=True)
class Overlong(Command):
    """A message longer than `MESSAGE`, left unparsed."""

    length: int


def storable(value: str) -> bool:
    """None of the characters refused above: kept and shown as it was typed."""
    return _UNSTORABLE.search(value) is None


def problem(name: str, value: str, most: int) -> Refusal | None:
    """Why `value` may not be stored in the field `name`, or None."""
    if not storable(value):
        return Refusal("input.bad_character", field_key=field_label(name))
    if len(value) > most:
        return Refusal("input.too_long", field_key=field_label(name), limit=most,
                       length=len(value))
    return None


def check_value(name: str, value: str, most: int | None = None) -> None:
    """Raises the refusal for one value (most: the field's declared limit)."""
    refusal = problem(name, value, most or limit(name))
    if refusal is not None:
        raise refusal


def check_id(value: str | None) -> None:
    """A sender's or an event's id, as a platform sent it."""
    if value is not None:
        check_value("id", value)


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


def markdown_table() -> str:
    """The limits table of the docs, from the declaration: one row per kind, then one
    per field that differs from its kind."""
    rows = ["| kind | what | at most | fields |", "|---|---|---:|---|"]
    for kind, declared in KINDS.items():
        names = [name for name, field in FIELDS.items() if field.kind == kind
                 and field.limit is None]
        rows.append(f"| {kind} | {declared.what} | {declared.limit:,} | "
                    f"{', '.join(f'`{name}`' for name in names)} |")
    rows += [f"| {field.kind} | {field.why} | {field.limit:,} | `{name}` |"
             for name, field in FIELDS.items() if field.limit is not None]
    rows.append(f"| message | a whole chat message, before it is read (Telegram's own "
                f"limit) | {MESSAGE:,} | |")
    return "\n".join(rows) + "\n"
