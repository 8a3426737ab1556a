"""The payroll export of fulfilled redemptions: one row each, category and taxable
value, the month's bounds, and cells a spreadsheet would run neutralised."""

import csv
import io
from datetime import timedelta

import pytest
from pydantic import ValidationError

from handlers.directory import import_csv
from handlers.policy import CatalogItem
from handlers.reports import payroll
from storage.engine import transaction
from tests.support import credit


def exported(chat, month="2026-11") -> list[dict]:
    out = io.StringIO()
    with transaction(chat.engine) as session:
        payroll.write_csv(out, payroll.rows(session, chat.config, month))
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_one_row_per_fulfilled_redemption_with_category_and_taxable_value(chat):
    with transaction(chat.engine) as session:
        import_csv(session, chat.config, "handle,name,role,team,supervisor\n"
                   "eve,=HYPERLINK(\"http://x\"),employee,Harbour Street Store,wang\n")
    for handle in ("alice", "eve"):
        credit(chat.engine, handle, 500, f"seed:{handle}")
    chat.ok("alice", "redeem coffee")  # R1: cash equivalent, fulfilled
    chat.ok("alice", "redeem leave-day")  # R2: time off, fulfilled
    chat.ok("alice", "redeem training")  # R3: still waiting
    chat.ok("alice", "redeem coffee")  # R4: rejected (refunded)
    chat.ok("eve", "redeem coffee")  # R5: next month
    chat.ok("hana", "approve R1")
    chat.ok("hana", "approve R2")
    chat.ok("hana", "decline R4 out of stock")
    chat.ok("hana", "approve R5", now=chat.now + timedelta(days=8))  # 1 December
    rows = exported(chat)
    assert [(r["redemption"], r["item"], r["category"], r["points"], r["taxable_value"],
             r["currency"]) for r in rows] == [
        ("R1", "coffee", "cash_equivalent", "10", "15.00", "CNY"),
        ("R2", "leave-day", "time_off", "200", "", "")]
    assert rows[0]["handle"] == "alice" and rows[0]["team"] == "Harbour Street Store"
    (december,) = exported(chat, "2026-12")
    assert december["name"] == "'=HYPERLINK(\"http://x\")"  # shown, never run
    assert exported(chat, "2026-10") == []


def test_a_cash_equivalent_needs_a_value_and_only_it_has_one():
    with pytest.raises(ValidationError):
        CatalogItem(key="gift-card", name_en="Gift card", name_zh="礼品卡", cost=50,
                    category="cash_equivalent")
    with pytest.raises(ValidationError):
        CatalogItem(key="day", name_en="Day off", name_zh="休假", cost=50, category="time_off",
                    value="100")
    with pytest.raises(ValidationError):
        CatalogItem(key="x", name_en="X", name_zh="X", cost=5, category="bonus")
    assert CatalogItem(key="x", name_en="X", name_zh="X", cost=5).category == "other"


def test_the_catalog_says_what_a_point_is_worth_in_each_category(chat):
    from handlers.i18n import render_reply
    english = render_reply(chat.reply("alice", "catalog"), "en")
    chinese = render_reply(chat.reply("lilei", "商城"), "zh")
    assert "• Time off: 200 = A day of paid leave" in english
    assert "• Cash equivalents: 1 point ≈ 1.50 CNY, taxable (10 = Coffee voucher)" in english
    assert "• 休假：200 = 一天带薪假" in chinese
    assert "• 等值现金：1 积分 ≈ 1.50 CNY，需计税（10 = 咖啡券）" in chinese


def test_the_web_console_shows_what_a_point_is_worth(chat, config):
    from tests.web_support import app_for, browser
    app = app_for(chat.engine, config)
    page = browser(app, chat, "alice").get("/redemptions").text
    assert "Cash equivalents: 1 point ≈ 1.50 CNY, taxable (10 = Coffee voucher)" in page
    assert "休假：200 = 一天带薪假" in browser(app, chat, "lilei").get("/redemptions").text
