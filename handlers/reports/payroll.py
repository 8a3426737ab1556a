"""The payroll export: one row per redemption fulfilled in a month, with the person,
the item, its category and, for cash equivalents, the taxable value in the
organisation's currency; then one per leaver's balance paid out that month (category
payout; its ledger entry as the reference, its value where `leavers.point_value` is
set). CSV cells are neutralised like the ledger export's."""

import csv
from collections.abc import Iterator
from datetime import datetime
from typing import TextIO

from sqlmodel import Session, select

from handlers.calendar import month_bounds
from handlers.policy import Policy
from points.export import neutralise
from storage.enums import LedgerReason, RedemptionStatus
from storage.models import Employee, LedgerEntry, Redemption, Team

FIELDS = ("redemption", "fulfilled_at", "handle", "name", "team", "item", "item_name",
          "category", "points", "taxable_value", "currency")


def rows(session: Session, config: Policy, month: str) -> Iterator[dict]:
    """Redemptions fulfilled in the local month ("2026-11"), in the order fulfilled."""
    start, end = month_bounds(month, config.organisation.tz)
    for redemption, employee, team in session.exec(
            select(Redemption, Employee, Team.name)
            .join(Employee, Employee.id == Redemption.employee_id)
            .outerjoin(Team, Team.id == Employee.team_id)
            .where(Redemption.status == RedemptionStatus.FULFILLED,
                   Redemption.decided_at >= start, Redemption.decided_at < end)
            .order_by(Redemption.decided_at, Redemption.id)).all():
        item = config.catalog_item(redemption.item_key)
        value = item.value if item is not None else None
        yield {"redemption": f"R{redemption.id}",
               "fulfilled_at": redemption.decided_at.isoformat(), "handle": employee.handle,
               "name": employee.name, "team": team or "", "item": redemption.item_key,
               "item_name": item.name_en if item else "",
               "category": item.category if item else "unknown", "points": redemption.cost,
               "taxable_value": f"{value:.2f}" if value is not None else "",
               "currency": config.organisation.currency if value is not None else ""}
    yield from payouts(session, config, start, end)


def payouts(session: Session, config: Policy, start: datetime, end: datetime,
            ) -> Iterator[dict]:
    """Leavers' balances paid out between the instants, in the order posted."""
    value = config.leavers.point_value
    for entry, employee, team in session.exec(
            select(LedgerEntry, Employee, Team.name)
            .join(Employee, Employee.id == LedgerEntry.employee_id)
            .outerjoin(Team, Team.id == Employee.team_id)
            .where(LedgerEntry.reason == LedgerReason.PAID_OUT,
                   LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
            .order_by(LedgerEntry.id)).all():
        yield {"redemption": f"E{entry.id}", "fulfilled_at": entry.created_at.isoformat(),
               "handle": employee.handle, "name": employee.name, "team": team or "",
               "item": "leaver-payout", "item_name": "Balance paid out on leaving",
               "category": "payout", "points": -entry.amount,
               "taxable_value": f"{value * -entry.amount:.2f}" if value is not None else "",
               "currency": config.organisation.currency if value is not None else ""}


def write_csv(out: TextIO, entries: Iterator[dict]) -> int:
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    count = 0
    for entry in entries:
        writer.writerow({key: neutralise(value) for key, value in entry.items()})
        count += 1
    return count
