"""The reports for supervisors (their team) and HR (everyone): compensation spend,
waiver friction and recognition, each with a server-drawn chart, and how much of their
authority people use."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import Response, StreamingResponse

from bot.webui import charts
from bot.webui.deps import (
    ConfigDep,
    EngineDep,
    Locale,
    PageError,
    PageScope,
    PageViewer,
    SessionDep,
)
from bot.webui.pages.base import Render, local_date, page_router
from bot.webui.text import text
from handlers.base import PRIVILEGED
from handlers.calendar import last_days, month_bounds, month_of
from handlers.reports.authority import authority_report, authority_summary, coaching_for
from handlers.reports.fairness import fairness_report
from handlers.reports.friction import DEFAULT_DAYS, friction_report
from handlers.reports.recognition import recognition_report
from handlers.reports.recovery import recovery_yield
from handlers.reports.spend import spend_report
from points.export import csv_chunks
from storage.engine import transaction

router = page_router(supervisors_only=True)
SPEND_SHOWN = 50  # the largest spenders, and teams, named on the compensation page


def chosen_month(config: ConfigDep, month: str | None = None) -> str:
    """The month asked for ("2026-11"), or the current one."""
    tz = config.organisation.tz
    month = month or month_of(datetime.now(UTC), tz)
    try:
        month_bounds(month, tz)
    except ValueError:
        raise PageError(400, "web.error.month") from None
    return month


Month = Annotated[str, Depends(chosen_month)]


@router.get("/compensation")
def compensation_page(scope: PageScope, session: SessionDep, month: Month, config: ConfigDep,
                      locale: Locale, render: Render) -> Response:
    report = spend_report(session, config, scope, month, shown=SPEND_SHOWN)
    by_team, by_kind = recovery_yield(session, scope, *month_bounds(month, config.organisation.tz))
    return render("compensation.html", report=report, by_team=by_team, by_kind=by_kind,
                  trend=charts.bar_chart("compensation.trend", [
                      (m[5:], spent) for m, spent in report.trend], currency=report.currency),
                  kinds=charts.bar_chart("compensation.kinds", [
                      (text(f"kind.{k}", locale), v) for k, v in report.kinds.items()]))


@router.get("/waivers")
def waivers_page(scope: PageScope, session: SessionDep, config: ConfigDep, render: Render,
                 since: Annotated[str | None, Query(alias="from")] = None,
                 until: Annotated[str | None, Query(alias="to")] = None) -> Response:
    tz, now = config.organisation.tz, datetime.now(UTC)
    start, end = last_days(now, tz, DEFAULT_DAYS)
    start = local_date(since, tz) or start
    to = local_date(until, tz)
    end = to + timedelta(days=1) if to else end
    report = friction_report(session, config, scope, start, end, now)
    return render("waivers.html", report=report,
                  shown_until=(end - timedelta(days=1)).date(),
                  chart=charts.bar_chart("waivers.chart", [
                      (rule.rule[:14], rule.waived) for rule in report.rules[:10]]))


@router.get("/recognition")
def recognition_page(scope: PageScope, session: SessionDep, month: Month, config: ConfigDep,
                     render: Render) -> Response:
    report = recognition_report(session, config, scope, month)
    return render("recognition.html", report=report,
                  chart=charts.bar_chart("recognition.praise", [
                      (m[5:], n) for m, n in report.totals]))


GROUPS_SHOWN = 200  # teams and roles on one page of the organisation's summary
TEAMS_NAMED = 20  # unrecognised teams named in the fairness summary
PEOPLE_SHOWN = 20  # the most and the least recognised people on the fairness page
TREND_TEAMS = 10  # teams in the fairness trend: those with the most points this month
COACH_SHOWN = 50  # people to coach named on the page; the CSV has everyone
CSV_FIELDS = ("team", "role", "handle", "name", "limit", "count", "spent", "largest_share")
Team = Annotated[str | None, Query(max_length=200)]
Page = Annotated[int, Query(ge=1, le=100_000)]


@router.get("/authority")
def authority_page(scope: PageScope, session: SessionDep, month: Month, config: ConfigDep,
                   render: Render, team: Team = None, page: Page = 1) -> Response:
    """A supervisor sees their people; HR, the whole organisation, sees one row a team
    and role (a page at a time, summed by the database) and opens a team for its people."""
    summary = scope.everyone and team is None
    if summary:
        groups = authority_summary(session, config, scope, month)
        shown = groups[(page - 1) * GROUPS_SHOWN:page * GROUPS_SHOWN]
        last = page * GROUPS_SHOWN >= len(groups)
    else:
        shown, last = authority_report(session, config, scope, month, team).groups, True
    coach = coaching_for(session, config, scope, month, COACH_SHOWN)
    return render("authority.html", month=month, currency=config.organisation.currency,
                  groups=shown, summary=summary, team=team, page=page, last=last,
                  to_coach=coach.lines, more=coach.total - len(coach.lines))


@router.get("/authority.csv")
def authority_csv(scope: PageScope, engine: EngineDep, month: Month, config: ConfigDep,
                  team: Team = None) -> Response:
    def rows() -> Iterator[str]:  # its own transaction: it outlives the route's
        with transaction(engine) as session:
            report = authority_report(session, config, scope, month, team)
            yield from csv_chunks(({
                "team": group.team, "role": group.role, "handle": person.employee.handle,
                "name": person.employee.name, "limit": person.limit, "count": person.count,
                "spent": person.total, "largest_share": f"{person.largest_share:.2f}"}
                for group in report.groups for person in group.people), fields=CSV_FIELDS)

    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="frontline-authority-{month}.csv"'})


@router.get("/fairness")
def fairness_page(viewer: PageViewer, session: SessionDep, month: Month, config: ConfigDep,
                  render: Render) -> Response:
    if viewer.employee.role not in PRIVILEGED:  # everyone's recognition: HR's view
        raise PageError(403, "error.hr_page", page_key="nav.fairness")
    report = fairness_report(session, config, month, shown=PEOPLE_SHOWN,
                             trend_teams=TREND_TEAMS)
    followed = sorted(report.teams, key=lambda row: (-row.points, row.name))[:TREND_TEAMS]
    return render("fairness.html", report=report, teams_named=TEAMS_NAMED,
                  trend_teams=sorted(row.name for row in followed))


@router.get("/fairness.csv")
def fairness_csv(viewer: PageViewer, engine: EngineDep, month: Month, config: ConfigDep,
                 ) -> Response:
    if viewer.employee.role not in PRIVILEGED:  # the page's figures
        raise PageError(403, "error.hr_page", page_key="nav.fairness")

    def rows() -> Iterator[str]:  # its own transaction: it outlives the route's
        with transaction(engine) as session:
            report = fairness_report(session, config, month, shown=None)
            yield from csv_chunks(({
                "team": team, "role": employee.role, "handle": employee.handle,
                "name": employee.name, "points": points, "praise": praise}
                for employee, team, points, praise in report.people),
                fields=("team", "role", "handle", "name", "points", "praise"))

    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="frontline-fairness-{month}.csv"'})
