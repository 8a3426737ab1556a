"""The theme vocabulary customers' and staff's voices share (IT systems, refund policy,
staffing, …): a text is tagged with every theme one of whose keywords it contains. A
Latin keyword matches whole words ("app" is not in "happy"); a CJK one anywhere. Each
record keeps its tags when it is recorded, so reports count them in the database;
`retag` tags every record again when the vocabulary changes."""

import re
from functools import cache

from sqlalchemy import ColumnElement, bindparam, case, func, select, tuple_, update
from sqlmodel import Session, SQLModel

from handlers import feedback_days
from handlers.policy import Policy, Theme


def _keyword(keyword: str) -> str:
    escaped = re.escape(keyword.lower())
    return rf"(?<![a-z0-9]){escaped}(?![a-z0-9])" if keyword.isascii() else escaped


@cache
def _pattern(keywords: tuple[str, ...]) -> re.Pattern:
    """One search for all of a theme's keywords."""
    return re.compile("|".join(_keyword(word) for word in keywords) or r"(?!)")


def themes_of(text: str, themes: list[Theme]) -> list[str]:
    """The keys of the themes the text speaks of, in vocabulary order."""
    lowered = text.lower()
    return [theme.key for theme in themes if _pattern(tuple(theme.keywords)).search(lowered)]


def theme_names(config: Policy, key: str) -> dict[str, str]:
    """A theme's name in each language, for a message's `theme_names` parameter (shown in
    the reader's); an item opened for a waived rule, or on a theme since taken out of the
    vocabulary, is named by its key."""
    theme = config.theme(key)
    return theme.names if theme is not None else {"en": key}


def tally(texts: list[str], config: Policy) -> dict[str, int]:
    """Theme key -> how many of the texts speak of it."""
    counts = dict.fromkeys((theme.key for theme in config.themes), 0)
    for text in texts:
        for key in themes_of(text, config.themes):
            counts[key] += 1
    return counts


def tags(text: str, themes: list[Theme]) -> str:
    """What a record keeps in its `themes` column: `|key|key|`, or "" for none, so that
    a theme is counted in the database with one LIKE."""
    keys = themes_of(text, themes)
    return f"|{'|'.join(keys)}|" if keys else ""


def counted(column: ColumnElement, themes: list[Theme]) -> list[ColumnElement]:
    """One SUM per theme over the rows selected: how many are tagged with it."""
    return [func.coalesce(func.sum(case((column.like(f"%|{theme.key}|%"), 1), else_=0)), 0)
            for theme in themes]


# table -> (the columns that identify a row, the columns its text is made of)
TAGGED = {"feedback": (("id",), ("text",)),
          "waiver": (("id",), ("rule", "done_instead", "why")),
          "suggestion": (("id",), ("text",)),
          "pulseanswer": (("pulse_id", "voter"), ("comment",))}
BATCH = 5000


def retag(session: Session, config: Policy) -> dict[str, int]:
    """Tag every record again with the current vocabulary (after it changed); returns the
    number of records whose themes changed, per table."""
    changed = {}
    for name, (keys, texts) in TAGGED.items():
        table = SQLModel.metadata.tables[name]
        renamed = {key: f"k_{key}" for key in keys}
        statement = update(table).where(
            *(table.c[key] == bindparam(renamed[key]) for key in keys)).values(
            themes=bindparam("new_themes"))
        changed[name], after = 0, None
        order = [table.c[key] for key in keys]
        while True:
            query = select(*order, table.c.themes, *(table.c[t] for t in texts)).order_by(*order)
            if after is not None:
                query = query.where(tuple_(*order) > tuple_(*after))
            batch = session.execute(query.limit(BATCH)).all()
            if not batch:
                break
            updates = []
            for row in batch:
                themes = tags(" ".join(row[len(keys) + 1:]), config.themes)
                if themes != row[len(keys)]:
                    updates.append({**{renamed[k]: row[i] for i, k in enumerate(keys)},
                                    "new_themes": themes})
            if updates:
                session.execute(statement, updates)
            changed[name] += len(updates)
            after = batch[-1][:len(keys)]
    if changed["feedback"]:  # its counts per theme and day follow the new tags
        feedback_days.rebuild(session.connection())
    return changed
