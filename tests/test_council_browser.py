"""In a real browser (the machine's Chromium, as tests/test_browser.py drives it): HR
opens a council item from the team cockpit, another council member approves it, gives
it an owner and a due date and moves it to done."""

import pytest
from playwright.sync_api import expect

from handlers.directory import import_csv
from storage.engine import transaction
from tests.test_browser import browser, site  # noqa: F401  (fixtures; skips without Chromium)
from tests.test_mirror import harbour, voices
from tests.web_support import sign_in_link

pytestmark = [pytest.mark.browser, pytest.mark.http]


def test_hr_opens_a_council_item_from_the_cockpit_and_moves_it_to_done(site, browser, chat):  # noqa: F811
    voices(chat)
    page = browser.new_page()
    page.goto(site + sign_in_link(chat, "hana"))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Cockpit").click()
    page.select_option("select[name=team]", str(harbour(chat.engine)))
    page.fill("input[name=month]", "2026-11")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#voices")).to_contain_text("hidden below 5 answers")
    mirror = page.locator("#themes tr.mirror")
    expect(mirror).to_contain_text("IT systems")
    mirror.get_by_placeholder("Owner (@handle)").fill("@wang")
    mirror.get_by_role("button", name="Open a council item").click()
    expect(page.locator(".flash")).to_contain_text("X1 opened: IT systems")
    item = page.locator("#X1")
    expect(item).to_contain_text("proposed")
    expect(item.get_by_role("button", name="Start")).to_have_count(0)  # approval first
    with transaction(chat.engine) as session:  # an admin sits on the council by role
        import_csv(session, chat.config, "handle,name,role,team\nria,Ria Admin,admin,Head Office\n")
    page = browser.new_context().new_page()
    page.goto(site + sign_in_link(chat, "ria"))  # a council member, not the proposer
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{site}/cockpit?team={harbour(chat.engine)}&month=2026-11")
    page.locator("#X1").get_by_role("button", name="Approve").click()
    expect(page.locator(".flash")).to_contain_text("X1 is now approved")
    page.locator("#X1").get_by_placeholder("Owner (@handle)").fill("@wang")
    page.locator("#X1 input[name=due]").fill("2026-12-20")
    page.locator("#X1").get_by_role("button", name="Start").click()
    expect(page.locator(".flash")).to_contain_text("X1 is now in progress")
    expect(page.locator("#X1")).to_contain_text("2026-12-20")
    page.locator("#X1").get_by_role("button", name="Done").click()
    expect(page.locator(".flash")).to_contain_text("Validation of X1")
    expect(page.locator("#X1")).to_contain_text("done, being validated")
