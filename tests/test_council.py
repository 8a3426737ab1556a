"""The experience council: an item per mirror problem with its business case priced from
the records, an owner, each step of open → fixing → validating → closed told to the
team, and validation comparing equal windows before and after the fix."""

from datetime import timedelta

from sqlmodel import delete

from bot.config import parse_config
from handlers import council
from handlers.base import Message
from handlers.i18n import render_message, render_reply
from rituals.reminders import run_reminders
from storage.engine import transaction
from storage.models import CouncilItem, CouncilUpdate, Outbox
from tests.support import employee, notifications, rows
from tests.test_mirror import voices


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
    assert item.case["since"] == "2026-10-24 10:00" and item.status == "open"
    shown = chat("hana", "council X1")
    assert "customers 820.00 CNY" in shown and "staff 60.00 CNY" in shown
    assert "owner 王芳 Wang Fang" in shown
    assert notifications(chat.engine, "wang")[-1].message_key == "notify.council_owner"
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


def test_each_step_in_order_by_the_owner_or_hr_told_to_the_team(chat):
    item = opened(chat)
    chat.refused("alice", "council fix X1", "refuse.council_member")
    chat.refused("wang", "council close X1", "refuse.council_step")
    chat.ok("wang", "council fix X1 new link between the CRM and orders ordered")
    chat.refused("wang", "council update X1", "refuse.council_note")
    chat.ok("wang", "council update X1 vendor on site", now=chat.now + timedelta(days=2))
    done = chat.now + timedelta(days=5)
    reply = chat.ok("wang", "council done X1", now=done)
    assert [m.key for m in reply.messages] == ["council.moved", "council.validation"]
    chat.refused("wang", "council done X1", "refuse.council_step", now=done)
    chat.ok("hana", "council close X1 both sides fell", now=done + timedelta(days=30))
    assert [u.status for u in rows(chat.engine, CouncilUpdate)] == [
        "open", "fixing", "fixing", "validating", "closed"]
    updates = rows(chat.engine, Outbox, message_key="notify.council_update")
    assert len(updates) == 5 and {u.team_id for u in updates} == {item.team_id}
    assert updates[1].params["text"] == " — new link between the CRM and orders ordered"
    assert chat("alice", "council") == "No council item is open."


def test_validation_compares_equal_windows_on_both_sides(chat):
    opened(chat)
    chat.ok("wang", "council fix X1")
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
        assert council.auto_open(session, config, chat.now) == 0  # five: not more than five
    chat.ok("lilei", "waiver no refunds without receipt", now=chat.now - timedelta(days=1))
    with transaction(chat.engine) as session:
        assert "1 council items opened" in run_reminders(session, config, chat.now)
        assert council.auto_open(session, config, chat.now) == 0  # open already: not twice
    (item,) = rows(chat.engine, CouncilItem)
    assert (item.theme, item.case["waivers"]) == ("rule:no refunds without receipt", 6)
    assert item.owner_id == employee(chat.engine, "hana").id
    assert item.staff_loss_minor == 6 * 30 * 100  # six workarounds of half an hour at 60
    assert notifications(chat.engine, "hana")[-1].message_key == "notify.council_auto"
    chat.ok("hana", "council fix X1")
    chat.ok("hana", "council done X1")
    chat.ok("hana", "council close X1")
    with transaction(chat.engine) as session:  # closed: the waivers before do not count
        assert council.auto_open(session, config, chat.now + timedelta(minutes=1)) == 0
    for n in range(6):
        chat.ok("alice", "waiver no refunds without receipt",
                now=chat.now + timedelta(hours=n + 1))
    with transaction(chat.engine) as session:  # six more since it closed: a new item
        assert council.auto_open(session, config, chat.now + timedelta(hours=7)) == 1
    off = parse_config({"council": {"auto_open_waivers": 0}})
    with transaction(chat.engine) as session:
        session.exec(delete(CouncilUpdate))
        session.exec(delete(CouncilItem))
        assert council.auto_open(session, off, chat.now) == 0


def test_supervisors_get_a_customer_script_while_it_is_fixed(chat):
    opened(chat)
    chat.refused("alice", "council script X1 we know, it is being fixed", "refuse.council_member")
    reply = chat.ok("hana", "council script X1 Sorry, our order system is being repaired")
    assert reply.messages[0].params["count"] == 1
    script = notifications(chat.engine, "wang")[-1]
    assert script.message_key == "notify.council_script"
    shown = render_message(Message(script.message_key, script.params), "en")
    assert "“Sorry, our order system is being repaired”" in shown
    assert rows(chat.engine, CouncilUpdate)[-1].text.startswith("script: Sorry")
    assert "話術" in render_reply(chat.reply("hana", "help council"), "zh-Hant")
