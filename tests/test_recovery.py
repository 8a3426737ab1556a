"""Recovery yield: goodwill given to a customer with a reference, later followed by
praise or a promoter score from the same customer, per team and per kind, on a
hand-computed month; marked as the good word arrives (and by migration 0028 for what
arrived before it); and the compensation page that shows it for each role."""

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlmodel import select

from bot.demo import DEMO_STAFF
from handlers import directory, feedback, praise
from handlers.policy import DEFAULT_THEMES
from handlers.reports.recovery import recovery_yield
from handlers.scope import scope_of
from storage import migrate
from storage.engine import make_engine, transaction
from storage.models import Compensation, LedgerEntry
from tests.conftest import Chat
from tests.support import employee, rows
from tests.test_mirror import NOVEMBER
from tests.web_support import app_for, browser

GIVEN = datetime(2026, 11, 10, 2, tzinfo=UTC)
HEADER = "kind,team,score,customer_ref,source,source_id,received_at\n"
SURVEY = HEADER + (
    "nps,Harbour Street Store,10,C1,t,1,2026-11-12T00:00:00Z\n"  # after: recovered
    "nps,Harbour Street Store,10,C2,t,2,2026-11-01T00:00:00Z\n"  # before: no
    "nps,Harbour Street Store,8,C2,t,3,2026-11-20T00:00:00Z\n"  # passive: no
    "nps,Harbour Street Store,3,C4,t,4,2026-11-20T00:00:00Z\n")  # detractor: no


def month(chat):
    chat.ok("alice", "comp 50 refund #C1 lost parcel", now=GIVEN)
    chat.ok("alice", "comp 30 voucher #C2 late delivery", now=GIVEN)
    chat.ok("bob", "comp 40 voucher #C3 wrong size", now=GIVEN)
    chat.ok("bob", "comp 20 gift a sorry card", now=GIVEN)  # no customer: not counted
    chat.ok("hana", "comp 100 upgrade #C4 noisy room", now=GIVEN)
    bob = employee(chat.engine, "bob")
    with transaction(chat.engine) as session:
        feedback.import_csv(session, SURVEY, GIVEN, DEFAULT_THEMES)
        praise.receive(session, chat.config, GIVEN + timedelta(days=3),  # bob's C3 praises
                       bob, "so kind", "", "webhook:t", "C3")


def recovered(engine) -> dict[str, datetime | None]:
    """Customer reference -> when their goodwill was recovered."""
    with transaction(engine) as session:
        return dict(session.exec(select(Compensation.customer_ref, Compensation.recovered_at)
                                 .where(Compensation.customer_ref != "")).all())


def later_words(chat):
    """A promoter pushed alone, the reference in another case; a file with an earlier
    promoter than the one that marked C1, a later one, and two for C4 in one batch."""
    with transaction(chat.engine) as session:
        item = feedback.FeedbackItem(kind="nps", score=9, team="Harbour Street Store",
                                     customer_ref="c2", source="t", source_id="5",
                                     received_at=GIVEN + timedelta(days=5))
        feedback.record(session, item, *feedback.resolve(session, item), GIVEN,
                        DEFAULT_THEMES)
        feedback.import_csv(session, HEADER + (
            "nps,Harbour Street Store,9,C1,t,6,2026-11-11T00:00:00Z\n"
            "nps,Harbour Street Store,10,C1,t,7,2026-11-25T00:00:00Z\n"
            "nps,Head Office,10,C4,t,8,2026-11-26T00:00:00Z\n"
            "nps,Head Office,9,C4,t,9,2026-11-21T00:00:00Z\n"), GIVEN, DEFAULT_THEMES)


def test_a_later_promoter_or_praise_marks_the_goodwill_as_it_arrives(chat):
    month(chat)
    assert recovered(chat.engine) == {"C1": datetime(2026, 11, 12, tzinfo=UTC), "C2": None,
                                      "C3": GIVEN + timedelta(days=3), "C4": None}
    later_words(chat)
    assert recovered(chat.engine) == {  # the earliest kept, whatever the order of arrival
        "C1": datetime(2026, 11, 11, tzinfo=UTC), "C2": GIVEN + timedelta(days=5),
        "C3": GIVEN + timedelta(days=3), "C4": datetime(2026, 11, 21, tzinfo=UTC)}


def test_the_same_survey_imported_again_changes_nothing(chat):
    month(chat)
    marked = recovered(chat.engine)
    with transaction(chat.engine) as session:
        assert feedback.import_csv(session, SURVEY, GIVEN + timedelta(days=30),
                                   DEFAULT_THEMES) == feedback.Imported(0, 4)
    assert recovered(chat.engine) == marked


def test_praise_whose_points_are_revoked_still_counts_as_the_recovery(chat):
    """HR revokes the points of the entry, not the praise: the customer did praise."""
    month(chat)
    [credit] = rows(chat.engine, LedgerEntry, source_type="praise")
    chat.ok("hana", f"revoke E{credit.id} not a real customer")
    assert recovered(chat.engine)["C3"] == GIVEN + timedelta(days=3)


def test_migration_0028_marks_what_the_write_path_marked(migrated_url, config):
    """Replayed on goodwill and good words the live code recorded, the migration's own
    copy of the rule marks the same compensations at the same moments."""
    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        directory.import_csv(session, config, DEMO_STAFF)
    chat = Chat(engine, config)
    month(chat)
    later_words(chat)
    marked = recovered(engine)
    engine.dispose()
    command.downgrade(migrate.alembic_config(migrated_url), "-1")  # recovered_at dropped
    migrate.upgrade(migrated_url)
    engine = make_engine(migrated_url)
    assert recovered(engine) == marked
    engine.dispose()


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
