"""The payroll export: one row per redemption fulfilled in a month, with the person,
the item, its category and, for cash equivalents, the taxable value in the
organisation's currency. CSV cells are neutralised like the ledger export's."""

import csv
from collections.abc import Iterator
from typing import TextIO

from sqlmodel import Session, select

from handlers.calendar import month_bounds
from handlers.policy import Policy
from points.export import neutralise
from storage.enums import RedemptionStatus
from storage.models import Employee, Redemption, Team

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


def write_csv(out: TextIO, entries: Iterator[dict]) -> int:
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    count = 0
    for entry in entries:
        writer.writerow({key: neutralise(value) for key, value in entry.items()})
        count += 1
    return count
