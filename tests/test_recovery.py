"""Recovery yield: goodwill given to a customer with a reference, later followed by
praise or a promoter score from the same customer, per team and per kind, on a
hand-computed month; and the compensation page that shows it for each role."""

from datetime import UTC, datetime, timedelta

import pytest

from handlers import feedback, praise
from handlers.policy import DEFAULT_THEMES
from handlers.reports.recovery import recovery_yield
from handlers.scope import scope_of
from storage.engine import transaction
from tests.support import employee
from tests.test_mirror import NOVEMBER
from tests.web_support import app_for, browser

GIVEN = datetime(2026, 11, 10, 2, tzinfo=UTC)


def month(chat):
    chat.ok("alice", "comp 50 refund #C1 lost parcel", now=GIVEN)
    chat.ok("alice", "comp 30 voucher #C2 late delivery", now=GIVEN)
    chat.ok("bob", "comp 40 voucher #C3 wrong size", now=GIVEN)
    chat.ok("bob", "comp 20 gift a sorry card", now=GIVEN)  # no customer: not counted
    chat.ok("hana", "comp 100 upgrade #C4 noisy room", now=GIVEN)
    lines = ["kind,team,score,customer_ref,source,source_id,received_at",
             "nps,Harbour Street Store,10,C1,t,1,2026-11-12T00:00:00Z",  # after: recovered
             "nps,Harbour Street Store,10,C2,t,2,2026-11-01T00:00:00Z",  # before: no
             "nps,Harbour Street Store,8,C2,t,3,2026-11-20T00:00:00Z",  # passive: no
             "nps,Harbour Street Store,3,C4,t,4,2026-11-20T00:00:00Z"]  # detractor: no
    bob = employee(chat.engine, "bob")
    with transaction(chat.engine) as session:
        feedback.import_csv(session, "\n".join(lines) + "\n", GIVEN, DEFAULT_THEMES)
        praise.receive(session, chat.config, GIVEN + timedelta(days=3),  # bob's C3 praises
                       bob, "so kind", "", "webhook:t", "C3")


def test_the_yield_per_team_and_per_kind_by_hand(chat):
    month(chat)
    with transaction(chat.engine) as session:
        teams, kinds = recovery_yield(session, scope_of(session, None), *NOVEMBER)
    assert [(y.name, y.given, y.recovered, y.percent) for y in teams] == [
        ("Harbour Street Store", 3, 2, 67), ("Head Office", 1, 0, 0)]
    assert [(y.name, y.given, y.recovered, y.percent) for y in kinds] == [
        ("refund", 1, 1, 100), ("upgrade", 1, 0, 0), ("voucher", 2, 1, 50)]
    with transaction(chat.engine) as session:  # December: nothing given
        later = (NOVEMBER[1], NOVEMBER[1] + timedelta(days=31))
        assert recovery_yield(session, scope_of(session, None), *later) == ([], [])


@pytest.fixture
def app(chat, config):
    return app_for(chat.engine, config)


def test_the_compensation_page_shows_the_yield_for_each_role(app, chat):
    month(chat)
    hr = browser(app, chat, "hana").get("/compensation?month=2026-11").text
    assert "Recovery yield" in hr and "Head Office" in hr and "67%" in hr
    supervisor = browser(app, chat, "wang").get("/compensation?month=2026-11").text
    teams = supervisor.split('id="recovery-teams"')[1].split("</table>")[0]
    assert "Harbour Street Store" in teams and "Head Office" not in teams
    chat.ok("wang", "lang zh")
    assert "补救转化率" in browser(app, chat, "wang").get("/compensation?month=2026-11").text
    chat.ok("hana", "lang zh-hant")
    page = browser(app, chat, "hana").get("/compensation?month=2026-11").text
    assert "補救轉化率" in page
    assert browser(app, chat, "hana").get("/compensation?month=2026-1%00").status_code == 400
