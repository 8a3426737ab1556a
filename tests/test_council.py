"""The experience council: an item per mirror problem with its business case priced from
the records, each step of proposed → approved → in progress → done → validated or
reopened told to the team, the reporters told once it is worked on, and validation
comparing equal windows before and after the fix, also in the monthly digest."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import delete

from bot.kit.config import parse_config
from handlers.base import Message
from handlers.council.auto_open import auto_open
from handlers.i18n import render_message, render_reply
from rituals import schedule
from rituals.reminders import run_reminders
from storage.engine import transaction
from storage.models import CouncilItem, CouncilUpdate, Outbox
from tests.conftest import DEMO_CATALOG
from tests.support import employee, notifications, rows
from tests.test_mirror import voices
from tests.test_rituals import target


@pytest.fixture
def config():
    """The demo organisation's, with Li Lei sitting on the council beside HR."""
    return parse_config({
        "organisation": {"timezone": "Asia/Shanghai", "currency": "CNY"},
        "roles": {"employee": {"per_incident_limit": "200", "daily_budget": "500"},
                  "supervisor": {"per_incident_limit": "1000"},
                  "hr": {"per_incident_limit": "1000"}},
        "catalog": DEMO_CATALOG, "council": {"members": ["LiLei"]}})


def opened(chat) -> CouncilItem:
    voices(chat)
    chat.ok("alice", "comp 120 refund #A1 the system lost the order",
            now=chat.now - timedelta(days=3))
    chat.ok("hana", "council open it-systems @wang")
    (item,) = rows(chat.engine, CouncilItem)
    return item


def test_the_business_case_prices_both_losses_from_the_records(chat):
    item = opened(chat)
    # customers: 1 complaint x 200 + 1 detractor x 500 + 120.00 goodwill on the theme;
    # staff: (1 waiver + 1 suggestion) x 0.5 h x 60 per hour
    assert (item.customer_loss_minor, item.staff_loss_minor, item.currency) == (
        82000, 6000, "CNY")
    assert (item.case["complaints"], item.case["detractors"], item.case["goodwill_minor"],
            item.case["waivers"], item.case["staff_mentions"]) == (1, 1, 12000, 1, 1)
    assert item.case["since"] == "2026-10-24 10:00" and item.status == "proposed"
    shown = chat("hana", "council X1")
    assert "customers 820.00 CNY" in shown and "staff 60.00 CNY" in shown
    assert "owner 王芳 Wang Fang" in shown
    # the theme by its name in the reader's language; one of a kind is not "1 complaints"
    assert "X1 IT systems" in shown and "it-systems" not in shown
    assert "complaints 1, detractors 1" in shown and "1 complaints" not in shown
    assert "1 waivers" not in shown and "1 suggestions" not in shown
    owner = notifications(chat.engine, "wang")[-1]
    assert owner.message_key == "notify.council_owner"
    assert "：IT系統。" in render_message(Message(owner.message_key, owner.params), "zh-Hant")
    (told,) = rows(chat.engine, Outbox, message_key="notify.council_update")
    assert (told.audience, told.team_id) == ("team", item.team_id)
    assert "委员会" in render_reply(chat.reply("hana", "委员会"), "zh")


def test_only_hr_opens_with_a_known_theme_and_team(chat):
    voices(chat)
    chat.refused("wang", "council open it-systems", "refuse.role")
    chat.refused("hana", "council open weather @wang", "refuse.council_theme")
    chat.refused("hana", "council open it-systems @wang Moon Base", "refuse.council_team")
    chat.ok("hana", "council open staffing @wang Harbour Street Store")
    assert rows(chat.engine, CouncilItem)[0].theme == "staffing"


def moved(chat, handle, line, **kwargs):
    return chat.ok(handle, f"council {line}", **kwargs)


