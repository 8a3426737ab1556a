"""Database triggers that make the ledger append-only even for hand-written SQL."""

from sqlalchemy import DDL, event

from storage.models import LedgerEntry

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS ledgerentry_no_update BEFORE UPDATE ON ledgerentry
       BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS ledgerentry_no_delete BEFORE DELETE ON ledgerentry
       BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END""",
]
POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION ledgerentry_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'ledger entries are append-only'; END $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE TRIGGER ledgerentry_append_only BEFORE UPDATE OR DELETE ON ledgerentry
       FOR EACH ROW EXECUTE FUNCTION ledgerentry_append_only()""",
]


def statements(dialect: str) -> list[str]:
    return {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(dialect, [])


def _install(target, connection, **_kw) -> None:
    for statement in statements(connection.dialect.name):
        connection.execute(DDL(statement))


event.listen(LedgerEntry.__table__, "after_create", _install)
