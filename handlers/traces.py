"""Where a person shows in the database, found the same way in every table: the rows
that point at their directory row, and the text (plain or JSON) that names them.

Tables are walked through SQLModel's metadata, so a table added later is covered
without being listed here; `handlers.personal_data` exports and erases what it finds."""

import base64
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, String, Table, Text, cast, func, or_, select
from sqlmodel import Session, SQLModel

from storage.models import ChatIdentity, Employee
from storage.rows import connection

# Not data about anyone: what proves a sign-in or a code, kept only as hashes.
SECRET_COLUMNS = frozenset({"code_hash", "token_hash", "csrf_token"})
QUOTED = 8  # characters from which a blanked text is taken out of longer strings too


@dataclass(frozen=True)
class Identity:
    """What names a person: their directory row's name and handle, their chat ids."""

    employee: Employee
    chat_ids: tuple[str, ...]

    @property
    def needles(self) -> tuple[str, ...]:
        """Longest first, so a name is replaced before a handle inside it."""
        found = {self.employee.name, self.employee.handle, *self.chat_ids}
        return tuple(sorted((n for n in found if n.strip()), key=len, reverse=True))


def identity(session: Session, person: Employee) -> Identity:
    chats = session.scalars(select(ChatIdentity).where(
        ChatIdentity.employee_id == person.id).order_by(ChatIdentity.id)).all()
    ids = [chat.platform_user_id for chat in chats]
    ids += [chat.union_id for chat in chats if chat.union_id]
    return Identity(person, tuple(ids))


def pattern(needles: Iterable[str]) -> re.Pattern[str]:
    """Each needle as a whole word: `alice` in `@alice` or `感谢alice`, not in `malice`
    (beside a Latin letter or digit it is part of another word; CJK has no spaces)."""
    words = "|".join(re.escape(needle) for needle in needles)
    return re.compile(rf"(?<![A-Za-z0-9_])(?:{words})(?![A-Za-z0-9_])", re.IGNORECASE)


def tables(*leave_out: type[SQLModel]) -> Iterator[Table]:
    skipped = {model.__table__.name for model in leave_out}
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in skipped:
            yield table


def text_columns(table: Table) -> list[Any]:
    return [column for column in table.columns if is_text(column)]


def is_text(column: Any) -> bool:
    """A string or JSON column (SQLModel's strings are a String under a decorator)."""
    return isinstance(getattr(column.type, "impl", column.type), String | JSON)


def employee_columns(table: Table) -> list[Any]:
    """The columns of `table` that point at a directory row."""
    return [column for column in table.columns
            if any(key.column.table.name == "employee" for key in column.foreign_keys)]


def mentioning(table: Table, needles: Iterable[str]) -> Any:
    """A condition true where any text column of `table` holds a needle, in any case,
    also where JSON keeps it \\u-escaped; None when the table holds no text."""
    forms = {form.lower() for needle in needles
             for form in (needle, json.dumps(needle)[1:-1])}
    tests = [func.lower(cast(column, Text)).contains(form, autoescape=True)
             for column in text_columns(table) for form in forms]
    return or_(*tests) if tests else None


def rows_mentioning(session: Session, table: Table, needles: Iterable[str]) -> list[dict]:
    condition = mentioning(table, needles)
    if condition is None:
        return []
    return [dict(row) for row in connection(session).execute(
        select(table).where(condition)).mappings()]


def scrub(value: Any, words: re.Pattern[str], replacement: str,
          blanked: frozenset[str] = frozenset()) -> Any:
    """`value` (a string or JSON) with every word replaced, and the texts blanked
    elsewhere taken out where quoted (a notification, a stored reply): a short one only
    where it is the whole string, as it could be part of any other."""
    if isinstance(value, str):
        if value in blanked:
            return ""
        for text in blanked:
            if len(text) >= QUOTED:
                value = value.replace(text, "")
        return words.sub(replacement, value)
    if isinstance(value, list):
        return [scrub(item, words, replacement, blanked) for item in value]
    if isinstance(value, dict):
        return {key: scrub(item, words, replacement, blanked) for key, item in value.items()}
    return value


def plain(row: dict) -> dict:
    """A row as JSON takes it, without its secrets."""
    return {name: _plain(value) for name, value in row.items() if name not in SECRET_COLUMNS}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def primary_key(table: Table, row: dict) -> Any:
    return [column == row[column.name] for column in table.primary_key.columns]
