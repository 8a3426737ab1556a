"""POST /api/praise over real HTTP on 127.0.0.1: signed pushes from a survey tool."""

import json
import time

import httpx
import pytest

from bot.app import praise_api
from bot.app.web import create_app
from storage.engine import transaction
from storage.models import ChatIdentity, LedgerEntry, Outbox, Praise
from tests.http_servers import serve
from tests.support import balance, count, employee, rows

pytestmark = pytest.mark.http

SECRET = "survey-tool-shared-secret"


@pytest.fixture
def api(org, config):
    with transaction(org) as session:
        session.add(ChatIdentity(employee_id=employee(org, "bob").id, platform="telegram",
                                 platform_user_id="1003"))
    with serve(create_app([praise_api.router(org, config, SECRET)])) as url:
        yield url


def push(url: str, payload: dict, *, secret: str = SECRET, age: int = 0,
         signature: str | bytes | None = None, stamp: str | bytes | None = None,
         ) -> httpx.Response:
    body = json.dumps(payload).encode()
    stamp = stamp or str(int(time.time()) - age)
    return httpx.post(f"{url}/api/praise", content=body, timeout=10, headers={
        "Content-Type": "application/json", "X-Frontline-Timestamp": stamp,
        "X-Frontline-Signature": signature or praise_api.signature(secret, stamp, body)})


LETTER = {"employee": "alice", "text": "Alice found my lost passport!", "source": "surveyhub",
          "source_id": "resp-1001", "audio_url": "https://surveys.example/a/1001.mp3"}


def test_a_signed_push_credits_once_and_broadcasts(org, api):
    first = push(api, LETTER)
    assert first.status_code == 201, first.text
    assert first.json() == {"praise": "P1", "employee": "alice", "points": 10}
    again = push(api, LETTER)  # the tool retried
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert count(org, Praise) == 1 and count(org, LedgerEntry) == 1
    assert balance(org, "alice") == 10
    praise = rows(org, Praise)[0]
    assert (praise.source, praise.attachment_ref) == ("webhook:surveyhub",
                                                      "https://surveys.example/a/1001.mp3")
    assert [n.message_key for n in rows(org, Outbox)] == ["notify.praise_credited",
                                                          "broadcast.praise"]


def test_the_person_can_be_named_by_chat_id(org, api):
    response = push(api, {"platform": "telegram", "chat_id": "1003", "text": "Bob was kind",
                          "source": "feedback", "source_id": "f-7"})
    assert response.status_code == 201 and response.json()["employee"] == "bob"


@pytest.mark.parametrize("tamper", ["secret", "signature", "stale", "future", "superscript",
                                    "huge_stamp", "non_ascii_signature"])
def test_bad_signatures_and_stale_timestamps_are_refused(org, api, tamper):
    response = {
        "secret": lambda: push(api, LETTER, secret="guessed"),
        "signature": lambda: push(api, LETTER, signature="sha256=" + "0" * 64),
        "stale": lambda: push(api, LETTER, age=301),
        "future": lambda: push(api, LETTER, age=-330),  # slack for a slow machine
        "superscript": lambda: push(api, LETTER, stamp="²".encode("latin-1"),
                                    signature="sha256=" + "0" * 64),
        "huge_stamp": lambda: push(api, LETTER, stamp="1" * 5000,
                                   signature="sha256=" + "0" * 64),
        "non_ascii_signature": lambda: push(api, LETTER, signature="sha256=é".encode("latin-1")),
    }[tamper]()
    assert response.status_code == 401
    assert count(org, Praise) == 0


@pytest.mark.parametrize("payload", [
    {**LETTER, "employee": "ghost"},
    {**LETTER, "employee": None},
    {**LETTER, "text": ""},
    {**LETTER, "audio_url": "javascript:alert(1)"},
    {key: value for key, value in LETTER.items() if key != "source_id"},
    {**LETTER, "text": "nul\x00byte"},
    {**LETTER, "text": "lone \ud800 surrogate"},
    {**LETTER, "source_id": "resp\x00-1"},
    {**LETTER, "text": "x" * 2001},
    {**LETTER, "source_id": "r" * 201},
])
def test_bad_payloads_get_a_clear_422_and_change_nothing(org, api, payload):
    response = push(api, payload)
    assert response.status_code == 422 and response.json()["error"]
    assert count(org, Praise) == 0
