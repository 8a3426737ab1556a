"""The mirror: themes tagged from keywords in every language, a team's month of customer
and staff voices side by side, the themes that hurt both, and the cockpit page for
each role."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.kit.config import parse_config
from handlers import feedback, pulse, themes
from handlers.directory import import_csv
from handlers.policy import DEFAULT_THEMES
from handlers.reports.mirror import cockpit
from handlers.themes import themes_of
from storage.engine import transaction
from storage.models import CouncilItem, Feedback, Suggestion, Team, Waiver
from tests.support import rows
from tests.web_support import AIRPORT, app_for, browser

NOVEMBER = (datetime(2026, 11, 1, tzinfo=UTC) - timedelta(hours=8),  # Shanghai midnight
            datetime(2026, 12, 1, tzinfo=UTC) - timedelta(hours=8))


def test_keywords_tag_texts_in_every_language(config):
    themes = config.themes
    assert themes_of("The CRM and the order system don't talk", themes) == ["it-systems"]
    assert themes_of("订单系统又死机了", themes) == ["it-systems"]
    assert themes_of("系統當機，退款要小票", themes) == ["it-systems", "refund-policy"]
    assert themes_of("a happy customer", themes) == []  # "app" is no word of "happy"
    assert themes_of("QUEUE too long", themes) == ["staffing"]


def harbour(engine) -> int:
    return rows(engine, Team, name="Harbour Street Store")[0].id


def voices(chat):
    """A month in which customers and staff both complain about the order system."""
    lines = ["kind,team,employee,score,text,source,source_id,received_at",
             "complaint,Harbour Street Store,,,they could not find my order in the system,"
             "t,1,2026-11-10T12:00:00Z",
             "nps,Harbour Street Store,,2,system down again,t,2,2026-11-11T12:00:00Z",
             "nps,Harbour Street Store,bob,10,lovely staff,t,3,2026-11-11T12:00:00Z",
             "complaint,Harbour Street Store,,,no refund without a receipt,t,4,"
             "2026-11-12T12:00:00Z",
             "complaint,Harbour Street Store,,,the queue was long,t,5,2026-10-12T12:00:00Z"]
    with transaction(chat.engine) as session:
        feedback.import_csv(session, "\n".join(lines) + "\n", datetime.now(UTC), DEFAULT_THEMES)
    now = datetime(2026, 11, 16, 2, tzinfo=UTC)
    chat.ok("alice", "waiver order lookup rule", now=now)
    chat.ok("alice", "waiver report W1 took the order by phone / the system was offline",
            now=now)
    chat.ok("bob", "suggest connect the CRM to the order system", now=now)
    chat.ok("lilei", "suggest umbrella stand at the door", now=now)


def test_a_team_month_puts_both_voices_side_by_side(chat):
    voices(chat)
    team_id = harbour(chat.engine)
    with transaction(chat.engine) as session:
        report = cockpit(session, chat.config, team_id, *NOVEMBER)
    assert (report.customers.nps, report.customers.complaints) == (0, 2)  # 1 up, 1 down of 2
    assert (report.waivers, report.suggestions, report.pulse.enps) == (1, 2, None)
    by_key = {theme.key: (theme.customers, theme.staff) for theme in report.themes}
    # customers: the lost order, "system down" (a detractor); staff: the waiver, the CRM
    assert by_key["it-systems"] == (2, 2)
    assert by_key["refund-policy"] == (1, 0)
    assert "staffing" not in by_key  # October's queue complaint is another month
    assert [theme.key for theme in report.mirror] == ["it-systems"]


def test_pulse_comments_count_only_when_the_pulse_may_be_shown(chat):
    team_id = harbour(chat.engine)
    with transaction(chat.engine) as session:
        team = session.get(Team, team_id)
        pulse.ask(session, chat.config, team, "2026-W47", datetime(2026, 11, 16, 2, tzinfo=UTC),
                  datetime(2026, 11, 16, 2, tzinfo=UTC))
    at = datetime(2026, 11, 16, 3, tzinfo=UTC)
    for handle in ("alice", "bob", "lilei", "wang"):
        chat.ok(handle, "pulse 4 the order system is too slow", now=at)
    lenient = parse_config({"rituals": {"pulse": {"min_answers": 4}}})
    with transaction(chat.engine) as session:
        shown = cockpit(session, chat.config, team_id, *NOVEMBER)
        counted = cockpit(session, lenient, team_id, *NOVEMBER)
    assert shown.pulse.enps is None and shown.themes == []  # four answers: nothing shows
    assert counted.pulse.enps == -100
    assert {t.key: t.staff for t in counted.themes} == {"it-systems": 4}


def test_each_record_keeps_its_themes_and_is_re_tagged_when_the_vocabulary_changes(chat):
    voices(chat)
    assert sorted(f.themes for f in rows(chat.engine, Feedback)) == [
        "|it-systems|", "|it-systems|", "|refund-policy|", "|staffing|", "|staffing|"]
    (waiver,) = rows(chat.engine, Waiver)  # the rule, and its report's how and why
    assert waiver.themes == "|it-systems|"
    assert sorted(s.themes for s in rows(chat.engine, Suggestion)) == ["", "|it-systems|"]
    weather = {"key": "weather", "names": {"en": "Weather", "zh": "天气", "zh-Hant": "天氣"},
               "keywords": ["umbrella", "雨伞", "雨傘"]}
    changed = parse_config({"themes": [weather, {
        "key": "orders", "names": {"en": "Orders"}, "keywords": ["order", "orders"]}]})
    team_id = harbour(chat.engine)
    with transaction(chat.engine) as session:
        before = cockpit(session, changed, team_id, *NOVEMBER)
        assert before.themes == []  # stored tags of themes it no longer has count nowhere
        assert themes.retag(session, changed) == {
            "feedback": 5, "waiver": 1, "suggestion": 2, "pulseanswer": 0}
        assert themes.retag(session, changed)["suggestion"] == 0  # nothing changed again
        after = cockpit(session, changed, team_id, *NOVEMBER)
    # customers: the lost order; staff: the waived order lookup, the CRM/order system,
    # the umbrella stand
    assert [(t.key, t.customers, t.staff) for t in after.themes] == [
        ("orders", 1, 2), ("weather", 0, 1)]
    assert [t.key for t in after.mirror] == ["orders"]


@pytest.fixture
def app(chat, config):
    with transaction(chat.engine) as session:
        import_csv(session, config, AIRPORT)
    return app_for(chat.engine, config)


def test_the_cockpit_page_for_each_role(app, chat):
    voices(chat)
    airport = rows(chat.engine, Team, name="Airport Kiosk")[0].id
    assert browser(app, chat, "alice").get("/cockpit").status_code == 403
    wang = browser(app, chat, "wang")
    page = wang.get("/cockpit?month=2026-11")
    assert page.status_code == 200
    assert "Harbour Street Store" in page.text and "<strong>IT系统</strong>" in page.text
    assert "不足 5 份回答" in page.text  # wang reads Simplified Chinese
    assert '<tr><td>Bob Li</td><td class="num">100</td><td class="num">1</td>' in page.text
    assert wang.get(f"/cockpit?team={airport}").status_code == 404
    assert wang.get("/cockpit?month=2026-13").status_code == 400
    hana = browser(app, chat, "hana")
    assert hana.get(f"/cockpit?team={airport}&month=2026-11").status_code == 200
    harbour_page = hana.get(f"/cockpit?team={harbour(chat.engine)}&month=2026-11").text
    assert "<strong>IT systems</strong>" in harbour_page and "hidden below 5" in harbour_page
    chat.ok("hana", "lang zh-hant")
    assert "IT系統" in hana.get(f"/cockpit?team={harbour(chat.engine)}&month=2026-11").text


def test_hr_opens_a_council_item_from_the_cockpit_and_moves_it_on(app, chat):
    voices(chat)
    team = harbour(chat.engine)
    hana = browser(app, chat, "hana")
    page = hana.get(f"/cockpit?team={team}&month=2026-11").text
    token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert 'action="/council/open"' in page
    opened = hana.post("/council/open", data={
        "csrf": token, "team": str(team), "team_name": "Harbour Street Store",
        "theme": "it-systems", "owner": "wang"})
    assert (opened.status_code, opened.headers["location"]) == (303, f"/cockpit?team={team}")
    page = hana.get(f"/cockpit?team={team}").text
    assert "X1 opened: IT systems" in page and 'id="X1"' in page
    def step(client, csrf, name, **extra):
        return client.post("/council/step", data={"csrf": csrf, "ref": "X1", "step": name,
                                                  "team": str(team), **extra})

    assert step(hana, token, "approve").status_code == 303  # refused: her own proposal
    assert "your own proposal" in hana.get(f"/cockpit?team={team}").text
    with transaction(chat.engine) as session:  # an admin sits on the council by role
        import_csv(session, chat.config, "handle,name,role,team\nria,Ria Admin,admin,Head Office\n")
    ria = browser(app, chat, "ria")
    ria_token = ria.get("/cockpit").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert step(ria, ria_token, "approve").status_code == 303
    assert step(hana, token, "start", due="soon").status_code == 400
    assert step(hana, token, "start", owner="@wang", due="2026-12-20").status_code == 303
    assert step(hana, token, "done").status_code == 303
    page = hana.get(f"/cockpit?team={team}").text
    assert "done, being validated" in page and "2026-12-20" in page
    assert hana.post("/council/step", data={"csrf": "forged", "ref": "X1",
                                            "step": "close"}).status_code == 403
    assert hana.post("/council/step", data={"csrf": token, "ref": "C1",
                                            "step": "close"}).status_code == 400
    wang = browser(app, chat, "wang")  # a supervisor: sees the item, opens none
    wang_page = wang.get("/cockpit").text
    assert 'id="X1"' in wang_page and 'action="/council/open"' not in wang_page
    wang_token = wang_page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    refused = wang.post("/council/open", data={
        "csrf": wang_token, "team_name": "Airport Kiosk", "theme": "it-systems"})
    assert refused.status_code == 303 and len(rows(chat.engine, CouncilItem)) == 1


PIER = """handle,name,role,team,timezone,supervisor,locale
ana,Ana Ruiz,supervisor,Sunset Pier,America/Los_Angeles,,en
leo,Leo Park,employee,Sunset Pier,,ana,en
"""


def test_the_cockpit_counts_a_far_team_in_its_own_days(app, chat, config):
    """The organisation keeps Shanghai time; the pier keeps Los Angeles time, 16 hours
    behind in November, so its month ends when Shanghai's December has begun."""
    with transaction(chat.engine) as session:
        import_csv(session, config, PIER)
        feedback.import_csv(session, "\n".join([
            "kind,team,employee,score,text,source,source_id,received_at",
            # 23:30 on the pier's last day of November: Shanghai's 1 December, 15:30
            "nps,Sunset Pier,leo,10,,t,p1,2026-11-30T23:30:00-08:00",
            # 23:30 on the pier's 31 October: Shanghai's 1 November, 14:30
            "nps,Sunset Pier,leo,0,,t,p2,2026-10-31T23:30:00-07:00",
            # half an hour into the pier's November: still Shanghai's 1 November
            "complaint,Sunset Pier,,,the pier was closed,t,p3,2026-11-01T00:30:00-07:00",
        ]) + "\n", datetime(2026, 12, 2, tzinfo=UTC), DEFAULT_THEMES)
    chat.ok("leo", "waiver no dogs on the pier", now=datetime(2026, 12, 1, 7, 30, tzinfo=UTC))
    ana = browser(app, chat, "ana")
    november = ana.get("/cockpit?month=2026-11").text
    assert '<td class="num" id="nps">100</td>' in november  # the promoter, not the detractor
    assert "<td>Complaints</td><td class=\"num\">1</td>" in november
    assert "<td>Rules waived</td><td class=\"num\">1</td>" in november
    assert '<tr><td>Leo Park</td><td class="num">100</td><td class="num">1</td>' in november
    december = ana.get("/cockpit?month=2026-12").text
    assert '<td class="num" id="nps">—</td>' in december
    assert "<td>Rules waived</td><td class=\"num\">0</td>" in december
    october = ana.get("/cockpit?month=2026-10").text
    assert '<td class="num" id="nps">-100</td>' in october
