"""The voice of the customer in: POST /api/feedback over real HTTP on 127.0.0.1, signed
the Standard Webhooks way (with the `standardwebhooks` library, as a tool would) or the
Frontline way; the CSV import; NPS and CSAT per team and per employee."""

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from bot.app import praise_api
from bot.app.web import create_app
from bot.demo import DEMO_STAFF
from handlers import feedback
from handlers.policy import DEFAULT_THEMES
from handlers.reports.voices import CustomerVoice, customer_voice
from storage.engine import transaction
from storage.models import Feedback, LedgerEntry, Outbox, Praise, Team
from tests.http_servers import serve
from tests.support import balance, count, employee, rows
from tests.support import frontline as run_frontline

PRAISE_SECRET = "survey-tool-shared-secret"
WHSEC = "whsec_" + base64.b64encode(b"a 24-byte feedback secret").decode()


@pytest.fixture
def api(org, config):
    router = praise_api.router(org, config, PRAISE_SECRET, feedback_secret=WHSEC)
    with serve(create_app([router])) as url:
        yield url


def push(url: str, payload: dict, *, message_id: str = "msg_1", secret: str = WHSEC,
         age: int = 0, headers: dict | None = None) -> httpx.Response:
    """Signed by the library's own `sign`, as any tool's stock library would."""
    body = json.dumps(payload)
    moment = datetime.now(UTC) - timedelta(seconds=age)
    signed = {"webhook-id": message_id, "webhook-timestamp": str(int(moment.timestamp())),
              "webhook-signature": Webhook(secret).sign(message_id, moment, body)}
    return httpx.post(f"{url}/api/feedback", content=body.encode(), timeout=10, headers={
        "Content-Type": "application/json", **signed, **(headers or {})})


NPS = {"kind": "nps", "score": 9, "team": "Harbour Street Store", "employee": "alice",
       "text": "quick and kind", "customer_ref": "C-77", "touchpoint": "counter",
       "source": "surveyhub", "source_id": "r-1"}


@pytest.mark.http
def test_a_score_is_kept_once_and_earns_no_points(org, api):
    first = push(api, NPS)
    assert first.status_code == 201, first.text
    assert first.json() == {"feedback": "F1", "kind": "nps"}
    assert push(api, NPS).json()["duplicate"] is True  # the same delivery again
    again = push(api, NPS, message_id="msg_2")  # the tool sent the same response anew
    assert again.status_code == 200 and again.json()["duplicate"] is True
    (kept,) = rows(org, Feedback)
    assert (kept.kind, kept.score, kept.customer_ref, kept.touchpoint) == (
        "nps", 9, "C-77", "counter")
    assert kept.employee_id == employee(org, "alice").id
    assert count(org, LedgerEntry) == 0  # a promoter is told alice once, retries or not
    assert [n.message_key for n in rows(org, Outbox)] == ["notify.customer_voice"]


@pytest.mark.http
def test_praise_through_the_feedback_endpoint_is_plus_ten_with_its_broadcast(org, api):
    letter = {"kind": "praise", "employee": "bob", "text": "Bob carried my bags",
              "customer_ref": "C-77", "source": "surveyhub", "source_id": "p-1"}
    response = push(api, letter)
    assert response.status_code == 201 and response.json()["points"] == 10
    assert push(api, letter, message_id="msg_9").json()["duplicate"] is True
    assert balance(org, "bob") == 10 and count(org, Praise) == 1
    assert rows(org, Praise)[0].customer_ref == "C-77"  # for the recovery yield
    assert [n.message_key for n in rows(org, Outbox)] == ["notify.praise_credited",
                                                          "broadcast.praise"]


@pytest.mark.http
def test_a_complaint_names_its_team_without_a_person(org, api):
    response = push(api, {"kind": "complaint", "team": "Harbour Street Store",
                          "text": "they could not find my order", "source": "callcentre",
                          "source_id": "T-88"})
    assert response.status_code == 201
    (kept,) = rows(org, Feedback)
    assert kept.employee_id is None and kept.score is None


