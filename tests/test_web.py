"""The web console: sign-in through chat, sessions and CSRF, who sees what, the
ledger's pages and export, the redemption queue and the reports. Every test runs
on SQLite and on PostgreSQL, over the real ASGI app."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from bot.cli import main
from handlers.directory import import_csv
from handlers.linking import digest
from points import ledger
from storage.engine import transaction
from storage.models import (
    ApiToken,
    Employee,
    LedgerEntry,
    OneTimeCode,
    Redemption,
    Team,
    WebSession,
)
from tests.support import balance, credit, employee, notifications, rows
from tests.web_support import AIRPORT, app_for, browser, csrf, sign_in_link


@pytest.fixture
def app(chat, config):
    with transaction(chat.engine) as session:
        import_csv(session, config, AIRPORT)
    return app_for(chat.engine, config)


def airport_id(engine) -> int:
    return rows(engine, Team, name="Airport Kiosk")[0].id


# --- signing in ----------------------------------------------------------------
def test_login_sends_a_private_single_use_link_that_opens_a_session(app, chat):
    reply = chat.ok("alice", "登录", now=datetime.now(UTC))
    assert reply.messages[0].key == "login.sent"
    (sent,) = [n for n in notifications(chat.engine, "alice")
               if n.message_key == "notify.login_link"]
    path = sent.params["url"].removeprefix(chat.config.web.public_url)
    code = path.rsplit("/", 1)[1]
    (stored,) = rows(chat.engine, OneTimeCode, purpose="login")
    assert stored.code_hash == digest(code) and code not in stored.code_hash

    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    for _preview in range(2):  # a chat app fetching the link to preview it uses nothing
        page = client.get(path)
        assert page.status_code == 200 and 'method="post"' in page.text
    signed_in = client.post(path)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie
    assert client.get("/ledger").status_code == 200
    (session,) = rows(chat.engine, WebSession)
    assert session.employee_id == employee(chat.engine, "alice").id

    again = TestClient(app, base_url="https://testserver", follow_redirects=False)
    refused = again.post(path)
    assert refused.status_code == 400 and "already used or expired" in refused.text
    assert again.get("/ledger").status_code == 303


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
    {"Sec-Fetch-Site": "same-site"},
])
def test_a_cross_site_sign_in_post_is_refused_and_the_link_stays_unused(app, chat, headers):
    """Login CSRF: another site's form must not sign the victim's browser into the
    attacker's session."""
    path = sign_in_link(chat, "alice")
    victim = TestClient(app, base_url="https://testserver", follow_redirects=False)
    refused = victim.post(path, headers=headers)
    assert refused.status_code == 403 and "another website" in refused.text
    assert "set-cookie" not in refused.headers and rows(chat.engine, WebSession) == []
    # The link still works from its own page (which sends no referrer: Origin null).
    own = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    assert victim.post(path, headers=own).status_code == 303


def test_sign_in_from_the_configured_public_address_is_accepted(app, chat, config):
    path = sign_in_link(chat, "bob")
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    assert client.post(path, headers={"Origin": config.web.public_url}).status_code == 303
    other = sign_in_link(chat, "alice")
    assert client.post(other, headers={"Origin": "https://testserver"}).status_code == 303


def test_sign_in_link_expires(app, chat, config):
    chat.ok("bob", "login", now=datetime.now(UTC) - timedelta(minutes=11))
    url = notifications(chat.engine, "bob")[-1].params["url"]
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    assert client.post(url.removeprefix(config.web.public_url)).status_code == 400


