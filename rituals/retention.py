"""Deleting bookkeeping past its use, so the tables that only record what was done
(command receipts, the inbox, delivered notifications, expired forms and sign-ins)
stay the size of the retention period instead of growing with Frontline's age.

Each table is emptied in batches of at most `BATCH` rows, each batch its own
transaction, so a run never holds a lock for long (SQLite has one writer). On
PostgreSQL a batch skips the rows another pruner has locked, so two runs at once
delete disjoint rows and count each row once.

Kept whatever their age: notifications not delivered (still due, or failing for
someone to look at), inbox requests not done, and the small per-name tables
(rate budgets, access tokens, held leases: one row per name, and a lease's
attempts are its fencing token, which must never start again).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, delete, not_, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from handlers.policy import Policy
from storage.engine import refresh_statistics, transaction
from storage.models import (
    CommandReceipt,
    FormState,
    InboxItem,
    OneTimeCode,
    Outbox,
    OutboxDelivery,
    WebSession,
)

BATCH = 5000
# A praise pushed to /api/praise is credited once per (source, id), however late the
# tool sends it again: its receipt is that check, so it is never deleted.
KEPT_RECEIPTS = "praise-api:"


@dataclass(frozen=True)
class Bookkeeping:
    """A table whose rows are past their use once `ended` is older than the cutoff
    (and `also` holds)."""

    key: tuple[InstrumentedAttribute, ...]
    ended: InstrumentedAttribute
    also: tuple[ColumnElement[bool], ...] = ()
    # rows of other tables that refer to these (by the one-column key): deleted first
    dependants: tuple[InstrumentedAttribute, ...] = ()

    @property
    def table(self):
        return self.key[0].class_.__table__

    def matching(self, keys: list[tuple]) -> ColumnElement[bool]:
        if len(self.key) == 1:
            return self.key[0].in_([k[0] for k in keys])
        return tuple_(*self.key).in_(keys)


PRUNED = (
    Bookkeeping((CommandReceipt.key,), CommandReceipt.created_at,
                (not_(CommandReceipt.key.startswith(KEPT_RECEIPTS)),)),
    Bookkeeping((InboxItem.id,), InboxItem.done_at),  # NULL (not done) is never older
    Bookkeeping((Outbox.id,), Outbox.delivered_at, dependants=(OutboxDelivery.outbox_id,)),
    Bookkeeping((FormState.platform, FormState.conversation), FormState.expires_at),
    Bookkeeping((OneTimeCode.code_hash,), OneTimeCode.expires_at),
    Bookkeeping((WebSession.token_hash,), WebSession.expires_at),
)


def _batch(engine: Engine, rows: Bookkeeping, cutoff: datetime, batch: int,
           removed: dict[str, int]) -> int:
    """Delete one batch; returns how many rows it found to delete."""
    with transaction(engine) as session:
        keys = [tuple(k) for k in session.execute(
            select(*rows.key).where(rows.ended < cutoff, *rows.also).limit(batch)
            .with_for_update(skip_locked=True)).all()]
        if keys:
            for column in rows.dependants:
                removed[column.class_.__tablename__] += session.execute(
                    delete(column.class_.__table__).where(
                        column.in_([k[0] for k in keys]))).rowcount
            removed[rows.table.name] += session.execute(
                delete(rows.table).where(rows.matching(keys))).rowcount
    return len(keys)


def prune(engine: Engine, days: int, now: datetime, batch: int = BATCH) -> dict[str, int]:
    """Delete every row past its use for more than `days` days; rows removed per table."""
    cutoff = now - timedelta(days=days)
    removed: dict[str, int] = {}
    for rows in PRUNED:
        removed |= {column.class_.__tablename__: 0 for column in rows.dependants}
        removed[rows.table.name] = 0
    for rows in PRUNED:
        while _batch(engine, rows, cutoff, batch, removed) == batch:
            pass
    return removed


def summary(removed: dict[str, int]) -> str:
    return ", ".join(f"{count} {table}" for table, count in removed.items())


def run(engine: Engine, config: Policy, now: datetime) -> str:
    """The daily ritual's work: prune, then refresh the planner's statistics."""
    removed = summary(prune(engine, config.rituals.retention.days, now))
    refresh_statistics(engine)
    return "removed " + removed
