"""The recovery cases: a supervisor follows their team's, HR every team's, oldest first
with their ageing (open for how long, how long to or past the call-back deadline), a
page at a time, filtered by status, team and overdue, and as CSV; each case links to its
history. Times are the case's team's."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends
from fastapi.responses import Response, StreamingResponse

from bot.webui.deps import (
    SUPERVISING,
    ConfigDep,
    EngineDep,
    PageError,
    PageScope,
    PageViewer,
    SessionDep,
)
from bot.webui.pages.base import Render, as_id, page_router
from handlers.calendar import local_time
from handlers.recovery.cases import params, state_key
from handlers.reports import recovery_cases
from handlers.reports.recovery_cases import STATUSES, CaseFilter, CaseLine
from handlers.scope import teams
from points.export import csv_chunks
from storage.engine import transaction
from storage.enums import RecoveryStatus

router = page_router()
PAGE = 50
CSV_FIELDS = ("ref", "team", "holder", "named", "kind", "score", "customer_ref", "touchpoint",
              "status", "outcome", "opened_at", "due_at", "called_back_at", "closed_at",
              "open_hours", "overdue_hours")


def wanted_cases(viewer: PageViewer, scope: PageScope, status: str = "open",
                 team: str | None = None, overdue: str = "") -> tuple[CaseFilter, dict]:
    """The reader's filter within their sight (a team out of it is not found), and the
    query's values kept in links."""
    if viewer.employee.role not in SUPERVISING:
        raise PageError(403, "error.cases_page")
    if status not in STATUSES:
        raise PageError(400, "error.not_found")
    team_id = as_id(team)
    if team_id is not None and not scope.sees_team(team_id):
        raise PageError(404, "error.not_found")
    shown = frozenset({team_id}) if team_id is not None else scope.team_ids
    kept = {"status": status, "team": team or "", "overdue": "1" if overdue else ""}
    return (CaseFilter(shown, status, bool(overdue)),
            {key: value for key, value in kept.items() if value})


Wanted = Annotated[tuple[CaseFilter, dict], Depends(wanted_cases)]


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f}"


def ageing(line: CaseLine, now: datetime) -> dict:
    """What the page shows of a case's time: open for how long (until it closed), and
    how long to its deadline or past it, while no call-back was made."""
    case, tz = line.case, ZoneInfo(line.tz)
    waiting = case.status == RecoveryStatus.OPEN and case.called_back_at is None
    return {**params(case, tz), "age": (case.closed_at or now) - case.opened_at,
            "to_deadline": case.due_at - now if waiting else None,
            "state_key": state_key(case, now), "opened": local_time(case.opened_at, tz),
            "tz": tz}


@router.get("/cases")
def cases_page(scope: PageScope, session: SessionDep, render: Render, wanted: Wanted,
               after: str | None = None, before: str | None = None) -> Response:
    chosen, kept = wanted
    now = datetime.now(UTC)
    page = recovery_cases.page(session, chosen, now, after=as_id(after),
                               before=as_id(before), size=PAGE)
    return render("cases.html", page=page, now=now, kept=kept, query=urlencode(kept),
                  lines=[(line, ageing(line, now)) for line in page.lines],
                  teams=teams(session, scope), statuses=STATUSES)


@router.get("/cases.csv")
def cases_csv(engine: EngineDep, config: ConfigDep, wanted: Wanted) -> Response:
    chosen, _kept = wanted
    now = datetime.now(UTC)

    def rows() -> Iterator[str]:  # its own transaction: it outlives the route's
        with transaction(engine) as session:
            yield from csv_chunks((_row(line, now) for line in
                                   recovery_cases.every(session, chosen, now)),
                                  fields=CSV_FIELDS)

    stamp = now.astimezone(config.organisation.tz).strftime("%Y%m%d-%H%M")
    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="frontline-cases-{stamp}.csv"'})


def _row(line: CaseLine, now: datetime) -> dict:
    case, shown = line.case, ageing(line, now)
    tz = shown["tz"]

    def when(moment: datetime | None) -> str:
        return moment.astimezone(tz).isoformat() if moment else ""

    late = -shown["to_deadline"] if shown["to_deadline"] is not None else None
    return {"ref": shown["ref"], "team": line.team, "holder": line.holder,
            "named": line.named, "kind": case.kind, "score": case.score,
            "customer_ref": case.customer_ref, "touchpoint": case.touchpoint,
            "status": case.status, "outcome": case.outcome or "",
            "opened_at": when(case.opened_at), "due_at": when(case.due_at),
            "called_back_at": when(case.called_back_at), "closed_at": when(case.closed_at),
            "open_hours": _hours(shown["age"]),
            "overdue_hours": _hours(late) if late is not None and late > timedelta() else ""}
