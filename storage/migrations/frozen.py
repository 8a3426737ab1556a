"""What migrations compute, as it was when each was written.

A migration replayed next year must build what it built the day it was written, so
it imports no live code (tests/test_layers.py holds it to that): the trigger SQL and
the feedback counts below are copies, never edited; a later migration that needs
them changed adds its own copy here.
"""

from collections import Counter, defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime  # a column type, as every migration renders it

# 0001: the ledger is append-only even for hand-written SQL (0004 puts it back on SQLite)
LEDGER_APPEND_ONLY = {
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS ledgerentry_no_update BEFORE UPDATE ON ledgerentry
           BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END""",
        """CREATE TRIGGER IF NOT EXISTS ledgerentry_no_delete BEFORE DELETE ON ledgerentry
           BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION ledgerentry_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'ledger entries are append-only'; END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER ledgerentry_append_only BEFORE UPDATE OR DELETE ON
           ledgerentry FOR EACH ROW EXECUTE FUNCTION ledgerentry_append_only()""",
    ],
}


def make_ledger_append_only() -> None:
    for statement in LEDGER_APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)


# 0014: customer feedback counted per team, UTC day and theme (then handlers/feedback_days)
FEEDBACK_COUNTS_0014 = (
    "responses", "nps_responses", "promoters", "detractors", "csat_responses",
    "csat_satisfied", "csat_total", "ces_responses", "ces_total", "complaints",
    "csat_unhappy")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _counts_0014(kind: str, score: int | None) -> Counter:
    nps, csat, ces = kind == "nps", kind == "csat", kind == "ces"
    return Counter({
        "responses": 1, "nps_responses": nps, "promoters": nps and score >= 9,
        "detractors": nps and score <= 6, "csat_responses": csat,
        "csat_satisfied": csat and score >= 4, "csat_total": score if csat else 0,
        "ces_responses": ces, "ces_total": score if ces else 0,
        "complaints": kind == "complaint", "csat_unhappy": csat and score <= 2})


def _day_0014(received_at: datetime) -> int:
    return (received_at - _EPOCH).days


def count_feedback_0014() -> None:
    """Fill `feedbackday` from the feedback kept before 0014: per response, its team's
    row, each of its themes' rows and the row of the employee it names."""
    feedback = sa.table("feedback", sa.column("team_id"), sa.column("employee_id"),
                        sa.column("received_at", UTCDateTime(timezone=True)),
                        sa.column("kind"), sa.column("score"), sa.column("themes"))
    totals: dict[tuple, Counter] = defaultdict(Counter)
    for team_id, employee_id, received_at, kind, score, themes in op.get_bind().execute(
            sa.select(feedback)):
        added, day = _counts_0014(kind, score), _day_0014(received_at)
        for employee, theme in [(0, ""), *((0, key) for key in themes.strip("|").split("|")
                                           if key),
                                *([(employee_id, "")] if employee_id else [])]:
            totals[team_id, day, employee, theme].update(added)
    rows = [{"team_id": team_id, "day": day, "employee_id": employee, "theme": theme,
             **{name: int(added[name]) for name in FEEDBACK_COUNTS_0014}}
            for (team_id, day, employee, theme), added in totals.items()]
    if rows:
        op.bulk_insert(sa.table("feedbackday", *(sa.column(name) for name in (
            "team_id", "day", "employee_id", "theme", *FEEDBACK_COUNTS_0014))), rows)
