"""The recovery loop on the console: the cockpit's figures per team and month (counted
by hand, on windows on and off the team's midnight), its twelve-month trend lines, and
the cases page (a supervisor their team's, HR every team's, employees refused), a page
at a time and as CSV. Both stores; the chart also in a browser."""

import csv
import io
import os
import shutil
from datetime import UTC, datetime, timedelta

import pytest

from handlers import feedback
from handlers.calendar import month_bounds
from handlers.directory import import_csv
from handlers.reports.recovery_figures import recovery_figures
from handlers.reports.trends import team_trend
from storage.engine import transaction
from storage.models import Team
from tests.support import rows
from tests.web_support import AIRPORT, app_for, browser, sign_in_link

HEADER = "kind,team,employee,score,text,customer_ref,touchpoint,source,source_id,received_at"
SHANGHAI = datetime(2026, 10, 31, 16, tzinfo=UTC)  # 2026-11-01 00:00 in Shanghai


def opened(chat, at: datetime, *lines: str) -> None:
    """Import responses at `at`: each unhappy one opens its case then."""
    with transaction(chat.engine) as session:
        feedback.import_csv(session, "\n".join((HEADER, *lines)) + "\n", at,
                            chat.config.themes, chat.config)


def team_id(chat, name: str = "Harbour Street Store") -> int:
    return rows(chat.engine, Team, name=name)[0].id


def figures(chat, since: datetime, until: datetime, now: datetime):
    harbour = team_id(chat)
    with transaction(chat.engine) as session:
        return recovery_figures(session, [harbour], since, until, now)[harbour]


def november_cases(chat) -> None:
    """K1 23:30 on 31 October, Shanghai (October's); K2 at midnight, K3 at 23:30 on 30
    November (November's); K4 at midnight on 1 December (December's); K5 and K6 inside."""
    def one(n: int, at: datetime, kind: str = "nps", score: str = "3") -> None:
        opened(chat, at, f"{kind},Harbour Street Store,alice,{score},slow,CUST{n},,t,{n},")

    one(1, SHANGHAI - timedelta(minutes=30))
    one(2, SHANGHAI)
    one(3, SHANGHAI + timedelta(days=30, minutes=-30))
    one(4, SHANGHAI + timedelta(days=30))
    five = datetime(2026, 11, 10, 2, tzinfo=UTC)
    one(5, five, "complaint", "")  # its deadline: 4 hours
    six = datetime(2026, 11, 15, 2, tzinfo=UTC)
    one(6, six, "csat", "1")
    chat.ok("alice", "recover K5 reached", now=five + timedelta(hours=1))  # in time
    chat.ok("alice", "recover K5 close recovered", now=five + timedelta(hours=2))
    chat.ok("alice", "recover K6 reached", now=six + timedelta(hours=2))  # in time, open
    chat.ok("alice", "recover K2 reached", now=SHANGHAI + timedelta(hours=30))  # late
    chat.ok("alice", "recover K2 close lost", now=SHANGHAI + timedelta(hours=31))
    chat.ok("alice", "recover K1 reached", now=SHANGHAI)  # October's, in time
    # goodwill: under K5's customer and under K2 itself count; before K5 opened, waiting
    # for a decision (over alice's 200 a time) or under October's K1 do not
    chat.ok("alice", "comp 40 voucher #CUST5 before the case", now=five - timedelta(hours=1))
    chat.ok("alice", "comp 50 voucher #cust5 sorry", now=five + timedelta(hours=3))
    chat.ok("alice", "comp 20 gift #K2 a card", now=SHANGHAI + timedelta(hours=31))
    chat.ok("alice", "comp 300 voucher #CUST6 big sorry", now=six + timedelta(hours=3))
    chat.ok("alice", "comp 10 gift #CUST1 october", now=SHANGHAI + timedelta(hours=1))


