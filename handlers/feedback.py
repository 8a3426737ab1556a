"""Voice of the customer in: scores and complaints from survey and feedback tools, pushed
to the signed endpoint or imported from their CSV exports. Praise keeps its own path
(+10 and a broadcast, `handlers.praise.receive`); scores and complaints earn no points.
The same (source, source id) twice is kept once."""

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, ValidationError, model_validator
from sqlalchemy import func
from sqlmodel import Session, select

from handlers import feedback_days, limits
from handlers.feedback_days import batches
from handlers.policy import Policy, Theme
from handlers.recovery import goodwill, voice
from handlers.recovery.opening import Kept, open_cases
from handlers.themes import tags
from storage.errors import FrontlineError
from storage.models import Employee, Feedback, RecoveryCase, Team
from storage.rows import connection, dialect_insert, many_returning

# kind -> the scores it takes (None: no score; a complaint is its text)
SCALES: dict[str, range | None] = {"nps": range(0, 11), "csat": range(1, 6),
                                   "ces": range(1, 8), "complaint": None}
Kind = Literal["nps", "csat", "ces", "complaint", "praise"]
CSV_COLUMNS = ("kind", "team", "employee", "score", "text", "customer_ref", "touchpoint",
               "source", "source_id", "received_at")


class FeedbackItem(BaseModel):
    """One response, as a tool sends or exports it."""

    kind: Kind
    score: int | None = Field(default=None, ge=0, le=10)
    text: str = Field(default="", max_length=limits.limit("text"))
    team: str | None = Field(default=None, max_length=limits.limit("team"),
                             description="team name")
    employee: str | None = Field(default=None, max_length=limits.limit("employee"),
                                 description="directory handle of the person named")
    platform: str | None = Field(default=None, max_length=limits.limit("platform"),
                                 description="or a chat platform …")
    chat_id: str | None = Field(default=None, max_length=limits.limit("chat_id"),
                                description="… and the person's id there")
    customer_ref: str = Field(default="", max_length=limits.limit("customer_ref"))
    touchpoint: str = Field(default="", max_length=limits.limit("touchpoint"))
    audio_url: str | None = Field(default=None, max_length=limits.limit("audio_url"),
                                  pattern=r"^https://\S+$")
    source: str = Field(min_length=1, max_length=limits.limit("source"),
                        pattern=r"^[\w.-]+$")
    source_id: str = Field(min_length=1, max_length=limits.limit("source_id"))
    received_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _coherent(self) -> "FeedbackItem":
        for name, value in self:
            if isinstance(value, str) and not limits.storable(value):
                raise ValueError(f"{name} holds {limits.REFUSED_CHARACTERS}")
        scale = SCALES.get(self.kind)
        if scale is not None and (self.score is None or self.score not in scale):
            raise ValueError(f"{self.kind} needs a score from {scale[0]} to {scale[-1]}")
        if scale is None and self.score is not None:
            raise ValueError(f"{self.kind} takes no score")
        if self.kind in ("complaint", "praise") and not self.text.strip():
            raise ValueError(f"{self.kind} needs its text")
        if self.kind == "praise" and not (self.employee or (self.platform and self.chat_id)):
            raise ValueError("praise names the person: employee, or platform and chat_id")
        if self.kind != "praise" and not (self.team or self.employee):
            raise ValueError("give team or employee")
        return self


class FeedbackRefused(FrontlineError):
    """A response that names no team or person Frontline knows."""


@dataclass(frozen=True)
class Recorded:
    id: int | None  # None: a duplicate of an earlier response
    team_id: int
    case_id: int | None = None  # the recovery case it opened


Placed = tuple[FeedbackItem, int, int | None]  # a response, its team and the person named
People = dict[str, tuple[int, int | None]]  # active handle -> (employee id, team id)
BATCH = 5_000  # responses written together: a few statements a batch, not a few a response
NAMES = 1_000  # names looked up per query
FEEDBACK = Feedback.__table__


