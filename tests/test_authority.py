"""Authority coaching: who uses how much of their authority, and who never used theirs
while peers in the same team and role did."""

from datetime import timedelta

import pytest

from handlers.base import Message
from handlers.directory import import_csv
from handlers.reports.authority import (
    authority_report,
    authority_summary,
    coaching_for,
)
from handlers.scope import scope_of
from storage.engine import transaction
from tests.support import employee
from tests.web_support import AIRPORT, app_for, browser


def coaching(report) -> list[Message]:
    """The coaching lines, worked out from the whole report: what the database's count
    (`coaching_for`) must equal."""
    return [Message("signal.unused", {
        "who": person.employee.name, "team": group.team or "-",
        "role_key": f"role.{group.role}", "month": report.month,
        "users": len(group.users), "peers": len(group.people) - 1,
        "names": ", ".join(p.employee.name for p in group.users)})
        for person, group in report.to_coach]


def report(chat, handle, month="2026-11"):
    reader = employee(chat.engine, handle)
    with transaction(chat.engine) as session:
        scope = scope_of(session, reader)
        found = authority_report(session, chat.config, scope, month)
        # the database's count and lines are the report's, in the report's order
        summed = coaching_for(session, chat.config, scope, month)
        assert (summed.lines, summed.total) == (coaching(found), len(found.to_coach))
        assert [(g.team, g.role, g.people, g.users, g.spent) for g in authority_summary(
            session, chat.config, scope, month)] == [
            (g.team, g.role, len(g.people), len(g.users), g.spent) for g in found.groups]
        return found


def test_use_per_team_and_role_and_who_to_coach(chat):
    chat.ok("alice", "comp 150 voucher #A1 late")
    chat.ok("alice", "comp 50 gift #A2 flowers", now=chat.now + timedelta(hours=1))
    chat.ok("bob", "comp 400 refund #B1 broken")  # above authority: not his own use
    found = report(chat, "wang")
    (group,) = found.groups  # wang does not appear in his own view
    assert (group.team, group.role) == ("Harbour Street Store", "employee")
    use = {p.employee.handle: (p.count, p.total, p.largest_share) for p in group.people}
    assert use == {"alice": (2, 200, 0.75), "bob": (0, 0, 0.0), "lilei": (0, 0, 0.0)}
    assert sorted(p.employee.handle for p, _g in found.to_coach) == ["bob", "lilei"]
    # another month: nobody used theirs, so nobody stands out
    assert report(chat, "wang", "2026-10").to_coach == []
    everyone = report(chat, "hana")
    assert {(g.team, g.role) for g in everyone.groups} == {
        ("Harbour Street Store", "employee"), ("Harbour Street Store", "supervisor")}


@pytest.fixture
def app(chat, config):
    with transaction(chat.engine) as session:
        import_csv(session, config, AIRPORT)
    return app_for(chat.engine, config)


def test_the_authority_page_for_every_role(app, chat):
    chat.ok("alice", "comp 150 voucher #A1 late")
    page = "/authority?month=2026-11"
    assert browser(app, chat, "alice").get(page).status_code == 403
    wang = browser(app, chat, "wang").get(page).text  # reads Chinese
    assert "Bob Li 本月没有使用过授权，而同岗位（员工）的 2 位同事中有 1 位用过" in wang
    assert "Mia Sun" not in wang
    zhou = browser(app, chat, "zhou").get(page).text
    assert "Alice Chen" not in zhou and "Mia Sun" in zhou
    hana = browser(app, chat, "hana").get(page).text
    assert "Lilei" not in hana and "李雷 Li Lei has not used their authority" in hana
    assert browser(app, chat, "hana").get("/authority?month=nope").status_code == 400


def test_one_peer_is_said_in_the_singular(app, chat):
    with transaction(chat.engine) as session:
        import_csv(session, chat.config, "handle,name,role,team,timezone,supervisor,locale\n"
                   "leo,Leo Lu,employee,Airport Kiosk,,zhou,en\n")
    chat.ok("mia", "comp 50 voucher #K1 late")
    zhou = browser(app, chat, "zhou").get("/authority?month=2026-11").text
    assert "Leo Lu has not used their authority this month, while their only peer " \
           "(employee) did." in zhou


def test_hr_sees_a_row_a_team_and_role_opens_a_team_and_downloads_everyone(app, chat,
                                                                          monkeypatch):
    from bot.webui.pages import reports

    chat.ok("alice", "comp 150 voucher #A1 late")
    hana = browser(app, chat, "hana")
    page = hana.get("/authority?month=2026-11").text
    assert 'id="groups"' in page and "Alice Chen</td>" not in page  # no one's row
    assert "/authority?month=2026-11&amp;team=Harbour+Street+Store" in page
    team = hana.get("/authority?month=2026-11&team=Harbour+Street+Store").text
    assert "Alice Chen</td>" in team and "Mia Sun" not in team and 'id="groups"' not in team
    csv = hana.get("/authority.csv?month=2026-11")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == "team,role,handle,name,limit,count,spent,largest_share"
    assert "Harbour Street Store,employee,alice,Alice Chen,200,1,150.00,0.75" in lines
    monkeypatch.setattr(reports, "GROUPS_SHOWN", 1)  # one team and role a page
    first = hana.get("/authority?month=2026-11").text
    assert 'rel="next"' in first and 'rel="prev"' not in first
    assert 'rel="prev"' in hana.get("/authority?month=2026-11&page=2").text
    monkeypatch.setattr(reports, "COACH_SHOWN", 1)
    assert "1 more person; the CSV has everyone" in hana.get("/authority?month=2026-11").text


def test_a_reader_is_told_the_first_to_coach_and_how_many_more(chat):
    from handlers.reports.authority import coaching_lines

    chat.ok("alice", "comp 150 voucher #A1 late")
    with transaction(chat.engine) as session:
        scope = scope_of(session, employee(chat.engine, "hana"))
        lines = coaching_lines(session, chat.config, scope, "2026-11", limit=1)
    assert [line.key for line in lines] == ["signal.unused", "signal.unused_more"]
    assert lines[1].params["count"] == 1  # bob and lilei: one named, one more
    assert lines[1].params["url"] == chat.config.web.public_url
