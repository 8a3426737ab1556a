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


# 0027: a month's points and goodwill per person kept by triggers (then storage/month_sums)
MONTH_SUMS_0027 = {
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS pointsmonth_on_entry AFTER INSERT ON ledgerentry
        WHEN NEW.amount > 0
        AND NEW.reason IN ('praise', 'suggestion', 'major_issue', 'golden_ear') BEGIN
        INSERT INTO pointsmonth (month, employee_id, points, praise)
        SELECT coalesce((SELECT month FROM monthstart WHERE starts_at <= NEW.created_at
                         ORDER BY starts_at DESC LIMIT 1), strftime('%Y-%m', NEW.created_at)),
               NEW.employee_id, NEW.amount, NEW.reason = 'praise' WHERE true
        ON CONFLICT (month, employee_id) DO UPDATE SET points = points + excluded.points,
            praise = praise + excluded.praise; END""",
        """CREATE TRIGGER IF NOT EXISTS spendmonth_on_insert AFTER INSERT ON compensation
        WHEN NEW.status IN ('self_authorised', 'approved') BEGIN
        INSERT INTO spendmonth (month, employee_id, currency, team_id, own_count, own_minor,
                                own_largest, approved_count, approved_minor, counted_minor)
        SELECT coalesce((SELECT month FROM monthstart WHERE starts_at <= NEW.created_at
                         ORDER BY starts_at DESC LIMIT 1), strftime('%Y-%m', NEW.created_at)),
               NEW.employee_id, NEW.currency,
               (SELECT team_id FROM employee WHERE id = NEW.employee_id),
               NEW.status = 'self_authorised',
               iif(NEW.status = 'self_authorised', NEW.amount_minor, 0),
               iif(NEW.status = 'self_authorised', NEW.amount_minor, 0), NEW.status = 'approved',
               iif(NEW.status = 'approved', NEW.amount_minor, 0), NEW.amount_minor WHERE true
        ON CONFLICT (month, employee_id, currency) DO UPDATE SET
            team_id = excluded.team_id,
            own_count = own_count + excluded.own_count,
            own_minor = own_minor + excluded.own_minor,
            own_largest = max(own_largest, excluded.own_largest),
            approved_count = approved_count + excluded.approved_count,
            approved_minor = approved_minor + excluded.approved_minor,
            counted_minor = counted_minor + excluded.counted_minor; END""",
        """CREATE TRIGGER IF NOT EXISTS spendmonth_on_decision AFTER UPDATE OF status
        ON compensation WHEN (OLD.status = 'approved') != (NEW.status = 'approved') BEGIN
        INSERT INTO spendmonth (month, employee_id, currency, team_id, own_count, own_minor,
                                own_largest, approved_count, approved_minor, counted_minor)
        SELECT coalesce((SELECT month FROM monthstart WHERE starts_at <= NEW.created_at
                         ORDER BY starts_at DESC LIMIT 1), strftime('%Y-%m', NEW.created_at)),
               NEW.employee_id, NEW.currency,
               (SELECT team_id FROM employee WHERE id = NEW.employee_id), 0, 0, 0,
               iif(NEW.status = 'approved', 1, -1),
               iif(NEW.status = 'approved', 1, -1) * NEW.amount_minor,
               iif(NEW.status = 'approved', 1, -1) * NEW.amount_minor WHERE true
        ON CONFLICT (month, employee_id, currency) DO UPDATE SET
            team_id = excluded.team_id,
            approved_count = approved_count + excluded.approved_count,
            approved_minor = approved_minor + excluded.approved_minor,
            counted_minor = counted_minor + excluded.counted_minor; END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION frontline_month(at timestamptz) RETURNS text AS $$
       SELECT coalesce((SELECT month FROM monthstart WHERE starts_at <= at
                        ORDER BY starts_at DESC LIMIT 1), to_char(at AT TIME ZONE 'UTC', 'YYYY-MM'))
       $$ LANGUAGE sql STABLE""",
        """CREATE OR REPLACE FUNCTION pointsmonth_on_entry() RETURNS trigger AS $$ BEGIN
       INSERT INTO pointsmonth AS m (month, employee_id, points, praise)
       VALUES (frontline_month(NEW.created_at), NEW.employee_id, NEW.amount,
               (NEW.reason = 'praise')::int)
       ON CONFLICT (month, employee_id) DO UPDATE SET points = m.points + EXCLUDED.points,
           praise = m.praise + EXCLUDED.praise;
       RETURN NULL; END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER pointsmonth_on_entry AFTER INSERT ON ledgerentry
        FOR EACH ROW WHEN (NEW.amount > 0
        AND NEW.reason IN ('praise', 'suggestion', 'major_issue', 'golden_ear'))
        EXECUTE FUNCTION pointsmonth_on_entry()""",
        """CREATE OR REPLACE FUNCTION spendmonth_on_change() RETURNS trigger AS $$
       DECLARE
         own int := CASE WHEN TG_OP = 'INSERT' AND NEW.status = 'self_authorised' THEN 1 ELSE 0 END;
         approved int := (NEW.status = 'approved')::int
           - CASE WHEN TG_OP = 'UPDATE' AND OLD.status = 'approved' THEN 1 ELSE 0 END;
       BEGIN
       INSERT INTO spendmonth AS m (month, employee_id, currency, team_id, own_count,
                                    own_minor, own_largest, approved_count, approved_minor,
                                    counted_minor)
       VALUES (frontline_month(NEW.created_at), NEW.employee_id, NEW.currency,
               (SELECT team_id FROM employee WHERE id = NEW.employee_id), own,
               own * NEW.amount_minor, own * NEW.amount_minor, approved,
               approved * NEW.amount_minor, (own + approved) * NEW.amount_minor)
       ON CONFLICT (month, employee_id, currency) DO UPDATE SET
           team_id = EXCLUDED.team_id,
           own_count = m.own_count + EXCLUDED.own_count,
           own_minor = m.own_minor + EXCLUDED.own_minor,
           own_largest = greatest(m.own_largest, EXCLUDED.own_largest),
           approved_count = m.approved_count + EXCLUDED.approved_count,
           approved_minor = m.approved_minor + EXCLUDED.approved_minor,
           counted_minor = m.counted_minor + EXCLUDED.counted_minor;
       RETURN NULL; END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER spendmonth_on_insert AFTER INSERT ON compensation
        FOR EACH ROW WHEN (NEW.status IN ('self_authorised', 'approved'))
        EXECUTE FUNCTION spendmonth_on_change()""",
        """CREATE OR REPLACE TRIGGER spendmonth_on_decision AFTER UPDATE OF status ON compensation
        FOR EACH ROW WHEN ((OLD.status = 'approved') != (NEW.status = 'approved'))
        EXECUTE FUNCTION spendmonth_on_change()""",
    ],
}


def keep_month_sums_0027() -> None:
    for statement in MONTH_SUMS_0027.get(op.get_bind().dialect.name, []):
        op.execute(sa.text(statement.replace(":", "\\:")))
