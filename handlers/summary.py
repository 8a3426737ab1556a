"""The daily summary (`prefs summary on`): a good word from customers and the praise posts
sent to a person personally are kept for one message a day instead of sent one by one.
What asks something of the reader (a request to decide, a recovery case, a reminder) is
never kept. When the summary goes is the rituals' affair (rituals/daily_summary.py)."""

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import Session, select

from handlers.base import queue, queue_all
from storage.models import PersonPrefs, SummaryItem
from storage.rows import connection

VOICE = ("notify.customer_voice", "notify.customer_voice_score", "notify.praise_credited")
POSTS = ("ritual.morning_praise", "ritual.morning_replay")  # the copies sent personally
QUOTED = 200  # characters of each quoted text
LISTED = 20  # lines of each kind; the count tells the rest


def queue_or_keep(session: Session, rows: list[dict]) -> None:
    """Queue notifications (`outbox_row`s), keeping for the daily summary those whose
    reader chose it (a post they muted is not kept either)."""
    wanted = {row["employee_id"] for row in rows if _summarised(row)}
    chosen = dict(session.exec(select(PersonPrefs.employee_id, PersonPrefs.broadcasts_muted)
                               .where(PersonPrefs.employee_id.in_(wanted),
                                      PersonPrefs.daily_summary)).all()) if wanted else {}
    kept = [_summarised(row) and row["employee_id"] in chosen for row in rows]
    if live := [row for row, keep in zip(rows, kept, strict=True) if not keep]:
        queue_all(session, live)
    items = [{"employee_id": row["employee_id"], "message_key": row["message_key"],
              "params": row["params"], "created_at": row["created_at"]}
             for row, keep in zip(rows, kept, strict=True)
             if keep and not (row["message_key"] in POSTS and chosen[row["employee_id"]])]
    if items:
        connection(session).execute(insert(SummaryItem.__table__), items)


def _summarised(row: dict) -> bool:
    return row["audience"] == "person" and row["message_key"] in (*VOICE, *POSTS)


def send(session: Session, now: datetime, person_id: int) -> bool:
    """Queue the person's one message of what waited for their summary, taking it from
    the table in the same statement (so two runs cannot both carry it); False when
    nothing waited."""
    taken = sorted(connection(session).execute(delete(SummaryItem).where(
        SummaryItem.employee_id == person_id).returning(
        SummaryItem.id, SummaryItem.message_key, SummaryItem.params)).all())
    voice = [_line(key, params) for _id, key, params in taken if key in VOICE]
    posts = [_line(key, params) for _id, key, params in taken if key in POSTS]
    if not (voice or posts):
        return False
    key = "summary.daily" if voice and posts else \
        "summary.daily_voice" if voice else "summary.daily_posts"
    queue(session, now, "person", key, {
        "voice_count": len(voice), "voice": _listing(voice),
        "posts_count": len(posts), "posts": _listing(posts)}, employee_id=person_id)
    return True


def _line(key: str, params: dict[str, Any]) -> str:
    """One arrival, in no language: its reference, score or points, and words as the
    live message showed them (masked where that was)."""
    if key == "notify.customer_voice_score":
        return f"• {params['what']}"
    if key == "notify.customer_voice":
        return f"• {params['what']} {_quoted(params['text'])}"
    if key == "notify.praise_credited":
        return f"• {params['ref']} +{params['points']} {_quoted(params['text'])}"
    return f"• {params['ref']} {params['who']}: {_quoted(params['text'])}"


def _quoted(text: str) -> str:
    return f"“{text[:QUOTED]}…”" if len(text) > QUOTED else f"“{text}”"


def _listing(lines: list[str]) -> str:
    more = len(lines) - LISTED
    return "\n".join(lines[:LISTED] + ([f"… +{more}"] if more > 0 else []))