def resolve(session: Session, item: FeedbackItem) -> tuple[int, int | None]:
    """(team id, employee id) of a score or complaint, or FeedbackRefused."""
    return place(item, *directory(session, [item]))


def directory(session: Session, items: list[FeedbackItem]) -> tuple[People, dict[str, int]]:
    """The active people and the teams the responses name, read a thousand at a time."""
    handles = sorted({item.employee.lower() for item in items if item.employee})
    names = sorted({item.team for item in items if item.team})
    people: People = {}
    for chunk in batches(handles, NAMES):
        people.update((handle, (person, team)) for person, handle, team in session.exec(
            select(Employee.id, Employee.handle, Employee.team_id).where(
                Employee.active, Employee.handle.in_(chunk))))
    teams: dict[str, int] = {}
    for chunk in batches(names, NAMES):
        teams.update(session.exec(select(Team.name, Team.id).where(Team.name.in_(chunk))).all())
    return people, teams


def place(item: FeedbackItem, people: People, teams: dict[str, int]) -> tuple[int, int | None]:
    """(team id, employee id) of a response, from its `directory`; or FeedbackRefused."""
    person = None
    if item.employee:
        person = people.get(item.employee.lower())
        if person is None:
            raise FeedbackRefused(f"employee: no active person {item.employee!r}")
    if item.team:
        team_id = teams.get(item.team)
        if team_id is None:
            raise FeedbackRefused(f"team: no team named {item.team!r}")
        return team_id, person[0] if person else None
    if person is None or person[1] is None:
        raise FeedbackRefused("team: the person named belongs to no team; give team")
    return person[1], person[0]


def record(session: Session, item: FeedbackItem, team_id: int, employee_id: int | None,
           now: datetime, themes: list[Theme], policy: Policy | None = None) -> Recorded:
    """Keep one score or complaint (`record_all`)."""
    return record_all(session, [(item, team_id, employee_id)], now, themes, policy)[0]


def record_all(session: Session, placed: list[Placed], now: datetime, themes: list[Theme],
               policy: Policy | None = None) -> list[Recorded]:
    """Keep scores and complaints, tagged with their themes, in batches; a (source,
    source id) seen before, or earlier in `placed`, is not kept again. Given the
    organisation's policy, those its recovery rules call unhappy open recovery cases,
    and then the good ones are told to the person named and credited to the customer's
    earlier cases (those just opened too, so the order of a file's lines does not
    matter), in the same transaction (once, as each is kept once)."""
    recorded: list[Recorded] = []
    kept: list[dict] = []
    for batch in batches(placed, BATCH):
        rows = _keep(session, batch, now, themes)
        new = [row for row in rows if row["id"] is not None]
        cases = open_cases(session, policy, now, [Kept(
            r["id"], r["kind"], r["score"], r["text"], r["customer_ref"], r["touchpoint"],
            r["team_id"], r["employee_id"]) for r in new]) if policy and new else {}
        recorded += [Recorded(row["id"], row["team_id"], cases.get(row["id"])) for row in rows]
        kept += new
    if policy is not None:
        for batch in batches(kept, BATCH):
            _voice(session, policy, now, batch)
    return recorded


def _keep(session: Session, batch: list[Placed], now: datetime, themes: list[Theme],
          ) -> list[dict]:
    """The batch's responses as rows, each with its new id (None: seen before), counted
    in the daily counts and a promoter's marking their customer's earlier goodwill
    recovered, once, as each is kept once."""
    rows = [{"kind": item.kind, "score": item.score, "text": item.text, "team_id": team_id,
             "employee_id": employee_id, "customer_ref": item.customer_ref,
             "touchpoint": item.touchpoint, "source": item.source, "source_id": item.source_id,
             "themes": tags(item.text, themes),
             "received_at": (item.received_at or now).astimezone(UTC), "created_at": now}
            for item, team_id, employee_id in batch]
    added = {(source, source_id): feedback_id for feedback_id, source, source_id
             in connection(session).execute(_insert(session.get_bind().dialect.name), rows)}
    for row in rows:  # the first of the same response twice in the batch is the one kept
        row["id"] = added.pop((row["source"], row["source_id"]), None)
    feedback_days.count(connection(session), [
        (r["team_id"], r["employee_id"], r["received_at"], r["kind"], r["score"], r["themes"])
        for r in rows if r["id"] is not None])
    goodwill.by_promoters(connection(session), [
        r["id"] for r in rows if r["id"] is not None and r["customer_ref"]
        and goodwill.promoter(r["kind"], r["score"])])
    return rows


