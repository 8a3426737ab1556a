"""Ledger export for HR: CSV (safe to open in a spreadsheet) or a JSON array."""

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import TextIO

from sqlmodel import Session, select

from points import history
from points.history import LedgerFilter
from storage.models import Employee

FIELDS = ("id", "created_at", "handle", "name", "team", "amount", "balance_after", "reason",
          "source_type", "source_id", "reverses_id", "actor", "idempotency_key", "note")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text that a spreadsheet would run as a formula is prefixed with a quote.
    Numbers stay numbers: a negative amount is data, not a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def rows(session: Session, wanted: LedgerFilter) -> Iterator[dict]:
    handles = dict(session.exec(select(Employee.id, Employee.handle)).all())
    for row in history.rows(session, wanted):
        record = dict(row)
        record["created_at"] = record["created_at"].isoformat()
        record["team"] = record["team"] or ""
        record["actor"] = handles.get(record.pop("actor_id"), "")
        yield record


def csv_chunks(entries: Iterable[dict], chunk_size: int = 1 << 16,
               fields: Sequence[str] = FIELDS) -> Iterator[str]:
    """The CSV text in pieces of about `chunk_size`, for streaming a large export."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for entry in entries:
        writer.writerow({key: neutralise(value) for key, value in entry.items()})
        if buffer.tell() >= chunk_size:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write(out: TextIO, entries: Iterator[dict], fmt: str) -> int:
    count = 0

    def counted() -> Iterator[dict]:
        nonlocal count
        for entry in entries:
            count += 1
            yield entry

    if fmt == "json":  # one JSON array, written as it streams
        out.write("[")
        for entry in counted():
            out.write(("," if count > 1 else "") + "\n" + json.dumps(entry, ensure_ascii=False))
        out.write("\n]\n")
    else:
        for chunk in csv_chunks(counted()):
            out.write(chunk)
    return count