def test_each_step_by_a_council_member_or_the_owner_told_to_the_team(chat):
    item = opened(chat)  # proposed by HR (hana), wang proposed as its owner
    chat.refused("alice", "council approve X1", "refuse.council_member")
    chat.refused("wang", "council approve X1", "refuse.council_member")  # owner, no member
    chat.refused("hana", "council approve X1", "refuse.council_own")  # her own proposal
    chat.refused("wang", "council start X1 2026-12-20", "refuse.council_step")
    moved(chat, "lilei", "approve X1")  # a member by the config
    assert chat.reply("wang", "council start X1").messages[0].key == "error.council_due"
    chat.refused("wang", "council start X1 2026-11-01", "refuse.council_due_past")
    reply = moved(chat, "hana", "start X1 @wang 2026-12-20 new link between the CRM and orders")
    assert reply.messages[0].params["status_key"] == "council.status.in_progress"
    (found,) = rows(chat.engine, CouncilItem)
    assert (found.due_on, found.approved_by_id, found.fixing_at) == (
        date(2026, 12, 20), employee(chat.engine, "lilei").id, chat.now)
    assert notifications(chat.engine, "wang")[-1].message_key == "notify.council_assigned"
    chat.refused("wang", "council update X1", "refuse.council_note")
    moved(chat, "wang", "update X1 vendor on site", now=chat.now + timedelta(days=2))
    done = chat.now + timedelta(days=5)
    reply = moved(chat, "wang", "done X1", now=done)
    assert [m.key for m in reply.messages] == ["council.moved", "council.validation"]
    chat.refused("wang", "council validate X1", "refuse.council_member", now=done)
    moved(chat, "hana", "reopen X1 complaints went on", now=done + timedelta(days=10))
    moved(chat, "wang", "start X1 2026-12-31", now=done + timedelta(days=11))
    moved(chat, "wang", "done X1", now=done + timedelta(days=15))
    chat.refused("wang", "council done X1", "refuse.council_step", now=done)
    moved(chat, "lilei", "validate X1 both sides fell", now=done + timedelta(days=45))
    assert [u.status for u in rows(chat.engine, CouncilUpdate)] == [
        "proposed", "approved", "in_progress", "in_progress", "done", "reopened",
        "in_progress", "done", "validated"]
    (found,) = rows(chat.engine, CouncilItem)
    assert found.fixing_at == chat.now  # measured from the first start
    assert found.case["validation"]["status_key"] == "council.status.validated"
    updates = rows(chat.engine, Outbox, message_key="notify.council_update")
    assert len(updates) == 9 and {u.team_id for u in updates} == {item.team_id}
    assert updates[2].params["text"] == " — new link between the CRM and orders"
    for locale, name in (("en", "X1 IT systems"), ("zh", "X1 IT系统"), ("zh-Hant", "X1 IT系統")):
        assert name in render_message(Message(updates[2].message_key, updates[2].params),
                                      locale)
    assigned = rows(chat.engine, Outbox, message_key="notify.council_assigned")[0]
    assert "IT系統" in render_message(Message(assigned.message_key, assigned.params), "zh-Hant")
    assert chat("alice", "council") == "No council item is open."
    assert "驗證" in render_reply(chat.reply("hana", "委員會 X1"), "zh-Hant")


def test_the_staff_who_reported_on_the_theme_hear_it_is_worked_on_once(chat, config):
    opened(chat)
    assert not rows(chat.engine, Outbox, message_key="notify.council_heard")  # proposed
    moved(chat, "lilei", "approve X1")
    # alice waived a rule because the system was offline, bob suggested linking the CRM;
    # lilei's umbrella stand is on no theme of the item.
    heard = rows(chat.engine, Outbox, message_key="notify.council_heard")
    assert sorted(n.employee_id for n in heard) == sorted(
        employee(chat.engine, handle).id for handle in ("alice", "bob"))
    moved(chat, "hana", "start X1 @wang 2026-12-20")
    with transaction(chat.engine) as session:
        assert "0 reporters told" in run_reminders(session, config, chat.now)
    chat.ok("lilei", "suggest a faster order system", now=chat.now + timedelta(hours=1))
    with transaction(chat.engine) as session:
        assert "1 reporters told" in run_reminders(session, config,
                                                   chat.now + timedelta(hours=2))
    late = notifications(chat.engine, "lilei")[-1]
    assert late.message_key == "notify.council_heard"
    for locale, word in (("en", "working on it"), ("zh", "正在处理"), ("zh-Hant", "正在處理")):
        assert word in render_message(Message(late.message_key, late.params), locale)
    assert "IT系統" in render_message(Message(late.message_key, late.params), "zh-Hant")
    assert len(rows(chat.engine, Outbox, message_key="notify.council_heard")) == 3


def test_the_monthly_digest_shows_the_validation_results(chat):
    opened(chat)
    moved(chat, "lilei", "approve X1")
    moved(chat, "hana", "start X1 @wang 2026-12-20")
    moved(chat, "wang", "done X1", now=chat.now + timedelta(days=2))
    moved(chat, "hana", "validate X1", now=datetime(2026, 12, 10, 2, tzinfo=UTC))
    december = datetime(2026, 12, 1, 1, tzinfo=UTC)  # 09:00 in Shanghai
    ritual = target(chat, "monthly_digest")
    assert schedule.run_once(chat.engine, chat.config, ritual, december, december) == (
        "0 council items validated or reopened")  # November: nothing validated
    january = datetime(2027, 1, 1, 1, tzinfo=UTC)
    assert schedule.run_once(chat.engine, chat.config, ritual, january, january) == (
        "1 council items validated or reopened")
    posts = rows(chat.engine, Outbox, message_key="ritual.council_month")
    assert sorted((p.audience, p.employee_id) for p in posts) == sorted([
        ("team", None), ("person", employee(chat.engine, "hana").id),
        ("person", employee(chat.engine, "lilei").id)])
    params = posts[0].params
    assert (params["month"], params["complaints"], params["waivers"]) == (
        "2026-12", "1 → 0", "1 → 0")
    assert "Both sides fell" in render_message(Message("ritual.council_month", params), "en")
    assert "已验证" in render_message(Message("ritual.council_month", params), "zh")
    assert "已驗證" in render_message(Message("ritual.council_month", params), "zh-Hant")
    assert "X1 IT系統" in render_message(Message("ritual.council_month", params), "zh-Hant")


