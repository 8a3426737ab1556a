"""The fairness report on a hand-computed example, and who may open it."""

from datetime import timedelta

import pytest

from handlers.directory import import_csv
from handlers.reports.fairness import fairness_report
from storage.engine import transaction
from tests.conftest import NOW
from tests.support import credit
from tests.web_support import AIRPORT, app_for, browser


@pytest.fixture
def recognised(chat, config):
    with transaction(chat.engine) as session:
        import_csv(session, config, AIRPORT)
    for n in range(3):
        credit(chat.engine, "alice", 10, f"p{n}", reason="praise", when=NOW + timedelta(hours=n))
    credit(chat.engine, "bob", 20, "s1", reason="suggestion", when=NOW)
    credit(chat.engine, "lilei", 50, "g1", reason="golden_ear", when=NOW)
    credit(chat.engine, "alice", -10, "r1", reason="redemption", when=NOW)  # not recognition
    credit(chat.engine, "bob", 10, "v1", reason="reversal", when=NOW)  # nor a refund
    credit(chat.engine, "mia", 10, "p-oct", reason="praise", when=NOW - timedelta(days=30))
    return chat


def test_the_figures_of_a_hand_computed_month(recognised):
    chat = recognised
    with transaction(chat.engine) as session:
        report = fairness_report(session, chat.config, "2026-11")
    people = {e.handle: (points, praise) for e, _team, points, praise in report.people}
    assert people == {"alice": (30, 3), "bob": (20, 0), "lilei": (50, 0), "wang": (0, 0),
                      "hana": (0, 0), "zhou": (0, 0), "mia": (0, 0)}
    # 7 people: the top 10% is 1 person, lilei, with 50 of the 100 points
    assert (report.top_people, report.top_share) == (1, 0.5)
    assert report.unrecognised_teams == ["Airport Kiosk", "Head Office"]
    teams = {r.name: (r.people, r.points, r.praise, r.recognised) for r in report.teams}
    assert teams == {"Harbour Street Store": (4, 100, 3, 3), "Head Office": (1, 0, 0, 0),
                     "Airport Kiosk": (2, 0, 0, 0)}
    roles = {r.name: (r.people, r.points, r.recognised) for r in report.roles}
    assert roles == {"employee": (4, 100, 3), "supervisor": (2, 0, 0), "hr": (1, 0, 0)}
    trend = dict(report.trend)
    assert trend["2026-10"] == {"Airport Kiosk": 10} and trend["2026-11"] == {
        "Harbour Street Store": 100}
    assert next(iter(trend)) == "2026-06"


def test_a_month_without_points(chat):
    with transaction(chat.engine) as session:
        report = fairness_report(session, chat.config, "2026-11")
    assert report.top_share is None
    assert report.unrecognised_teams == ["Harbour Street Store", "Head Office"]


def test_the_fairness_page_is_hrs(recognised, config):
    chat = recognised
    app = app_for(chat.engine, config)
    page = "/fairness?month=2026-11"
    for handle in ("alice", "wang", "zhou"):
        assert browser(app, chat, handle).get(page).status_code == 403
    refused = browser(app, chat, "zhou").get(page).text  # what is refused, not another page's
    assert "Only HR can see the Fairness page." in refused and "redemptions" not in refused
    assert "只有 HR 可以查看「公平性」页面。" in browser(app, chat, "wang").get(page).text
    hana = browser(app, chat, "hana").get(page).text
    assert "The top 10% of people (1) got 50% of this month&#39;s points." in hana
    assert "Teams with no recognition this month: Airport Kiosk, Head Office" in hana
    assert 'href="/fairness"' in hana
    assert 'href="/fairness"' not in browser(app, chat, "wang").get("/team").text


def test_the_page_names_the_most_and_least_recognised_and_the_csv_has_everyone(
        recognised, config, monkeypatch):
    from bot.webui.pages import reports

    chat = recognised
    hana = browser(app_for(chat.engine, config), chat, "hana")
    monkeypatch.setattr(reports, "PEOPLE_SHOWN", 2)
    monkeypatch.setattr(reports, "TEAMS_NAMED", 1)
    monkeypatch.setattr(reports, "TREND_TEAMS", 1)
    page = hana.get("/fairness?month=2026-11").text
    most, least = page.split('id="fair-people"')[1], page.split('id="fair-least"')[1]
    assert most.index("李雷 Li Lei") < most.index("Alice Chen") < most.index("</table>")
    assert "Bob Li" not in most.split("</table>")[0]
    assert "Hana Xu" in least.split("</table>")[0]  # no points, first by name
    assert "Teams with no recognition this month: Airport Kiosk …and 1 more team" in page
    assert "the 1 team with the most" in page
    csv = hana.get("/fairness.csv?month=2026-11").text.splitlines()
    assert csv[0] == "team,role,handle,name,points,praise" and len(csv) == 8
    assert csv[1] == "Harbour Street Store,employee,lilei,李雷 Li Lei,50,0"
    assert browser(app_for(chat.engine, config), chat, "wang").get(
        "/fairness.csv").status_code == 403
