"""Customer feedback counted per team, UTC day and theme as it arrives (the FeedbackDay
table), so that a report over a month sums about thirty rows per team however many
responses came in. `counts` is the one definition of what a response adds: the write
path, the rebuild and the reports' partial days all use it."""

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import Connection, delete, select

from handlers.scores import DETRACTOR, DISSATISFIED, PROMOTER, SATISFIED
from storage.models import Feedback, FeedbackDay
from storage.rows import dialect_insert

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
COUNTS = ("responses", "nps_responses", "promoters", "detractors", "csat_responses",
          "csat_satisfied", "csat_total", "ces_responses", "ces_total", "complaints",
          "csat_unhappy")
KEYS = ("team_id", "day", "employee_id", "theme")
TABLE = FeedbackDay.__table__
BATCH = 10_000


def day_of(moment: datetime) -> int:
    """Days since 1970-01-01 in UTC (the table's `day`)."""
    return (moment - EPOCH).days


def start_of(day: int) -> datetime:
    return EPOCH + timedelta(days=day)


@cache
def counts(kind: str, score: int | None) -> Counter:
    """What one response adds to each counter (one shared Counter per kind and score:
    read it, never change it)."""
    nps, csat, ces = kind == "nps", kind == "csat", kind == "ces"
    return Counter({
        "responses": 1, "nps_responses": nps, "promoters": nps and score >= PROMOTER,
        "detractors": nps and score <= DETRACTOR, "csat_responses": csat,
        "csat_satisfied": csat and score >= SATISFIED, "csat_total": score if csat else 0,
        "ces_responses": ces, "ces_total": score if ces else 0,
        "complaints": kind == "complaint", "csat_unhappy": csat and score <= DISSATISFIED})


def rows_of(team_id: int, employee_id: int | None, themes: str) -> list[tuple[int, str]]:
    """The (employee, theme) rows of its team and day a response counts in: the team's,
    each of its themes', and the employee's it names."""
    return [(0, ""), *((0, key) for key in themes.strip("|").split("|") if key),
            *([(employee_id, "")] if employee_id else [])]


@cache
def _upsert(dialect: str):
    """Built once per dialect: a survey import runs it for every batch of responses."""
    insert = dialect_insert(dialect)(TABLE)
    return insert.on_conflict_do_update(
        index_elements=list(KEYS),
        set_={name: TABLE.c[name] + insert.excluded[name] for name in COUNTS})


Counted = tuple[int, int | None, datetime, str, int | None, str]
"""A kept response as it is counted: team, employee named, received, kind, score, themes."""


def count(connection: Connection, responses: Iterable[Counted]) -> None:
    """Add the responses, in the transaction that keeps them: each (team, day, employee,
    theme) row they touch is written once, however many of them it counts."""
    totals = _totals(responses)
    if totals:
        connection.execute(_upsert(connection.dialect.name), _rows(totals.items()))


def rebuild(connection: Connection) -> int:
    """Count every response again (after the themes were re-tagged, or to fill the table
    once); returns the rows written."""
    totals = _totals(connection.execute(select(
        Feedback.team_id, Feedback.employee_id, Feedback.received_at, Feedback.kind,
        Feedback.score, Feedback.themes).execution_options(yield_per=BATCH)))
    connection.execute(delete(TABLE))
    for batch in batches(totals.items()):
        connection.execute(TABLE.insert(), _rows(batch))
    return len(totals)


def _totals(responses: Iterable[Counted]) -> dict[tuple, Counter]:
    """(team, day, employee, theme) -> what the responses add to its row."""
    totals: dict[tuple, Counter] = defaultdict(Counter)
    for team_id, employee_id, received_at, kind, score, themes in responses:
        added, day = counts(kind, score), day_of(received_at)
        for employee, theme in rows_of(team_id, employee_id, themes):
            totals[team_id, day, employee, theme].update(added)
    return totals


def batches(items: Iterable, size: int = BATCH) -> Iterable[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _rows(totals: Iterable[tuple[tuple, Counter]]) -> list[dict]:
    return [{**dict(zip(KEYS, key, strict=True)), **{name: int(added[name]) for name in COUNTS}}
            for key, added in totals]
