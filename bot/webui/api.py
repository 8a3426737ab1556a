"""The JSON API beside the pages (ledger, balances, redemptions), described by the
app's OpenAPI schema. An integration authenticates with a bearer token HR made
with `frontline api-token create`; a signed-in browser may call it too, and then
sees exactly what its pages show."""

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from bot.webui.deps import ApiScope, ConfigDep, SessionDep, api_viewer
from handlers import limits
from handlers.calendar import local_midnight
from handlers.scope import OPEN_REDEMPTIONS, SETTLED_REDEMPTIONS, ledger_filter, redemption_queue
from handlers.scope import balances as balances_in_scope
from points import history

NOT_FOUND = HTTPException(404, "not found")
UNAUTHORISED = {400: {"description": "A NUL byte in the address"},
                401: {"description": "No valid API token or session"}}
# A word in a query: no control character nor bidi override (a NUL byte is refused
# before any route runs, bot.app.web).
WORD = limits.WORD_PATTERN
OUT_OF_SIGHT = {404: {"description": "No such person or team, or not one the caller may see"}}


class LedgerLine(BaseModel):
    id: int
    created_at: datetime
    handle: str
    name: str
    team: str
    amount: int
    balance_after: int | None
    reason: str
    source_type: str
    source_id: int | None
    reverses_id: int | None
    note: str


class LedgerPage(BaseModel):
    entries: list[LedgerLine]
    older: int | None  # pass as `before` for the next page
    newer: int | None  # pass as `after` for the previous page


class Balance(BaseModel):
    handle: str
    name: str
    team: str
    balance: int


class RedemptionOut(BaseModel):
    id: int
    handle: str
    name: str
    item: str
    cost: int
    status: str
    comment: str
    created_at: datetime
    decided_at: datetime | None


# Ids as the database stores them: teams 32-bit, ledger entries 64-bit.
TeamId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
EntryId = Annotated[int | None, Query(ge=1, le=2**63 - 1)]

router = APIRouter(prefix="/api/v1", tags=["console"], responses=UNAUTHORISED,
                   dependencies=[Depends(api_viewer)])


@router.get("/ledger", response_model=LedgerPage, summary="Ledger entries, newest first",
            responses=OUT_OF_SIGHT)
def ledger(scope: ApiScope, session: SessionDep, config: ConfigDep,
           person: Annotated[str | None, Query(max_length=limits.limit("person"),
                                               pattern=WORD)] = None,
           team: TeamId = None,
           reason: Annotated[str | None, Query(max_length=limits.WORD, pattern=WORD)] = None,
           since: Annotated[date | None, Query(alias="from")] = None,
           until: Annotated[date | None, Query(alias="to")] = None,
           before: EntryId = None, after: EntryId = None,
           limit: Annotated[int, Query(ge=1, le=500)] = 50) -> LedgerPage:
    """Filters as on the ledger page; dates are local days, `to` included. Page
    with the returned `older` (as `before`) or `newer` (as `after`)."""
    tz = config.organisation.tz
    wanted = ledger_filter(
        session, scope, person=person, team_id=team, reason=reason,
        since=local_midnight(since, tz) if since else None,
        until=local_midnight(until + timedelta(days=1), tz) if until else None)
    if wanted is None:
        raise NOT_FOUND
    page = history.page(session, wanted, before=before, after=after, size=limit)
    return LedgerPage(entries=[LedgerLine(
        id=line.entry.id, created_at=line.entry.created_at, handle=line.handle,
        name=line.name, team=line.team, amount=line.entry.amount,
        balance_after=line.entry.balance_after, reason=line.entry.reason,
        source_type=line.entry.source_type, source_id=line.entry.source_id,
        reverses_id=line.entry.reverses_id, note=line.entry.note) for line in page.lines],
        older=page.older, newer=page.newer)


@router.get("/balances", response_model=list[Balance], summary="Points balances",
            responses=OUT_OF_SIGHT)
def balances(scope: ApiScope, session: SessionDep, team: TeamId = None) -> list[Balance]:
    if team is not None and not scope.sees_team(team):
        raise NOT_FOUND
    return [Balance(handle=e.handle, name=e.name, team=team_name, balance=points)
            for e, team_name, points in balances_in_scope(session, scope, team)]


@router.get("/redemptions", response_model=list[RedemptionOut], summary="Redemptions")
def redemptions(scope: ApiScope, session: SessionDep,
                status: Literal["open", "settled"] = "open") -> list[RedemptionOut]:
    queue = redemption_queue(session, scope,
                             OPEN_REDEMPTIONS if status == "open" else SETTLED_REDEMPTIONS)
    return [RedemptionOut(
        id=r.id, handle=who.handle, name=who.name, item=r.item_key, cost=r.cost,
        status=r.status, comment=r.decision_comment, created_at=r.created_at,
        decided_at=r.decided_at) for r, who in queue]
