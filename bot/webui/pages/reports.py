"""The reports for supervisors (their team) and HR (everyone): compensation spend,
waiver friction and recognition, each with a server-drawn chart, and how much of their
authority people use."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import Response

from bot.webui import charts
from bot.webui.deps import ConfigDep, Locale, PageError, PageScope, PageViewer, SessionDep
from bot.webui.pages.base import Render, local_date, page_router
from bot.webui.text import text
from handlers.base import PRIVILEGED
from handlers.calendar import last_days, month_bounds, month_of
from handlers.reports.authority import authority_report
from handlers.reports.fairness import fairness_report
from handlers.reports.friction import DEFAULT_DAYS, friction_report
from handlers.reports.recognition import recognition_report
from handlers.reports.recovery import recovery_yield
from handlers.reports.spend import spend_report

router = page_router(supervisors_only=True)


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
    report = spend_report(session, config, scope, month)
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


@router.get("/authority")
def authority_page(scope: PageScope, session: SessionDep, month: Month, config: ConfigDep,
                   render: Render) -> Response:
    return render("authority.html", report=authority_report(session, config, scope, month))


@router.get("/fairness")
def fairness_page(viewer: PageViewer, session: SessionDep, month: Month, config: ConfigDep,
                  render: Render) -> Response:
    if viewer.employee.role not in PRIVILEGED:  # everyone's recognition: HR's view
        raise PageError(403, "error.hr_only")
    return render("fairness.html", report=fairness_report(session, config, month))