def test_validation_compares_equal_windows_on_both_sides(chat):
    opened(chat)
    moved(chat, "lilei", "approve X1")
    moved(chat, "wang", "start X1 2026-12-20")
    fixed = chat.now + timedelta(days=10)
    chat.ok("wang", "council done X1", now=fixed)
    # After the fix: one more NPS promoter, no complaint, no waiver on the theme.
    chat.ok("alice", "waiver dress code", now=fixed + timedelta(days=1))
    shown = chat("hana", "council X1", now=fixed + timedelta(days=30))
    assert "(30)" in shown
    assert "complaints 1 → 0, detractors 1 → 0" in shown
    assert "waivers 1 → 0, suggestions and pulse comments 1 → 0" in shown
    assert "Both sides fell" in shown
    early = chat("hana", "council X1", now=fixed + timedelta(days=3))
    assert "(3)" in early and "complaints 0 → 0" in early  # 3 days before the fix: none
    assert "Neither side fell yet" in early


def test_a_rule_waived_more_than_the_threshold_opens_an_item_by_itself(chat, config):
    start = chat.now - timedelta(days=20)
    for n in range(5):
        chat.ok("alice" if n % 2 else "bob", "waiver no refunds without receipt",
                now=start + timedelta(days=n))
    chat.ok("lilei", "waiver dress code", now=start)
    with transaction(chat.engine) as session:
        assert auto_open(session, config, chat.now) == 0  # five: not more than five
    chat.ok("lilei", "waiver no refunds without receipt", now=chat.now - timedelta(days=1))
    with transaction(chat.engine) as session:
        assert "1 council items opened" in run_reminders(session, config, chat.now)
        assert auto_open(session, config, chat.now) == 0  # open already: not twice
    (item,) = rows(chat.engine, CouncilItem)
    assert (item.theme, item.case["waivers"]) == ("rule:no refunds without receipt", 6)
    assert item.owner_id == employee(chat.engine, "hana").id
    assert item.staff_loss_minor == 6 * 30 * 100  # six workarounds of half an hour at 60
    assert notifications(chat.engine, "hana")[-1].message_key == "notify.council_auto"
    chat.refused("hana", "council approve X1", "refuse.council_own")  # HR proposed it
    moved(chat, "lilei", "approve X1")
    moved(chat, "hana", "start X1 2026-12-20")
    moved(chat, "hana", "done X1")
    moved(chat, "hana", "validate X1")
    with transaction(chat.engine) as session:  # validated: the waivers before do not count
        assert auto_open(session, config, chat.now + timedelta(minutes=1)) == 0
    for n in range(6):
        chat.ok("alice", "waiver no refunds without receipt",
                now=chat.now + timedelta(hours=n + 1))
    with transaction(chat.engine) as session:  # six more since it closed: a new item
        assert auto_open(session, config, chat.now + timedelta(hours=7)) == 1
    off = parse_config({"council": {"auto_open_waivers": 0}})
    with transaction(chat.engine) as session:
        session.exec(delete(CouncilUpdate))
        session.exec(delete(CouncilItem))
        assert auto_open(session, off, chat.now) == 0


def test_supervisors_get_a_customer_script_while_it_is_fixed(chat):
    opened(chat)
    chat.refused("alice", "council script X1 we know, it is being fixed", "refuse.council_member")
    reply = chat.ok("hana", "council script X1 Sorry, our order system is being repaired")
    assert reply.messages[0].params["count"] == 1
    script = notifications(chat.engine, "wang")[-1]
    assert script.message_key == "notify.council_script"
    shown = render_message(Message(script.message_key, script.params), "en")
    assert "“Sorry, our order system is being repaired”" in shown
    assert "X1 IT systems is being fixed" in shown
    assert rows(chat.engine, CouncilUpdate)[-1].text.startswith("script: Sorry")
    assert "話術" in render_reply(chat.reply("hana", "help council"), "zh-Hant")