@pytest.mark.http
def test_the_frontline_signature_still_works_on_the_feedback_endpoint(org, api):
    body = json.dumps(NPS).encode()
    stamp = str(int(time.time()))
    response = httpx.post(f"{api}/api/feedback", content=body, timeout=10, headers={
        "X-Frontline-Timestamp": stamp,
        "X-Frontline-Signature": praise_api.signature(PRAISE_SECRET, stamp, body)})
    assert response.status_code == 201 and count(org, Feedback) == 1


@pytest.mark.parametrize("tamper", [
    {"secret": "whsec_" + base64.b64encode(b"someone else's secret!!").decode()},
    {"age": 400}, {"age": -400},
    {"headers": {"webhook-signature": "v1,AAAA"}},
    {"headers": {"webhook-signature": "no comma at all"}},
    {"headers": {"webhook-signature": "v1,not base64!"}},
    {"headers": {"webhook-timestamp": "1e9"}},
    {"headers": {"webhook-timestamp": "9" * 5000}},
    {"headers": {"webhook-id": ""}},
    {"headers": {"webhook-id": "x" * 201}},
])
@pytest.mark.http
def test_forged_stale_or_garbled_signatures_are_refused(org, api, tamper):
    response = push(api, NPS, **tamper)
    assert response.status_code == 401 and response.json()["error"]
    assert count(org, Feedback) == 0


@pytest.mark.http
def test_a_replayed_delivery_with_a_new_body_is_refused(org, api):
    signed = push(api, NPS).request
    forged = {**NPS, "score": 0, "source_id": "r-2"}
    response = httpx.post(f"{api}/api/feedback", content=json.dumps(forged).encode(),
                          headers={k: signed.headers[k] for k in (
                              "webhook-id", "webhook-timestamp", "webhook-signature")})
    assert response.status_code == 401 and count(org, Feedback) == 1


@pytest.mark.parametrize("payload", [
    {**NPS, "score": 11}, {**NPS, "score": None}, {**NPS, "kind": "csat", "score": 0},
    {**NPS, "kind": "complaint", "text": ""}, {**NPS, "kind": "complaint"},
    {**NPS, "team": "Nowhere"}, {**NPS, "employee": "ghost"},
    {**NPS, "team": None, "employee": None}, {**NPS, "text": "nul\x00"},
    {**NPS, "text": "x" * 2001}, {**NPS, "received_at": "2026-11-20T10:00:00"},
    {**NPS, "kind": "praise", "employee": None},
])
@pytest.mark.http
def test_bad_responses_get_a_clear_422_and_change_nothing(org, api, payload):
    response = push(api, payload)
    assert response.status_code == 422 and response.json()["error"]
    assert count(org, Feedback) == 0


@pytest.mark.http
def test_an_oversized_body_is_refused(org, api):
    response = push(api, {**NPS, "text": "x" * 70_000})
    assert response.status_code == 413 and count(org, Feedback) == 0


GOOD_CSV = """kind,team,employee,score,text,source,source_id,received_at
nps,Harbour Street Store,alice,10,,export,1,2026-11-02T10:00:00+08:00
nps,Harbour Street Store,,3,slow,export,2,2026-11-03T10:00:00+08:00
csat,,bob,5,,export,3,2026-11-04T10:00:00+08:00
complaint,Harbour Street Store,,,order lost in the system,export,4,2026-11-05T10:00:00+08:00
nps,Harbour Street Store,,10,,export,1,2026-11-02T10:00:00+08:00
"""