def test_the_months_figures_match_counting_by_hand_on_and_off_midnight(chat):
    november_cases(chat)
    since, until = month_bounds("2026-11", chat.config.organisation.tz)
    assert since == SHANGHAI
    now = datetime(2026, 12, 5, tzinfo=UTC)  # K3's deadline (1 December) has passed
    month = figures(chat, since, until, now)
    # K2, K3, K5, K6; all four due; on time: K5 (1 h), K6 (2 h); K2 30 h late; K3 never
    assert (month.opened, month.due, month.in_time, month.in_time_percent) == (4, 4, 2, 50)
    assert month.median_callback == timedelta(hours=2)  # of 1 h, 2 h, 30 h
    assert (month.closed, month.recovered, month.recovered_percent) == (2, 1, 50)
    assert month.goodwill == {"CNY": 7000}  # 50.00 under CUST5, 20.00 under K2
    # Before K3's deadline it is not yet due: on time 2 of the 3 due
    early = figures(chat, since, until, SHANGHAI + timedelta(days=30, hours=1))
    assert (early.due, early.in_time_percent) == (3, 67)
    # Off midnight: from 23:30 on 31 October (K1 in) to 23:30 on 30 November (K3 out)
    off = figures(chat, since - timedelta(minutes=30), until - timedelta(minutes=30), now)
    assert (off.opened, off.due, off.in_time, off.closed, off.recovered) == (4, 4, 3, 2, 1)
    assert off.median_callback == timedelta(hours=1, minutes=30)  # of 30 min, 1 h, 2 h, 30 h
    assert off.goodwill == {"CNY": 8000}  # and 10.00 under K1's customer
    # December holds K4 alone, open and not yet due on 1 December
    december = figures(chat, *month_bounds("2026-12", chat.config.organisation.tz),
                       SHANGHAI + timedelta(days=30, hours=1))
    assert (december.opened, december.due, december.in_time_percent,
            december.median_callback, december.goodwill) == (1, 0, None, None, {})


