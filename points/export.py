"""Ledger export for HR: CSV (safe to open in a spreadsheet) or a JSON array."""

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import TextIO

from sqlmodel import Session, select

from storage.models import Employee, LedgerEntry

FIELDS = ("id", "created_at", "handle", "name", "amount", "reason", "source_type", "source_id",
          "reverses_id", "actor", "idempotency_key", "note")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text that a spreadsheet would run as a formula is prefixed with a quote.
    Numbers stay numbers: a negative amount is data, not a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def rows(session: Session, since: datetime | None = None,
         until: datetime | None = None) -> Iterator[dict]:
    query = select(LedgerEntry, Employee).join(Employee, Employee.id == LedgerEntry.employee_id)
    if since is not None:
        query = query.where(LedgerEntry.created_at >= since)
    if until is not None:
        query = query.where(LedgerEntry.created_at < until)
    handles = dict(session.exec(select(Employee.id, Employee.handle)).all())
    for entry, employee in session.exec(
            query.order_by(LedgerEntry.id).execution_options(yield_per=5000)):
        yield {
            "id": entry.id, "created_at": entry.created_at.isoformat(),
            "handle": employee.handle, "name": employee.name, "amount": entry.amount,
            "reason": entry.reason, "source_type": entry.source_type,
            "source_id": entry.source_id, "reverses_id": entry.reverses_id,
            "actor": handles.get(entry.actor_id, ""), "idempotency_key": entry.idempotency_key,
            "note": entry.note,
        }


def write(out: TextIO, entries: Iterator[dict], fmt: str) -> int:
    count = 0
    if fmt == "json":  # one JSON array, written as it streams
        out.write("[")
        for count, entry in enumerate(entries, 1):
            out.write(("," if count > 1 else "") + "\n" + json.dumps(entry, ensure_ascii=False))
        out.write("\n]\n")
        return count
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    for entry in entries:
        writer.writerow({key: neutralise(value) for key, value in entry.items()})
        count += 1
    return count