@pytest.fixture
def frontline(tmp_path, migrated_url):
    """The `frontline` command on a migrated database holding the demo staff."""
    config = tmp_path / "frontline.toml"
    config.write_text(f'[database]\nurl = "{migrated_url}"\n', encoding="utf-8")
    (tmp_path / "staff.csv").write_text(DEMO_STAFF, encoding="utf-8")

    def run(*args):
        return run_frontline(config, *args)

    assert run("directory", "import", "staff.csv").returncode == 0
    return run


def test_the_csv_import_keeps_each_response_once(frontline, tmp_path):
    (tmp_path / "export.csv").write_text(GOOD_CSV, encoding="utf-8")
    first = frontline("feedback", "import", "export.csv")
    assert (first.returncode, first.stdout.strip()) == (
        0, "imported 4 responses (1 seen before)")  # the last line repeats source id 1
    again = frontline("feedback", "import", "export.csv")
    assert again.stdout.strip() == "imported 0 responses (5 seen before)"


def test_a_bad_row_stops_the_whole_import_with_line_numbers(frontline, tmp_path):
    (tmp_path / "export.csv").write_text(
        GOOD_CSV + "nps,Harbour Street Store,,12,,export,9,\n"
        "csat,Nowhere,,4,,export,10,\npraise,,alice,,hi,export,11,\n", encoding="utf-8")
    result = frontline("feedback", "import", "export.csv")
    assert result.returncode == 1 and "nothing imported" in result.stderr
    assert "line 7: " in result.stderr
    assert "line 8: team: no team named 'Nowhere'" in result.stderr
    assert "line 9: kind: praise" in result.stderr
    (tmp_path / "export.csv").write_text(GOOD_CSV, encoding="utf-8")
    assert frontline("feedback", "import", "export.csv").stdout.startswith("imported 4 ")


def test_a_file_without_the_needed_columns_is_refused(org):
    with transaction(org) as session, pytest.raises(feedback.ImportErrors) as error:
        feedback.import_csv(session, "kind,team\nnps,x\n", datetime.now(UTC), DEFAULT_THEMES)
    assert error.value.problems == ["line 1: missing column(s) source, source_id"]


def test_nps_and_csat_per_team_and_employee_on_a_hand_computed_example(org):
    """10 NPS answers: 5 promoters (9-10), 3 passives (7-8), 2 detractors (0-6): NPS =
    50% - 20% = 30. CSAT 5, 4, 2: 2 of 3 satisfied = 67%, mean 3.7."""
    scores = [10, 10, 9, 9, 9, 8, 7, 7, 6, 0]
    lines = ["kind,employee,score,source,source_id,received_at"]
    lines += [f"nps,{'alice' if n < 3 else 'bob'},{s},t,n{n},2026-11-10T12:00:00Z"
              for n, s in enumerate(scores)]
    lines += [f"csat,alice,{s},t,c{n},2026-11-10T12:00:00Z" for n, s in enumerate((5, 4, 2))]
    lines += ["nps,alice,0,t,late,2026-12-01T12:00:00Z"]  # December: outside the month
    with transaction(org) as session:
        feedback.import_csv(session, "\n".join(lines) + "\n", datetime.now(UTC), DEFAULT_THEMES)
    since, until = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    with transaction(org) as session:
        team = session.exec(Team.__table__.select().where(
            Team.name == "Harbour Street Store")).first()
        voice = customer_voice(session, since, until, [team.id])[team.id]
        people = customer_voice(session, since, until, [team.id], by_employee=True)
    assert (voice.nps_responses, voice.promoters, voice.detractors, voice.nps) == (10, 5, 2, 30)
    assert (voice.csat, voice.csat_average, voice.responses) == (67, "3.7", 13)
    alice, bob = people[employee(org, "alice").id], people[employee(org, "bob").id]
    assert (alice.nps, alice.nps_responses) == (100, 3)  # 10, 10, 9
    assert (bob.nps, bob.nps_responses) == (0, 7)  # 9 9 8 7 7 6 0: 2 promoters, 2 detractors
    assert CustomerVoice().nps is None and CustomerVoice().csat_average is None