def test_without_a_session_pages_ask_to_sign_in_and_the_api_says_401(app):
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    for path in ("/", "/ledger", "/ledger.csv", "/redemptions", "/compensation", "/waivers",
                 "/recognition", "/team"):
        response = client.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/signin"), path
    for path in ("/api/v1/ledger", "/api/v1/balances", "/api/v1/redemptions"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer fl_guess"}).status_code == 401
    client.cookies.set("frontline_session", "forged", domain="testserver")
    assert client.get("/ledger").status_code == 303
    assert "Send login" in client.get("/signin").text


def test_sign_out_ends_the_session_and_needs_its_csrf_token(app, chat):
    client = browser(app, chat, "alice")
    assert client.post("/logout", data={"csrf": "wrong"}).status_code == 403
    assert client.get("/ledger").status_code == 200
    assert client.post("/logout", data={"csrf": csrf(client)}).status_code == 303
    (session,) = rows(chat.engine, WebSession)
    assert session.ended_at is not None
    assert client.get("/ledger").status_code == 303


# --- who sees what ---------------------------------------------------------------
REPORTS = ("/compensation?month=2026-11", "/waivers?from=2026-11-01&to=2026-11-30",
           "/recognition?month=2026-11", "/team")


def test_every_page_and_api_route_enforces_roles(app, chat):
    for handle, points in (("alice", 10), ("bob", 20), ("mia", 30)):
        credit(chat.engine, handle, points, f"seed:{handle}")
    airport = airport_id(chat.engine)

    alice = browser(app, chat, "alice")  # an employee: her own ledger, nothing else
    page = alice.get("/ledger").text
    assert "Alice Chen" in page and "Bob Li" not in page and "Mia Sun" not in page
    for path in REPORTS:
        assert alice.get(path).status_code == 403, path
    assert alice.post("/decide", data={"csrf": csrf(alice), "ref": "C1",
                                       "verdict": "approve"}).status_code == 403
    assert alice.get("/ledger?person=bob").status_code == 404
    assert alice.get("/ledger.csv?person=bob").status_code == 404
    assert alice.get("/api/v1/ledger?person=bob").status_code == 404
    assert [b["handle"] for b in alice.get("/api/v1/balances").json()] == ["alice"]

    wang = browser(app, chat, "wang")  # a supervisor: the Harbour Street team only
    for path in REPORTS:
        assert wang.get(path).status_code == 200, path
    assert "Bob Li" in wang.get("/ledger").text and "Mia Sun" not in wang.get("/ledger").text
    for path in ("/ledger?person=mia", f"/ledger?team={airport}", f"/team?team={airport}",
                 "/ledger.csv?person=mia", "/api/v1/ledger?person=mia",
                 f"/api/v1/balances?team={airport}", "/ledger?person=nobody",
                 "/ledger?team=99999999999", "/ledger?before=99999999999999999999",
                 "/team?team=%C2%B2"):
        assert wang.get(path).status_code == 404, path
    assert "Mia Sun" not in wang.get("/api/v1/balances").text
    # "nobody" and a real person in another team look exactly the same
    assert wang.get("/ledger?person=mia").text == wang.get("/ledger?person=nobody").text

    hana = browser(app, chat, "hana")  # HR: everyone
    for path in (*REPORTS, f"/team?team={airport}", "/ledger?person=mia"):
        assert hana.get(path).status_code == 200, path
    assert {b["handle"] for b in hana.get("/api/v1/balances").json()} >= {"alice", "mia"}


def test_redemption_decisions_are_for_hr_and_other_teams_ids_are_404(app, chat):
    credit(chat.engine, "mia", 150, "seed:mia")
    chat.ok("mia", "redeem training")
    wang = browser(app, chat, "wang")
    form = {"csrf": csrf(wang), "outcome": "rejected"}
    assert wang.post("/redemptions/1", data=form).status_code == 404  # Mia is not his team
    assert wang.post("/redemptions/999", data=form).status_code == 404
    assert wang.post("/redemptions/99999999999", data=form).status_code == 404
    credit(chat.engine, "bob", 150, "seed:bob")
    chat.ok("bob", "redeem training")
    refused = wang.post("/redemptions/2", data=form)  # his team, not HR
    assert refused.status_code == 403 and "只有 HR 可以处理兑换申请。" in refused.text
    assert balance(chat.engine, "bob") == 0


# --- the ledger ------------------------------------------------------------------
def test_ledger_keyset_pages_running_balance_and_filters(app, chat):
    start = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    for n in range(60):
        credit(chat.engine, "alice", 10, f"a{n}", when=start + timedelta(hours=n))
        credit(chat.engine, "bob", 20, f"b{n}", reason="suggestion",
               when=start + timedelta(hours=n))
    with transaction(chat.engine) as session:  # a debit shows in the running balance too
        ledger.post(session, employee_id=employee(chat.engine, "alice").id, amount=-100,
                    reason="redemption", source_type="test", source_id=None, actor_id=None,
                    idempotency_key="spend", now=start + timedelta(days=5))
    hana = browser(app, chat, "hana")

    seen, cursor = [], None
    while True:
        page = hana.get("/api/v1/ledger", params={"limit": 50, **(
            {"before": cursor} if cursor else {})}).json()
        seen += page["entries"]
        cursor = page["older"]
        if cursor is None:
            break
    ids = [entry["id"] for entry in seen]
    assert len(ids) == 121 == len(set(ids)) and ids == sorted(ids, reverse=True)
    back = hana.get("/api/v1/ledger", params={"limit": 50, "after": ids[50 - 1]}).json()
    assert [e["id"] for e in back["entries"]] == ids[:49] and back["newer"] is None

    alices = [e for e in reversed(seen) if e["handle"] == "alice"]
    running = 0
    for entry in alices:
        running += entry["amount"]
        assert entry["balance_after"] == running
    assert running == balance(chat.engine, "alice") == 500

    only = hana.get("/api/v1/ledger", params={"reason": "suggestion", "limit": 500}).json()
    assert {e["handle"] for e in only["entries"]} == {"bob"} and len(only["entries"]) == 60
    # local days in Shanghai: 2026-11-01 09:00 + n hours; the 2nd holds hours 15..38
    day = hana.get("/api/v1/ledger", params={"person": "alice", "from": "2026-11-02",
                                             "to": "2026-11-02", "limit": 500}).json()
    assert len(day["entries"]) == 24

    html = hana.get("/ledger", params={"person": "alice"}).text
    assert "History of Alice Chen · balance 500" in html
    assert html.count('<tr><td>') == 50 and 'rel="next"' in html and 'rel="prev"' not in html
    second = hana.get("/ledger", params={"person": "alice", "before": ids[-1] + 10**6})
    assert second.status_code == 200
    assert hana.get("/ledger?from=2026-13-01").status_code == 400
    assert "Dates look like 2026-11-01" in hana.get("/ledger?from=yesterday").text
    assert hana.get("/ledger?reason=bogus").status_code == 404


def test_csv_export_is_exactly_the_filter_and_neutralises_formulas(app, chat, config):
    with transaction(chat.engine) as session:
        import_csv(session, config, "handle,name,role,team,timezone,supervisor,locale\n"
                   "evil,=HYPERLINK(\"http://x.test\"),employee,Harbour Street Store,,wang,en\n")
    for n, note in enumerate(("=1+1", "+SUM(A1)", "-2+3", "@cmd", "plain")):
        credit(chat.engine, "evil", 5, f"e{n}", note=note)
    credit(chat.engine, "alice", 5, "other")
    hana = browser(app, chat, "hana")
    response = hana.get("/ledger.csv", params={"person": "evil"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    records = list(csv.DictReader(io.StringIO(response.text)))
    assert len(records) == 5 and {r["handle"] for r in records} == {"evil"}
    assert {r["name"] for r in records} == {"'=HYPERLINK(\"http://x.test\")"}
    assert [r["note"] for r in records] == ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "plain"]
    assert [r["balance_after"] for r in records] == ["5", "10", "15", "20", "25"]
    everyone = list(csv.DictReader(io.StringIO(hana.get("/ledger.csv").text)))
    assert len(everyone) == 6


def test_names_and_praise_text_render_inert(app, chat, config):
    payload = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    quoted = payload.replace('"', '""')
    with transaction(chat.engine) as session:
        import_csv(session, config, "handle,name,role,team,timezone,supervisor,locale\n"
                   f'xss,"{quoted}",employee,Harbour Street Store,,wang,en\n')
    chat.ok("xss", f"praise {payload}")  # waits for Wang's confirmation
    chat.ok("xss", f"suggest {payload}")
    credit(chat.engine, "xss", 5, "x1", note=payload)
    wang = browser(app, chat, "wang")
    for path in ("/team", "/ledger", "/ledger?person=xss", "/compensation?month=2026-11"):
        response = wang.get(path)
        assert "<script>" not in response.text and "<img src=x" not in response.text, path
        assert "default-src 'none'" in response.headers["content-security-policy"]
    team = wang.get("/team").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in team
    assert team.count("&lt;img src=x onerror=&#34;alert(2)&#34;&gt;") >= 3  # name, praise, idea


# --- deciding -----------------------------------------------------------------------
def test_hr_rejects_a_redemption_with_a_comment_and_the_points_come_back(app, chat):
    credit(chat.engine, "alice", 150, "seed")
    chat.ok("alice", "redeem training")
    assert balance(chat.engine, "alice") == 0
    hana = browser(app, chat, "hana")
    queue = hana.get("/redemptions").text
    assert "R1" in queue and "Alice Chen" in queue
    assert hana.post("/redemptions/1", data={"outcome": "rejected"}).status_code == 403
    assert balance(chat.engine, "alice") == 0  # no CSRF token, nothing changed
    done = hana.post("/redemptions/1", data={"csrf": csrf(hana), "outcome": "rejected",
                                             "comment": "budget closed"})
    assert (done.status_code, done.headers["location"]) == (303, "/redemptions")
    assert "R1 rejected; 150 points refunded." in hana.get("/redemptions").text
    assert balance(chat.engine, "alice") == 150
    refund = rows(chat.engine, LedgerEntry, reason="reversal")[0]
    assert (refund.amount, refund.balance_after) == (150, 150)
    assert notifications(chat.engine, "alice")[-1].message_key == "notify.redemption_rejected"
    settled = hana.get("/redemptions?show=settled").text
    assert "budget closed" in settled
    again = hana.post("/redemptions/1", data={"csrf": csrf(hana), "outcome": "fulfilled"})
    assert "already" in hana.get(again.headers["location"]).text


def test_approve_then_fulfil_and_nobody_settles_their_own(app, chat):
    credit(chat.engine, "bob", 300, "seed:bob")
    credit(chat.engine, "hana", 300, "seed:hana")
    chat.ok("bob", "redeem training")
    chat.ok("hana", "redeem training")
    hana = browser(app, chat, "hana")
    token = csrf(hana)
    hana.post("/redemptions/1", data={"csrf": token, "outcome": "approved"})
    assert rows(chat.engine, LedgerEntry, reason="reversal") == []
    assert "approved, to be fulfilled" in hana.get("/redemptions").text
    hana.post("/redemptions/1", data={"csrf": token, "outcome": "fulfilled"})
    own = hana.post("/redemptions/2", data={"csrf": token, "outcome": "fulfilled"})
    assert "You cannot decide your own request." in hana.get(own.headers["location"]).text
    assert 'action="/redemptions/2"' not in hana.get("/redemptions").text  # no buttons for it
    statuses = {r.id: r.status for r in rows(chat.engine, Redemption)}
    assert statuses == {1: "fulfilled", 2: "pending"}
    assert notifications(chat.engine, "bob")[-1].message_key == \
        "notify.redemption_fulfilled_no_comment"


def test_supervisor_decides_from_the_team_page(app, chat):
    chat.ok("alice", "comp 350 refund #B9 broken vase")
    wang = browser(app, chat, "wang")
    team = wang.get("/team").text
    assert "C1" in team and "350.00 CNY 退款 —— broken vase" in team  # as chat says it, in zh
    response = wang.post("/decide", data={"csrf": csrf(wang), "ref": "C1",
                                          "verdict": "approve", "comment": "ok"})
    assert response.status_code == 303
    assert "C1" in wang.get("/team").text  # the notice names it …
    assert 'id="C1"' not in wang.get("/team").text  # … and it waits no more
    assert notifications(chat.engine, "alice")[-1].message_key == "notify.comp_approved"


def test_the_language_switch_offers_every_other_language(app, chat):
    alice = browser(app, chat, "alice")
    page = alice.get("/ledger").text
    assert 'value="zh" lang="zh-Hans">简体中文</button>' in page
    assert 'value="zh-Hant" lang="zh-Hant">繁體中文</button>' in page
    assert 'value="en"' not in page
    assert alice.post("/lang", data={"csrf": csrf(alice), "locale": "zh-Hant",
                                     "next": "/ledger"}).headers["location"] == "/ledger"
    page = alice.get("/ledger").text
    assert '<html lang="zh-Hant">' in page and "積分流水" in page and ">English</button>" in page
    assert employee(chat.engine, "alice").locale == "zh-Hant"
    assert alice.post("/lang", data={"csrf": csrf(alice), "locale": "zh-TW"}).status_code == 400


def test_language_switch_is_the_persons_own(app, chat):
    alice = browser(app, chat, "alice")
    assert alice.post("/lang", data={"csrf": csrf(alice), "locale": "zh",
                                     "next": "//evil.test"}).headers["location"] == "/"
    assert "积分流水" in alice.get("/ledger").text
    assert employee(chat.engine, "alice").locale == "zh"


# --- the reports ----------------------------------------------------------------------
def test_reports_count_what_happened(app, chat):
    chat.ok("alice", "comp 120 voucher #A1 parcel late")
    chat.ok("alice", "comp 350 refund #B9 broken vase")
    chat.ok("wang", "approve C2", now=chat.now + timedelta(hours=2))
    chat.ok("bob", "comp 80 gift flowers")
    chat.ok("alice", "waiver no refunds without receipt @ 1h")
    chat.ok("alice", "waiver report W1 refunded anyway / regular customer #C77 45")
    chat.ok("bob", "waiver no refunds without receipt")
    chat.ok("bob", "waiver report W2 refunded / kind", now=chat.now + timedelta(hours=30))
    chat.ok("wang", "approve W1")
    chat.ok("wang", "praise @alice She found my lost ring!")
    chat.ok("alice", "suggest self-service returns kiosk")
    chat.ok("wang", "approve S1")
    hana = browser(app, chat, "hana")

    spend = hana.get("/compensation?month=2026-11").text
    assert "Alice Chen" in spend and "470.00" in spend and "80.00" in spend
    assert "median 2.0 h" in spend and "<svg" in spend
    assert "Spend per month (CNY)" in spend  # the chart's title names the currency
    friction = hana.get("/waivers?from=2026-11-01&to=2026-11-30").text
    assert "2 waivers · 2 reported · late-report rate 50%" in friction
    assert "ratified 1 / rejected 0" in friction and "no refunds without receipt" in friction
    praise = hana.get("/recognition?month=2026-11").text
    assert "<svg" in praise and "1 to go" not in praise and "2 to go" in praise
    assert hana.get("/compensation?month=11-2026").status_code == 400



def test_the_compensation_page_names_the_largest_and_counts_the_rest(app, chat, monkeypatch):
    from bot.webui.pages import reports

    monkeypatch.setattr(reports, "SPEND_SHOWN", 1)
    chat.ok("alice", "comp 120 voucher #A1 parcel late")
    chat.ok("bob", "comp 80 gift flowers")
    spend = browser(app, chat, "hana").get("/compensation?month=2026-11").text
    people = spend.split('id="spend-people"')[1].split("</table>")[0]
    assert "Alice Chen" in people and "Bob Li" not in people
    assert "…and 1 more, who spent less" in spend  # the one person beyond, not the team
    assert "200.00" in spend.split('id="spend-teams"')[1]  # the team sums both

# --- API tokens ------------------------------------------------------------------------
def test_api_tokens_are_made_by_hr_on_the_cli_stored_hashed_and_revocable(
        app, chat, tmp_path, capsys, monkeypatch, engine):
    url = engine.url.render_as_string(hide_password=False)
    config_file = tmp_path / "frontline.toml"
    config_file.write_text(f'[database]\nurl = "{url}"\n')
    monkeypatch.setattr("bot.cli.open_database", lambda config, **_: chat.engine)
    assert main(["--config", str(config_file), "api-token", "create", "bi-dashboard"]) == 0
    token = capsys.readouterr().out.split()[0]
    assert token.startswith("fl_")
    (stored,) = rows(chat.engine, ApiToken)
    assert stored.token_hash != token and token not in stored.token_hash
    assert main(["--config", str(config_file), "api-token", "create", "bi-dashboard"]) == 1

    credit(chat.engine, "mia", 30, "seed")
    client = TestClient(app, base_url="https://testserver")
    headers = {"Authorization": f"Bearer {token}"}
    assert {b["handle"] for b in client.get("/api/v1/balances", headers=headers).json()} >= {
        "alice", "mia"}
    assert client.get("/api/v1/ledger?person=mia", headers=headers).json()["entries"]
    assert client.get("/api/v1/redemptions", headers=headers).status_code == 200
    assert client.get("/ledger", headers=headers, follow_redirects=False).status_code == 303

    assert main(["--config", str(config_file), "api-token", "revoke", "bi-dashboard"]) == 0
    assert client.get("/api/v1/balances", headers=headers).status_code == 401


def test_sign_in_link_of_someone_who_left_opens_nothing(app, chat, config):
    path = sign_in_link(chat, "bob")
    with transaction(chat.engine) as session:
        session.get(Employee, employee(chat.engine, "bob").id).active = False
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    assert client.post(path).status_code == 400


def test_every_page_renders_in_both_languages(app, chat):
    chat.ok("alice", "comp 350 refund #B9 broken vase")
    chat.ok("alice", "waiver dress code")
    chat.ok("wang", "praise @alice She found my lost ring!")
    credit(chat.engine, "bob", 150, "seed")
    chat.ok("bob", "redeem training")
    for handle, locale in (("hana", "en"), ("lilei", "zh"), ("wang", "zh")):
        client = browser(app, chat, handle)
        pages = ["/ledger", "/redemptions", "/redemptions?show=settled", "/history"]
        if handle != "lilei":
            pages += [*REPORTS, "/team?team=1", "/signals?month=2026-11",
                      "/authority?month=2026-11", "/history?ref=C1", "/history?ref=R1"]
        if handle == "hana":
            pages.append("/fairness?month=2026-11")
        for path in pages:
            response = client.get(path)
            assert response.status_code == 200, (handle, path)
            assert f'lang="{"zh-Hans" if locale == "zh" else "en"}"' in response.text
        assert client.get("/ledger?reason=bogus").status_code == 404


def test_a_nul_byte_or_a_lone_surrogate_in_a_query_is_a_plain_refusal(app, chat):
    """psycopg refuses a NUL in a parameter; no query string may carry one to a page."""
    hana = browser(app, chat, "hana")
    for path in ("/ledger", "/ledger.csv", "/api/v1/ledger", "/team"):
        for query in ("person=al%00ice", "reason=%00", "team=1%00"):
            assert hana.get(f"{path}?{query}").status_code == 400, (path, query)
    for path in ("/signals", "/authority", "/fairness"):
        assert hana.get(f"{path}?month=2026-11%00").status_code == 400, path
        assert hana.get(f"{path}?month=%ED%A0%80").status_code < 500, path
        assert hana.get(f"{path}?person=%ED%A0%80").status_code < 500, path
    assert hana.get("/history?ref=C1%00").status_code == 400
    assert hana.get("/history?ref=%ED%A0%80").status_code < 500
    assert hana.get("/ledger?person=100%2500").status_code == 404  # "100%00" is text
    assert hana.get("/login/AB%00CD").status_code == 400
    assert hana.get("/ledger?person=alice").status_code == 200
