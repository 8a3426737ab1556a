"""A team's recovery cases over a week, for its weekly digest: opened, of those called
back within their deadline, closed as recovered, whose customer came back (a yield),
and still open past their deadline with the customer not reached."""

from datetime import datetime

from sqlalchemy import and_, case, func
from sqlmodel import Session, select

from handlers.recovery.voice import came_back
from storage.enums import RecoveryOutcome, RecoveryStatus
from storage.models import RecoveryCase


def week(session: Session, team_id: int, since: datetime, until: datetime) -> dict[str, int]:
    """The figures of [since, until); `overdue` as it stands at `until`."""
    def counted(condition) -> object:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    cases = RecoveryCase
    opened_now = and_(cases.opened_at >= since, cases.opened_at < until)
    opened, in_time, recovered, overdue = session.exec(select(
        counted(opened_now),
        counted(and_(opened_now, cases.called_back_at.is_not(None),
                     cases.called_back_at <= cases.due_at)),
        counted(and_(cases.outcome == RecoveryOutcome.RECOVERED, cases.closed_at >= since,
                     cases.closed_at < until)),
        counted(and_(cases.status == RecoveryStatus.OPEN, cases.called_back_at.is_(None),
                     cases.due_at < until, cases.opened_at < until)))
        .where(cases.team_id == team_id)).one()
    return {"opened": int(opened), "in_time": int(in_time), "recovered": int(recovered),
            "came_back": came_back(session, team_id, since, until), "overdue": int(overdue)}
