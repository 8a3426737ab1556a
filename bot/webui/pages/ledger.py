"""The ledger: filtered keyset pages with each entry's running balance, and the same
filter exported as CSV."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Query
from fastapi.responses import Response, StreamingResponse

from bot.webui.deps import ConfigDep, EngineDep, PageError, PageScope, SessionDep
from bot.webui.pages.base import BIG_ID, REASONS, Render, as_id, local_date, page_router
from handlers.scope import ledger_filter, people, teams
from points import export, history, ledger
from points.history import LedgerFilter
from storage.engine import transaction
from storage.models import Employee

PICK_LIMIT = 150  # more people than this: the person filter is typed, not picked

router = page_router()


@dataclass(frozen=True)
class Wanted:
    filter: LedgerFilter
    kept: dict[str, str]  # the query's non-empty filter values, kept in links


def wanted_entries(scope: PageScope, session: SessionDep, config: ConfigDep,
                   person: str | None = None, team: str | None = None,
                   reason: str | None = None,
                   since: Annotated[str | None, Query(alias="from")] = None,
                   until: Annotated[str | None, Query(alias="to")] = None) -> Wanted:
    """The reader's filter (local days, `to` included), narrowed to what they may see;
    a person or team out of sight is not found, like one that does not exist."""
    tz = config.organisation.tz
    start, end = local_date(since, tz), local_date(until, tz)
    if reason and reason not in REASONS:
        raise PageError(404, "error.not_found")
    found = ledger_filter(session, scope, person=person or None, team_id=as_id(team),
                          reason=reason or None, since=start,
                          until=end + timedelta(days=1) if end else None)
    if found is None:
        raise PageError(404, "error.not_found")
    values = {"person": person, "team": team, "reason": reason, "from": since, "to": until}
    return Wanted(found, {key: value for key, value in values.items() if value})


WantedDep = Annotated[Wanted, Depends(wanted_entries)]


@router.get("/ledger")
def ledger_page(render: Render, session: SessionDep, scope: PageScope, wanted: WantedDep,
                before: str | None = None, after: str | None = None) -> Response:
    filters = wanted.filter
    page = history.page(session, filters, before=as_id(before, BIG_ID),
                        after=as_id(after, BIG_ID))
    person = None
    if filters.employee_ids is not None and len(filters.employee_ids) == 1:
        person = session.get(Employee, next(iter(filters.employee_ids)))
    return render(
        "ledger.html", page=page, kept=wanted.kept, query=urlencode(wanted.kept),
        person=person, balance=ledger.balance(session, person.id) if person else None,
        people=people(session, scope, PICK_LIMIT + 1), pick_limit=PICK_LIMIT,
        teams=teams(session, scope))


@router.get("/ledger.csv")
def ledger_csv(wanted: WantedDep, engine: EngineDep, config: ConfigDep) -> Response:
    filters = wanted.filter

    def stream() -> Iterator[str]:  # its own transaction: it outlives the route's
        with transaction(engine) as session:
            yield from export.csv_chunks(export.rows(session, filters))

    stamp = datetime.now(config.organisation.tz).strftime("%Y%m%d-%H%M")
    return StreamingResponse(stream(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="frontline-ledger-{stamp}.csv"'})