@cache
def _insert(dialect: str):
    """Built once per dialect: the batch's responses, each kept unless seen before."""
    insert = dialect_insert(dialect)(FEEDBACK)
    return many_returning(insert.on_conflict_do_nothing(index_elements=["source", "source_id"])
                          .returning(FEEDBACK.c.id, FEEDBACK.c.source, FEEDBACK.c.source_id))


def _voice(session: Session, policy: Policy, now: datetime, kept: list[dict]) -> None:
    """Good news told to the person named, and credited to the customer's earlier cases
    (`voice.arrived`), for the responses where there is something to do: a good score
    naming someone, or a customer with a case from an earlier response."""
    rules = policy.recovery
    first_case = _first_cases(session, {r["customer_ref"].lower() for r in kept
                                        if r["customer_ref"]})
    for r in kept:
        since = first_case.get(r["customer_ref"].lower())
        if (since is not None and since < r["received_at"]) or (
                rules.live_voice and r["employee_id"] is not None
                and rules.happy(r["kind"], r["score"])):
            voice.arrived(session, policy, now, ref=f"F{r['id']}", kind=r["kind"],
                          score=r["score"], text=r["text"], customer_ref=r["customer_ref"],
                          employee_id=r["employee_id"], received_at=r["received_at"])


def _first_cases(session: Session, customers: set[str]) -> dict[str, datetime]:
    """Customer reference (lowered) -> when the response that opened their first case
    was received, for those of `customers` with a case."""
    lowered = func.lower(RecoveryCase.customer_ref)
    found: dict[str, datetime] = {}
    for chunk in batches(sorted(customers), NAMES):
        found.update(session.exec(select(lowered, func.min(Feedback.received_at)).join(
            Feedback, Feedback.id == RecoveryCase.feedback_id).where(lowered.in_(chunk))
            .group_by(lowered)).all())
    return found


@dataclass
class Imported:
    added: int
    duplicates: int


class ImportErrors(FrontlineError):
    """Rows of a CSV file that cannot be imported; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def import_csv(session: Session, text: str, now: datetime, themes: list[Theme],
               policy: Policy | None = None) -> Imported:
    """Import a tool's export (columns `CSV_COLUMNS`, a header line first). Every row
    is checked, and the people and teams named looked up together, before any is
    written: one bad row and nothing is imported. Given the policy, the unhappy
    responses open their recovery cases (`record_all`)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("kind", "source", "source_id") if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportErrors([f"line 1: missing column(s) {', '.join(missing)}"])
    unknown = [c for c in reader.fieldnames if c not in CSV_COLUMNS]
    if unknown:
        raise ImportErrors([f"line 1: unknown column(s) {', '.join(unknown)}"])
    items, problems = [], []
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append((line, "more cells than columns"))
            continue
        values = {k: v.strip() for k, v in row.items() if v is not None and v.strip()}
        if values.get("kind") == "praise":
            problems.append((line, "kind: praise is pushed to the signed endpoint"))
            continue
        try:
            items.append((line, FeedbackItem.model_validate(values)))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "row"
            problems.append((line, f"{where}: {first['msg']}"))
    people, teams = directory(session, [item for _line, item in items])
    placed = []
    for line, item in items:
        try:
            placed.append((item, *place(item, people, teams)))
        except FeedbackRefused as refused:
            problems.append((line, str(refused)))
    if problems:
        raise ImportErrors([f"line {line}: {problem}" for line, problem in sorted(problems)])
    added = sum(kept.id is not None for kept in record_all(session, placed, now, themes, policy))
    return Imported(added, len(placed) - added)
