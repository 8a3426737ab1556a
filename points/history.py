"""Reading the ledger at any size: filters, keyset pages and the rows of an export.

Pages are keyset pages on the entry id (newest first): each page is an index
range scan of its own length, whether it is the first or the thousandth. The
running balance needs no sums: every entry carries the balance it left behind.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, Select
from sqlmodel import Session, select

from storage.models import Employee, LedgerEntry, Team


@dataclass(frozen=True)
class LedgerFilter:
    """Which entries: `employee_ids` None means everyone (the caller has already
    narrowed it to what the viewer may see, a person, or a team's members)."""

    employee_ids: frozenset[int] | None = None
    reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Line:
    entry: LedgerEntry
    handle: str
    name: str
    team: str


@dataclass(frozen=True)
class Page:
    lines: list[Line]
    newer: int | None  # pass as `after` for the page before this one
    older: int | None  # pass as `before` for the page after this one


def _filtered(query: Select, wanted: LedgerFilter) -> Select:
    if wanted.employee_ids is not None:
        query = query.where(LedgerEntry.employee_id.in_(sorted(wanted.employee_ids)))
    if wanted.reason:
        query = query.where(LedgerEntry.reason == wanted.reason)
    if wanted.since is not None:
        query = query.where(LedgerEntry.created_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(LedgerEntry.created_at < wanted.until)
    return query


def _lines(wanted: LedgerFilter) -> Select:
    return _filtered(
        select(LedgerEntry, Employee.handle, Employee.name, Team.name)
        .join(Employee, Employee.id == LedgerEntry.employee_id)
        .outerjoin(Team, Team.id == Employee.team_id), wanted)


def page(session: Session, wanted: LedgerFilter, *, before: int | None = None,
         after: int | None = None, size: int = 50) -> Page:
    """One page, newest first: the page older than `before`, else the one newer than
    `after`, else the newest."""
    query = _lines(wanted)
    if after is not None:
        query = query.where(LedgerEntry.id > after).order_by(LedgerEntry.id.asc())
    else:
        if before is not None:
            query = query.where(LedgerEntry.id < before)
        query = query.order_by(LedgerEntry.id.desc())
    rows = session.exec(query.limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    if after is not None:
        rows.reverse()
    lines = [Line(entry, handle, name, team or "") for entry, handle, name, team in rows]
    if not lines:
        return Page([], None, None)
    going_older = after is None
    newer_exists = before is not None or (after is not None and more)
    older_exists = (going_older and more) or after is not None
    return Page(lines, lines[0].entry.id if newer_exists else None,
                lines[-1].entry.id if older_exists else None)


EXPORTED = (LedgerEntry.id, LedgerEntry.created_at, Employee.handle, Employee.name,
            Team.name.label("team"), LedgerEntry.amount, LedgerEntry.balance_after,
            LedgerEntry.reason, LedgerEntry.source_type, LedgerEntry.source_id,
            LedgerEntry.reverses_id, LedgerEntry.actor_id, LedgerEntry.idempotency_key,
            LedgerEntry.note)


def rows(session: Session, wanted: LedgerFilter) -> Iterator[RowMapping]:
    """Every entry the filter selects, oldest first, streamed in batches as plain rows
    (no ORM objects: an export of millions of entries is bound by building them)."""
    query = _filtered(
        select(*EXPORTED).join(Employee, Employee.id == LedgerEntry.employee_id)
        .outerjoin(Team, Team.id == Employee.team_id), wanted).order_by(LedgerEntry.id)
    yield from session.execute(query.execution_options(yield_per=5000)).mappings()
