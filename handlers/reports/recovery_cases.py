"""The recovery cases a supervisor (their team) or HR (every team) follows, oldest
first with their ageing: keyset pages of a filter (status, team, overdue), and every
case of it streamed for the CSV."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from storage.enums import RecoveryStatus
from storage.models import Employee, RecoveryCase, Team

STATUSES = ("open", "closed", "all")  # the status filter's choices
Holder, Named = aliased(Employee), aliased(Employee)


@dataclass(frozen=True)
class CaseFilter:
    team_ids: frozenset[int] | None  # None: every team
    status: str = "open"  # one of STATUSES
    overdue: bool = False  # only the open ones not called back by their deadline

    def where(self, now: datetime) -> ColumnElement[bool]:
        chosen = [] if self.status == "all" else [RecoveryCase.status == self.status]
        if self.overdue:
            chosen += [RecoveryCase.status == RecoveryStatus.OPEN,
                       RecoveryCase.called_back_at.is_(None), RecoveryCase.due_at < now]
        if self.team_ids is not None:
            chosen.append(RecoveryCase.team_id.in_(sorted(self.team_ids)))
        return and_(true(), *chosen)


@dataclass(frozen=True)
class CaseLine:
    case: RecoveryCase
    team: str
    tz: str  # the team's timezone: its times are shown in it
    holder: str
    named: str  # the person the customer named, or ""


@dataclass(frozen=True)
class CasePage:
    lines: list[CaseLine]
    newer: int | None  # the id to page back from (`before`), if there is a page before
    older: int | None  # the id to page on from (`after`), if there is a page after


def _query(wanted: CaseFilter, now: datetime):
    return (select(RecoveryCase, Team.name, Team.timezone, Holder.name, Named.name)
            .join(Team, Team.id == RecoveryCase.team_id)
            .join(Holder, Holder.id == RecoveryCase.holder_id)
            .outerjoin(Named, Named.id == RecoveryCase.employee_id)
            .where(wanted.where(now)))


def page(session: Session, wanted: CaseFilter, now: datetime, *, after: int | None = None,
         before: int | None = None, size: int = 50) -> CasePage:
    """One page, oldest case first: the one after `after`, else the one before
    `before`, else the first."""
    query = _query(wanted, now)
    if before is not None:
        query = query.where(RecoveryCase.id < before).order_by(RecoveryCase.id.desc())
    else:
        if after is not None:
            query = query.where(RecoveryCase.id > after)
        query = query.order_by(RecoveryCase.id.asc())
    rows = list(session.exec(query.limit(size + 1)).all())
    more = len(rows) > size
    rows = rows[:size]
    if before is not None:
        rows.reverse()
    lines = [CaseLine(case, team, tz, holder, named or "")
             for case, team, tz, holder, named in rows]
    if not lines:
        return CasePage([], None, None)
    earlier = after is not None or (before is not None and more)
    later = (before is None and more) or before is not None
    return CasePage(lines, lines[0].case.id if earlier else None,
                    lines[-1].case.id if later else None)


def every(session: Session, wanted: CaseFilter, now: datetime) -> Iterator[CaseLine]:
    """Every case of the filter, oldest first, fetched in batches."""
    for case, team, tz, holder, named in session.exec(
            _query(wanted, now).order_by(RecoveryCase.id).execution_options(yield_per=1000)):
        yield CaseLine(case, team, tz, holder, named or "")
