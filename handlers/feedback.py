"""Voice of the customer in: scores and complaints from survey and feedback tools, pushed
to the signed endpoint or imported from their CSV exports. Praise keeps its own path
(+10 and a broadcast, `handlers.praise.receive`); scores and complaints earn no points.
The same (source, source id) twice is kept once."""

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, ValidationError, model_validator
from sqlmodel import Session, select

from handlers import feedback_days, limits
from handlers.base import ACTIVE_BY_HANDLE
from handlers.policy import Policy, Theme
from handlers.recovery import voice
from handlers.recovery.opening import open_case
from handlers.themes import tags
from storage.errors import FrontlineError
from storage.models import Feedback, Team
from storage.rows import connection, dialect_insert

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


def resolve(session: Session, item: FeedbackItem) -> tuple[int, int | None]:
    """(team id, employee id) of a score or complaint, or FeedbackRefused."""
    person = None
    if item.employee:
        person = session.exec(ACTIVE_BY_HANDLE, params={"handle": item.employee.lower()}
                              ).first()
        if person is None:
            raise FeedbackRefused(f"employee: no active person {item.employee!r}")
    if item.team:
        team_id = session.exec(select(Team.id).where(Team.name == item.team)).first()
        if team_id is None:
            raise FeedbackRefused(f"team: no team named {item.team!r}")
        return team_id, person.id if person else None
    if person is None or person.team_id is None:
        raise FeedbackRefused("team: the person named belongs to no team; give team")
    return person.team_id, person.id


def record(session: Session, item: FeedbackItem, team_id: int, employee_id: int | None,
           now: datetime, themes: list[Theme], policy: Policy | None = None) -> Recorded:
    """Keep one score or complaint, tagged with its themes; a (source, source id) seen
    before is not kept again. Given the organisation's policy, one its recovery rules
    call unhappy opens a recovery case, a good one is told to the person named and
    credited to the customer's earlier cases, in the same transaction (once, as it is
    kept once)."""
    insert = dialect_insert(session.get_bind().dialect.name)
    tagged, received_at = tags(item.text, themes), (item.received_at or now).astimezone(UTC)
    statement = insert(Feedback.__table__).values(
        kind=item.kind, score=item.score, text=item.text, team_id=team_id,
        employee_id=employee_id, customer_ref=item.customer_ref, touchpoint=item.touchpoint,
        source=item.source, source_id=item.source_id, themes=tagged,
        received_at=received_at, created_at=now,
    ).on_conflict_do_nothing(index_elements=["source", "source_id"]).returning(
        Feedback.__table__.c.id)
    feedback_id = connection(session).execute(statement).scalar()
    if feedback_id is None:
        return Recorded(None, team_id)
    # counted once and a case opened once, as it is kept once
    feedback_days.count(connection(session), team_id, employee_id, received_at,
                        item.kind, item.score, tagged)
    if policy is None:
        return Recorded(feedback_id, team_id)
    # good news told to the person named and credited to the customer's earlier cases
    voice.arrived(session, policy, now, ref=f"F{feedback_id}", kind=item.kind,
                  score=item.score, text=item.text, customer_ref=item.customer_ref,
                  employee_id=employee_id, received_at=received_at)
    case_id = open_case(
        session, policy, now, feedback_id=feedback_id, kind=item.kind, score=item.score,
        text=item.text, customer_ref=item.customer_ref, touchpoint=item.touchpoint,
        team_id=team_id, employee_id=employee_id)
    return Recorded(feedback_id, team_id, case_id)


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
    is checked before any is written: one bad row and nothing is imported. Given the
    policy, the unhappy responses open their recovery cases (`record`)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("kind", "source", "source_id") if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportErrors([f"line 1: missing column(s) {', '.join(missing)}"])
    unknown = [c for c in reader.fieldnames if c not in CSV_COLUMNS]
    if unknown:
        raise ImportErrors([f"line 1: unknown column(s) {', '.join(unknown)}"])
    good, problems = [], []
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(f"line {line}: more cells than columns")
            continue
        values = {k: v.strip() for k, v in row.items() if v is not None and v.strip()}
        if values.get("kind") == "praise":
            problems.append(f"line {line}: kind: praise is pushed to the signed endpoint")
            continue
        try:
            item = FeedbackItem.model_validate(values)
            good.append((item, *resolve(session, item)))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "row"
            problems.append(f"line {line}: {where}: {first['msg']}")
        except FeedbackRefused as refused:
            problems.append(f"line {line}: {refused}")
    if problems:
        raise ImportErrors(problems)
    added = sum(record(session, item, team_id, employee_id, now, themes, policy).id is not None
                for item, team_id, employee_id in good)
    return Imported(added, len(good) - added)