def test_the_trend_puts_each_month_in_the_teams_local_month(chat):
    # an NPS 10 at 23:30 on 30 November in Shanghai, an NPS 0 at midnight after it
    opened(chat, SHANGHAI, *[
        f"nps,Harbour Street Store,,{score},,,,t,{n},{at}" for n, (score, at) in enumerate([
            (10, "2026-11-30T15:30:00Z"), (0, "2026-11-30T16:00:00Z"),
            (9, "2026-11-10T02:00:00Z"), (5, "2026-06-01T02:00:00Z")])],
        "csat,Harbour Street Store,,5,,,,t,10,2026-11-30T15:59:00Z",
        "csat,Harbour Street Store,,1,,,,t,11,2026-11-30T12:00:00Z")
    chat.ok("alice", "waiver order lookup rule", now=datetime(2026, 11, 30, 15, 30, tzinfo=UTC))
    chat.ok("bob", "waiver order lookup rule", now=datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    with transaction(chat.engine) as session:
        trend = team_trend(session, chat.config, team_id(chat), "2026-12",
                           chat.config.organisation.tz)
    assert [p.month for p in trend][::11] == ["2026-01", "2026-12"] and len(trend) == 12
    by = {p.month: p for p in trend}
    assert (by["2026-11"].nps, by["2026-11"].csat, by["2026-11"].waivers) == (100, 50, 1)
    assert (by["2026-12"].nps, by["2026-12"].csat, by["2026-12"].waivers) == (-100, None, 1)
    assert (by["2026-06"].nps, by["2026-07"].nps, by["2026-11"].enps) == (-100, None, None)


@pytest.fixture
def app(chat, config):
    with transaction(chat.engine) as session:
        import_csv(session, config, AIRPORT)
    return app_for(chat.engine, config)


def recent_cases(chat, count: int = 3) -> None:
    """Harbour's `count` cases (the first overdue, the second closed) and one at the
    airport, all opened lately."""
    now = datetime.now(UTC)
    opened(chat, now - timedelta(hours=30), "nps,Harbour Street Store,alice,2,,CUST1,,t,1,")
    opened(chat, now - timedelta(hours=3), *[
        f"complaint,Harbour Street Store,bob,,cold,CUST{n},,t,{n}," for n in range(2, count + 1)])
    opened(chat, now - timedelta(hours=1), "complaint,Airport Kiosk,mia,,late,AIR,,t,air,")
    chat.ok("bob", "recover K2 reached", now=now - timedelta(hours=2))
    chat.ok("bob", "recover K2 close recovered", now=now - timedelta(hours=1))


def table_refs(page: str) -> list[str]:
    return [cell.split('"', 1)[0] for cell in page.split('<tr id="')[1:]]


def test_a_supervisor_sees_their_teams_cases_hr_all_and_an_employee_is_refused(app, chat):
    recent_cases(chat)
    airport = team_id(chat, "Airport Kiosk")
    wang = browser(app, chat, "wang")
    page = wang.get("/cases").text  # open ones, oldest first, in Chinese
    assert table_refs(page) == ["K1", "K3"]
    assert "已超时 6 小时 0 分" in page and "还剩 1 小时 0 分" in page
    assert '<a href="/history?ref=K1">K1</a>' in page
    assert table_refs(wang.get("/cases?status=closed").text) == ["K2"]
    assert table_refs(wang.get("/cases?status=all&overdue=1").text) == ["K1"]
    assert wang.get(f"/cases?team={airport}").status_code == 404
    assert wang.get("/cases?status=lost").status_code == 400
    history = wang.get("/history?ref=K1")
    assert history.status_code == 200 and "K1" in history.text
    hana = browser(app, chat, "hana")
    assert table_refs(hana.get("/cases").text) == ["K1", "K3", "K4"]
    assert table_refs(hana.get(f"/cases?team={airport}").text) == ["K4"]
    assert "6 h 0 min overdue" in hana.get("/cases").text
    refused = browser(app, chat, "alice").get("/cases")
    assert refused.status_code == 403
    assert "Recovery cases are followed by supervisors and HR" in refused.text
    assert browser(app, chat, "alice").get("/cases.csv").status_code == 403


def test_cases_come_a_page_at_a_time_and_the_csv_holds_every_one(app, chat):
    recent_cases(chat, count=56)  # 55 open at Harbour, one at the airport
    hana = browser(app, chat, "hana")
    first = hana.get("/cases").text
    assert len(table_refs(first)) == 50 and table_refs(first)[0] == "K1"
    assert 'rel="prev"' not in first
    following = first.split('rel="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = hana.get(following).text
    assert table_refs(second) == [f"K{n}" for n in range(52, 58)] and 'rel="next"' not in second
    back = second.split('rel="prev" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert table_refs(hana.get(back).text) == table_refs(first)
    exported = hana.get("/cases.csv?status=all")
    assert exported.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(exported.text)))
    assert [line["ref"] for line in lines] == [f"K{n}" for n in range(1, 58)]
    assert lines[0]["overdue_hours"] == "6.0" and lines[0]["team"] == "Harbour Street Store"
    assert lines[1]["outcome"] == "recovered" and lines[1]["overdue_hours"] == ""
    assert lines[0]["opened_at"].endswith("+08:00")  # the team's time
    wang = browser(app, chat, "wang")
    theirs = list(csv.DictReader(io.StringIO(wang.get("/cases.csv").text)))
    assert len(theirs) == 55 and "K57" not in {line["ref"] for line in theirs}


def test_the_cockpit_shows_the_months_recovery_figures_and_trend_lines(app, chat):
    november_cases(chat)
    hana = browser(app, chat, "hana")
    page = hana.get(f"/cockpit?team={team_id(chat)}&month=2026-11").text
    assert '<td class="num" id="recovery-opened">4</td>' in page
    assert '<td class="num" id="recovery-in-time">50%</td>' in page
    assert '<td class="num" id="recovery-median">2 h 0 min</td>' in page
    assert '<td class="num" id="recovery-recovered">50%</td>' in page
    assert '<td class="num" id="recovery-goodwill">70.00 CNY</td>' in page
    assert page.count('class="series"') == 4  # NPS, CSAT and eNPS; waivers
    assert 'data-series="cockpit.series.nps"' in page and ">Dec</text>" in page
    chinese = browser(app, chat, "wang").get("/cockpit?month=2026-11").text
    assert "客户净推荐值" in chinese and ">11月</text>" in chinese


CHROMIUM = os.environ.get("FRONTLINE_CHROMIUM", "/usr/bin/chromium")


@pytest.mark.browser
@pytest.mark.http
@pytest.mark.skipif(not shutil.which(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")
def test_the_trend_chart_in_a_browser_speaks_the_readers_language(app, chat):
    from playwright.sync_api import expect, sync_playwright

    from tests.http_servers import serve
    from tests.test_browser import CHROMIUM_ARGS

    opened(chat, SHANGHAI, "nps,Harbour Street Store,,10,,,,t,1,2026-11-12T02:00:00Z",
           "csat,Harbour Street Store,,4,,,,t,2,2026-10-12T02:00:00Z")
    with serve(app) as base, sync_playwright() as playwright:
        site = base.replace("127.0.0.1", "localhost")
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page()
            page.goto(site + sign_in_link(chat, "wang"))
            page.get_by_role("button", name="登录").click()  # Wang reads Chinese
            page.goto(site + "/cockpit?month=2026-11")
            chart = page.locator("#trends svg.line-chart").first
            expect(chart).to_be_visible()
            series = chart.locator("g.series")
            expect(series).to_have_count(3)
            assert [series.nth(i).get_attribute("data-series") for i in range(3)] == [
                "cockpit.series.nps", "cockpit.series.csat", "cockpit.series.enps"]
            expect(series.nth(0).locator("circle")).to_have_count(1)  # November's NPS
            expect(chart.locator("text.label")).to_have_text(
                [f"{m}月" for m in (12, *range(1, 12))])
            expect(page.locator("#trends figcaption").first).to_contain_text("客户净推荐值")
        finally:
            chromium.close()
