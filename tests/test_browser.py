"""The web console in a real browser: the machine's Chromium, headless, driven by
Playwright over loopback HTTP (on SQLite and on PostgreSQL)."""

import csv
import os
import shutil

import pytest

from handlers.directory import import_csv
from storage.engine import transaction
from tests.http_servers import serve
from tests.support import balance, credit
from tests.web_support import AIRPORT, app_for, sign_in_link

CHROMIUM = os.environ.get("FRONTLINE_CHROMIUM", "/usr/bin/chromium")
# Headless in a sandbox-less container, and quiet: nothing may reach for the internet.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

if not shutil.which(CHROMIUM):
    message = f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    if os.environ.get("FRONTLINE_REQUIRE_BROWSER"):
        raise RuntimeError(message)
    pytest.skip(message, allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.http]


@pytest.fixture
def site(chat, config):
    with transaction(chat.engine) as session:
        import_csv(session, config, AIRPORT)
    with serve(app_for(chat.engine, config)) as base:
        # `localhost` is a secure context, so the browser keeps the Secure session cookie.
        yield base.replace("127.0.0.1", "localhost")


@pytest.fixture
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_hr_signs_in_filters_exports_and_rejects_with_a_refund(site, browser, chat, tmp_path):
    credit(chat.engine, "alice", 150, "a1")
    credit(chat.engine, "bob", 20, "b1", reason="suggestion")
    chat.ok("alice", "redeem training")
    page = browser.new_context(accept_downloads=True).new_page()

    page.goto(site + sign_in_link(chat, "hana"))  # the link from chat: one button
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Points ledger")
    expect(page.locator("#ledger tbody tr")).to_have_count(3)

    page.select_option("select[name=reason]", "suggestion")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#ledger tbody tr")).to_have_count(1)
    expect(page.locator("#ledger tbody")).to_contain_text("Bob Li")

    with page.expect_download() as download:
        page.get_by_text("Export these entries as CSV").click()
    saved = tmp_path / "ledger.csv"
    download.value.save_as(saved)
    with saved.open(encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    assert [(r["handle"], r["reason"], r["amount"]) for r in exported] == [
        ("bob", "suggestion", "20")]

    page.get_by_role("link", name="Redemptions").click()
    row = page.locator("#R1")
    expect(row).to_contain_text("Alice Chen")
    row.get_by_placeholder("Comment").fill("fully booked this quarter")
    row.get_by_role("button", name="Reject & refund").click()
    expect(page.locator(".flash")).to_contain_text("R1 rejected; 150 points refunded.")
    assert balance(chat.engine, "alice") == 150

    page.get_by_role("link", name="Ledger").click()
    page.select_option("select[name=person]", "alice")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("h1")).to_have_text("History of Alice Chen · balance 150")
    expect(page.locator("#ledger tbody tr").first).to_contain_text("reversal")


def test_supervisor_sees_their_team_and_is_refused_another(site, browser, chat):
    page = browser.new_page()
    page.goto(site + sign_in_link(chat, "wang"))
    page.get_by_role("button", name="登录").click()  # Wang reads Chinese
    expect(page.locator("h1")).to_have_text("团队 Harbour Street Store")
    expect(page.locator("#members")).to_contain_text("Bob Li")
    expect(page.locator("#members")).not_to_contain_text("Mia Sun")

    airport = page.request.get(site + "/ledger?person=mia")
    assert airport.status == 404
    response = page.goto(site + "/team?team=2")
    assert response.status == 404
    expect(page.locator(".flash")).to_have_text("这里没有内容，或你无权查看。")

    page.goto(site + "/ledger")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("link", name="Team")).to_be_visible()
