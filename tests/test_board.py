"""The personal experience board: the customers' scores of a person, praise received,
goodwill within and above their authority and improvement cases against the career
threshold, month by month — in `me` and on their own web page, by hand."""

from datetime import UTC, datetime

import pytest

from handlers import feedback
from handlers.i18n import render_reply
from handlers.policy import DEFAULT_THEMES
from handlers.reports.board import board
from storage.engine import transaction
from tests.support import employee
from tests.web_support import app_for, browser

NOVEMBER = datetime(2026, 11, 10, 2, tzinfo=UTC)
OCTOBER = datetime(2026, 10, 10, 2, tzinfo=UTC)


def months(chat):
    lines = ["kind,employee,score,source,source_id,received_at",
             "nps,alice,10,t,1,2026-11-02T00:00:00Z", "nps,alice,3,t,2,2026-11-03T00:00:00Z",
             "csat,alice,5,t,3,2026-11-04T00:00:00Z", "csat,alice,2,t,4,2026-11-04T00:00:00Z",
             "nps,alice,9,t,5,2026-10-04T00:00:00Z", "nps,bob,0,t,6,2026-11-04T00:00:00Z"]
    with transaction(chat.engine) as session:
        feedback.import_csv(session, "\n".join(lines) + "\n", NOVEMBER, DEFAULT_THEMES)
    chat.ok("wang", "praise @alice she found the lost parcel", now=NOVEMBER)
    chat.ok("wang", "praise @alice kind on the phone", now=OCTOBER)
    chat.ok("alice", "comp 50 refund #A1 late", now=NOVEMBER)  # within her 200
    chat.ok("alice", "comp 300 refund #A2 broken", now=NOVEMBER)  # above: approved
    chat.ok("wang", "approve C2", now=NOVEMBER)
    chat.ok("alice", "comp 250 voucher #A3 lost", now=NOVEMBER)  # above: declined
    chat.ok("wang", "decline C3 too much", now=NOVEMBER)
    chat.ok("alice", "suggest a shelf for parcels", now=OCTOBER)
    chat.ok("wang", "accept S1", now=OCTOBER)


def test_the_board_by_hand(chat):
    months(chat)
    alice = employee(chat.engine, "alice").id
    with transaction(chat.engine) as session:
        october, november = board(session, chat.config, alice, "2026-11", 2)
    assert (october.month, october.customers.nps, october.praise, october.cases) == (
        "2026-10", 100, 1, 1)
    # NPS: one promoter, one detractor of two -> 0; CSAT: one of two satisfied -> 50%
    assert (november.customers.nps, november.customers.csat, november.customers.responses) == (
        0, 50, 4)
    assert (november.praise, november.within, november.above, november.given_minor,
            november.cases) == (1, 1, 1, 35000, 1)


def test_me_shows_the_last_three_months(chat):
    months(chat)
    shown = chat("alice", "me", now=NOVEMBER)
    assert "Your experience board" in shown
    assert ("2026-11: NPS 0 · CSAT 50 (4 customers named you) · praise 1 · goodwill "
            "350.00 CNY: 1 on your authority, 1 above it · improvement cases 1/3") in shown
    assert "2026-09: NPS — · CSAT —" in shown
    for locale, words in (("zh", "体验看板"), ("zh-Hant", "體驗看板")):
        assert words in render_reply(chat.reply("alice", "me", now=NOVEMBER), locale)


@pytest.fixture
def app(chat, config):
    return app_for(chat.engine, config)


def test_each_person_sees_only_their_own_board_page(app, chat):
    months(chat)
    page = browser(app, chat, "alice").get("/me").text
    assert "Experience board of Alice Chen" in page and 'href="/me"' in page
    assert "1/3" in page
    assert "王芳 Wang Fang 的体验看板" in browser(app, chat, "wang").get("/me").text  # in zh
    chat.ok("alice", "lang zh-hant")
    assert "Alice Chen 的體驗看板" in browser(app, chat, "alice").get("/me").text
    assert browser(app, chat, "alice").get("/me?x=%00").status_code == 400  # a NUL: refused
