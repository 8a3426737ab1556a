"""The Slack adapter over real HTTP on 127.0.0.1: the Bolt app on the bot's web app
receives correctly signed requests, and its WebClient talks to a local fake of
the Slack Web API."""

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from slack_bolt.context.respond import Respond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.app.web import create_app
from bot.kit import Notification
from bot.kit.config import parse_config
from bot.kit.work_pool import WorkPool
from bot.platforms.slack import blocks
from bot.platforms.slack.adapter import SlackAdapter
from bot.platforms.slack.channels import SlackChannel
from bot.platforms.slack.limits import (
    MESSAGE_TEXT,
    POST_BURST,
    RESPONSE_URL_SECONDS,
    RESPONSE_URL_USES,
    SCOPES,
    SECTION_TEXT,
    TRIGGER_SECONDS,
)
from bot.platforms.slack.mentions import unescape
from bot.platforms.slack.platform import SlackPlatform
from handlers.base import Message, Reply
from handlers.dispatch import execute
from handlers.forms import FORMS
from handlers.i18n import render_message, render_reply
from handlers.praise import AttachRecording, PraiseLog
from rituals import schedule
from storage.engine import transaction
from storage.models import (
    ChatIdentity,
    ChatPost,
    CommandReceipt,
    Compensation,
    InboxItem,
    LedgerEntry,
    Outbox,
    Praise,
    Thanks,
    TouchingMark,
)
from tests.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.platforms.slack import ALL_STAFF, FORM, HARBOUR, STRANGER, USERS, running, text_of
from tests.support import count, employee, held, rows, settled, wait_until

pytestmark = pytest.mark.http


@pytest.fixture
def fake():
    return FakeSlack()


@pytest.fixture
def slack(org, fake):
    with running(org, fake) as slack:
        yield slack


COMMAND_PATHS = [
    ("alice", "help", "Frontline commands"),
    ("alice", "me", "Alice Chen"),
    ("alice", "comp 120 voucher #A1 parcel two days late", "C1"),
    ("alice", "waiver no refund without receipt", "W1"),
    ("alice", "waiver report W1 refunded anyway / regular customer", "W1"),
    ("alice", "waivers", "W1"),
    ("wang", "praise @alice She remembered my name", "P1"),
    ("bob", "touching P1", "P1"),
    ("alice", "suggest Put a bench by the door", "S1"),
    ("wang", "solved @bob The queue at checkout", "M1"),
    ("wang", "pending", "S1"),
    ("alice", "nominate @bob heard the bench idea", "Bob Li"),
    ("alice", "vote @bob", "Bob Li"),
    ("alice", "goldenear", "Bob Li"),
    ("alice", "catalog", "coffee"),
    ("alice", "redeem coffee", "R1"),
    ("alice", "cancel R1", "R1"),
    ("alice", "ledger", "praise"),
    ("lilei", "我", "李雷"),
    ("alice", "lang zh", "中文"),
]


def test_every_command_path_answers_ephemerally(slack):
    for handle, text, expected in COMMAND_PATHS:
        response = slack.command(handle, text)
        assert response["response_type"] == "ephemeral"
        assert expected in text_of(response), (text, response)
        assert "did not understand" not in text_of(response)
    assert count(slack.engine, Compensation) == 1 and count(slack.engine, Praise) == 1


def test_the_short_alias_answers_too(slack):
    """(Someone Frontline does not know: tests/platforms/test_conformance.py.)"""
    assert "Alice Chen" in text_of(slack.command("alice", "me", command="/fl"))


def test_compensation_modal_shows_authority_and_field_errors(slack):
    slack.command("alice", "comp 50 gift #A0 flowers")
    slack.n += 1
    before = len(slack.fake.sent("views.open"))
    body = urlencode({"command": "/frontline", "text": "comp", "user_id": USERS["alice"],
                      "team_id": "T0001", "trigger_id": "trig-modal",
                      "response_url": f"{slack.api_url}/respond/x"})
    assert slack.post(body, FORM).status_code == 200
    modal = slack.fake.wait_for_calls("views.open", before + 1)[-1]["view"]
    assert modal["callback_id"] == "form:comp"
    assert "up to 200.00 CNY per incident" in text_of(modal)
    assert "used today 50.00 CNY" in text_of(modal)

    bad = slack.submit("alice", modal, {"amount": "lots", "kind": "voucher",
                                        "customer_ref": "A1 B2", "reason": "late"})
    assert bad.status_code == 200
    errors = bad.json()
    assert errors["response_action"] == "errors"
    assert set(errors["errors"]) == {"amount", "customer_ref"}
    assert count(slack.engine, Compensation) == 1

    good = {"amount": "80", "kind": "voucher", "customer_ref": "#A1", "reason": "cake squashed"}
    assert slack.submit("alice", modal, good, view_id="V7").status_code == 200
    assert slack.submit("alice", modal, good, view_id="V7").status_code == 200  # retried
    told = slack.fake.wait_for_calls("chat.postMessage", 1)  # after the ack: C2, once
    assert "C2" in text_of(told[0])
    assert count(slack.engine, Compensation) == 2
    stored = [item.key for item in rows(slack.engine, InboxItem)]
    assert stored.count("slack:view:V7") == 1  # the retry was not stored again
    slack.adapter.inbox.pool.stop()  # all that was queued has run: still the one answer
    assert len(slack.fake.sent("chat.postMessage")) == 1
    logged = rows(slack.engine, Compensation)[-1]
    assert (logged.amount_minor, logged.customer_ref) == (8000, "A1")


def test_ask_for_more_from_the_card_keeps_it_open_and_the_answer_comes_back(slack):
    slack.command("alice", "comp 500 refund #A7 broken on arrival")
    slack.dispatch()
    card = slack.dm("wang")[0]
    message = {"ts": "1700.0002", "blocks": card["blocks"], "text": card["text"]}
    base = len(slack.fake.responses)
    assert slack.click("wang", "ask C1", message, "DWANG").status_code == 200
    assert "C1" in slack.fake.wait_for_response(base + 1)["text"]
    assert slack.fake.sent("chat.update") == []  # still open: the buttons stay
    slack.dispatch()
    assert "needs more information about your C1" in text_of(slack.dm("alice")[-1])
    slack.command("alice", "answer C1 order 7788, the vase was inside")
    slack.dispatch()
    back = slack.dm("wang")[-1]
    assert "order 7788" in text_of(back)
    actions = next(b for b in back["blocks"] if b["type"] == "actions")["elements"]
    assert [a["value"] for a in actions] == ["approve C1", "decline C1", "ask C1"]
    assert rows(slack.engine, Compensation)[0].status == "pending"


def test_the_approval_card_is_rewritten_in_place_once_decided(slack):
    """(Who may decide, and deciding once: tests/platforms/test_conformance.py.)"""
    slack.command("alice", "comp 500 refund #A7 broken on arrival")
    assert slack.dispatch() >= 1
    card = slack.dm("wang")[0]
    shown = text_of(card)
    for detail in ("Alice Chen", "500.00 CNY", "broken on arrival", "A7", "本月已用"):
        assert detail in shown
    actions = next(b for b in card["blocks"] if b["type"] == "actions")["elements"]
    assert [a["value"] for a in actions] == ["approve C1", "decline C1", "ask C1"]
    message = {"ts": "1700.0001", "blocks": card["blocks"], "text": card["text"]}
    base = len(slack.fake.responses)

    assert slack.click("bob", "approve C1", message, "DWANG").status_code == 200
    refusal = slack.fake.wait_for_response(base + 1)  # only bob sees it; the card stays
    assert refusal["response_type"] == "ephemeral" and refusal["replace_original"] is False

    assert slack.click("wang", "approve C1", message, "DWANG").status_code == 200
    updated = slack.fake.wait_for_calls("chat.update", 1)[0]
    assert updated["ts"] == "1700.0001" and updated["channel"] == "DWANG"
    assert all(b["type"] != "actions" for b in updated["blocks"])
    assert "王芳 Wang Fang" in text_of(updated)

    assert slack.click("wang", "approve C1", message, "DWANG").status_code == 200
    assert slack.fake.wait_for_response(base + 2)["response_type"] == "ephemeral"
    assert len(slack.fake.sent("chat.update")) == 1  # rewritten once


def test_decline_asks_for_a_reason_in_a_modal(slack):
    slack.command("alice", "comp 500 refund #A7 broken on arrival")
    slack.dispatch()
    card = slack.dm("wang")[0]
    message = {"ts": "1700.0002", "blocks": card["blocks"], "text": card["text"]}
    base = len(slack.fake.responses)
    slack.click("bob", "decline C1", message, "DWANG")  # not bob's to decide: no modal
    assert "approver" in slack.fake.wait_for_response(base + 1)["text"]
    assert slack.fake.sent("views.open") == []

    slack.click("wang", "decline C1", message, "DWANG")
    modal = slack.fake.wait_for_calls("views.open", 1)[0]["view"]
    assert modal["callback_id"] == "decline_reason"
    empty = slack.submit("wang", modal, {"reason": ""}, view_id="VD")
    assert empty.json()["errors"] == {"reason": "请填写拒绝理由。"}  # wang reads Chinese
    assert slack.submit("wang", modal, {"reason": "over budget"}, view_id="VD2").status_code == 200
    updated = slack.fake.wait_for_calls("chat.update", 1)[0]
    assert updated["ts"] == "1700.0002" and all(b["type"] != "actions"
                                                 for b in updated["blocks"])
    record = rows(slack.engine, Compensation)[0]
    assert (record.status, record.decision_comment) == ("declined", "over budget")


def test_message_shortcut_logs_praise_for_supervisors_only(slack):
    shortcut = {"type": "message_action", "callback_id": "log_praise", "trigger_id": "trigS",
                "user": {"id": USERS["wang"]}, "team": {"id": "T0001"},
                "channel": {"id": "CFEEDBACK"}, "response_url": f"{slack.api_url}/respond/s",
                "message": {"type": "message", "user": USERS["alice"], "ts": "1.2",
                            "text": "Alice stayed late to find my size",
                            "files": [{"permalink": "https://files.example/letter.pdf"}]}}
    assert slack.interact(shortcut).status_code == 200
    modal = slack.fake.wait_for_calls("views.open", 1)[0]["view"]
    assert "Alice stayed late to find my size" in text_of(modal)
    assert "https://files.example/letter.pdf" in text_of(modal)
    assert modal["blocks"][0]["element"]["initial_users"] == [USERS["alice"]]  # the author
    values = {"employee": [USERS["alice"]], "text": "Alice stayed late to find my size",
              "attachment": "https://files.example/letter.pdf"}
    assert slack.submit("wang", modal, {**values, "employee": ["UNOBODY"]},
                        view_id="VP2").json()["errors"]["employee"]  # checked before the ack
    assert slack.submit("bob", modal, values, view_id="VP1").status_code == 200
    refusal = slack.fake.wait_for(lambda: slack.dm("bob"), what="bob's refusal")[0]
    assert "Only supervisors and HR can log praise" in text_of(refusal)
    assert count(slack.engine, Praise) == 0  # an employee may not log praise
    assert slack.submit("wang", modal, values, view_id="VP3").status_code == 200
    slack.fake.wait_for(lambda: slack.dm("wang"), what="wang's answer")
    praise = rows(slack.engine, Praise)[0]
    assert (praise.text, praise.attachment_ref) == ("Alice stayed late to find my size",
                                                    "https://files.example/letter.pdf")


def shortcut(slack, callback_id: str, handle: str, author: str, trigger: str) -> dict:
    """`handle` picks a message shortcut on `author`'s message; the modal it opened."""
    before = len(slack.fake.sent("views.open"))
    assert slack.interact({
        "type": "message_action", "callback_id": callback_id, "trigger_id": trigger,
        "user": {"id": USERS[handle]}, "team": {"id": "T0001"}, "channel": {"id": "CSHOP"},
        "response_url": f"{slack.api_url}/respond/{trigger}",
        "message": {"type": "message", "user": USERS[author], "ts": "1.3",
                    "text": "Thank you all for finding my size"}}).status_code == 200
    return slack.fake.wait_for_calls("views.open", before + 1)[-1]["view"]


def test_the_praise_form_credits_every_colleague_picked_once_though_submitted_again(slack):
    """One form, several colleagues: the typed team praise (`praise @alice @bob …`),
    run once for the view, however often Slack delivers its submission."""
    modal = shortcut(slack, "log_praise", "wang", "alice", "trigT")
    picker = modal["blocks"][0]["element"]
    assert picker["type"] == "multi_users_select"
    assert picker["max_selected_items"] == slack.adapter.config.points.team_praise_max
    team = {"employee": [USERS["alice"], USERS["bob"]], "text": "You all found my size"}
    for _ in range(2):  # the submission, and Slack delivering it again
        assert slack.submit("wang", modal, team, view_id="VTEAM").status_code == 200
    told = slack.fake.wait_for(lambda: slack.dm("wang"), what="wang's answer")
    slack.adapter.inbox.pool.stop()  # all that was queued has run: still the one answer
    assert len(slack.dm("wang")) == 1 and "P1" in text_of(told[0])
    praised = rows(slack.engine, Praise)
    assert sorted(p.employee_id for p in praised) == sorted(
        employee(slack.engine, handle).id for handle in ("alice", "bob"))
    assert {p.group_id for p in praised} == {praised[0].id}  # one letter, grouped
    credits = [e for e in rows(slack.engine, LedgerEntry) if e.source_type == "praise"]
    assert len(credits) == 2 and len({e.employee_id for e in credits}) == 2
    assert [i.key for i in rows(slack.engine, InboxItem)].count("slack:view:VTEAM") == 1


def test_a_praise_form_naming_nobody_or_the_sender_is_refused_in_their_language(slack):
    modal = shortcut(slack, "log_praise", "wang", "alice", "trigN")  # wang reads Chinese
    nobody = slack.submit("wang", modal, {"employee": [], "text": "kind words"}, view_id="VN")
    assert nobody.json()["errors"] == {"employee": "请至少选择一位同事。"}  # before the ack
    stranger = slack.submit("wang", modal, {"employee": [USERS["alice"], STRANGER],
                                            "text": "kind words"}, view_id="VS")
    assert stranger.json()["errors"]["employee"] == render_message(
        Message("error.not_on_frontline"), "zh")
    assert count(slack.engine, InboxItem) == 0  # neither was stored to run
    me = {"employee": [USERS["alice"], USERS["wang"]], "text": "kind words"}
    assert slack.submit("wang", modal, me, view_id="VME").status_code == 200
    refusal = slack.fake.wait_for(lambda: slack.dm("wang"), what="wang's refusal")[0]
    assert render_message(Message("refuse.self_praise"), "zh") in text_of(refusal)
    assert count(slack.engine, Praise) == 0 and count(slack.engine, LedgerEntry) == 0


def test_the_thanks_shortcut_reaches_the_colleague_and_their_team(slack):
    modal = shortcut(slack, "thanks", "alice", "bob", "trigK")
    assert modal["callback_id"] == "thanks"
    assert modal["blocks"][0]["element"] == {"type": "users_select", "action_id": "value",
                                             "initial_user": USERS["bob"]}
    empty = slack.submit("alice", modal, {"colleague": USERS["bob"], "why": " "}, view_id="VK0")
    assert empty.json()["errors"] == {"why": "Please add the text."}
    mine = {"colleague": USERS["alice"], "why": "for me"}
    assert slack.submit("alice", modal, mine, view_id="VK1").status_code == 200
    refusal = slack.fake.wait_for(lambda: slack.dm("alice"), what="alice's refusal")[0]
    assert "You cannot thank yourself" in text_of(refusal)
    assert count(slack.engine, Thanks) == 0

    thanks = {"colleague": USERS["bob"], "why": "covering my shift", "team": ["team"]}
    for _ in range(2):  # delivered again: one thanks
        assert slack.submit("alice", modal, thanks, view_id="VK2").status_code == 200
    told = slack.fake.wait_for(lambda: slack.dm("alice")[1:], what="alice's answer")[0]
    assert "Your thanks went to Bob Li and to their team" in text_of(told)
    slack.dispatch()
    assert "covering my shift" in text_of(slack.dm("bob")[-1])
    assert any("covering my shift" in text_of(p) for p in posts_to(slack, HARBOUR))
    (kept,) = rows(slack.engine, Thanks)
    assert kept.public and kept.why == "covering my shift"


def test_the_manifest_offers_a_shortcut_for_each_form_the_app_opens():
    import yaml

    manifest = yaml.safe_load((Path(__file__).parent.parent / "slack-app-manifest.yml")
                              .read_text(encoding="utf-8"))
    shortcuts = {s["callback_id"]: s["type"] for s in manifest["features"]["shortcuts"]}
    assert shortcuts == {"log_praise": "message", "thanks": "message"}


def test_the_fake_refuses_a_modal_slack_would_refuse(slack):
    """views.open answers invalid_arguments, naming the rule, for a view that breaks
    Block Kit's limits; Frontline's own modals keep them."""
    modal = blocks.praise_modal("kind words", USERS["alice"], "", "en", 10)
    broken = [
        {**modal, "title": {"type": "plain_text", "text": "x" * 25}},
        {**modal, "submit": None},
        {**modal, "blocks": [{**modal["blocks"][0], "block_id": "b" * 256}]},
        {**modal, "blocks": [{**modal["blocks"][0], "element": {
            **modal["blocks"][0]["element"], "max_selected_items": 0}}]},
        {**modal, "blocks": [{**modal["blocks"][0], "element": {
            **modal["blocks"][0]["element"], "action_id": "a" * 256}}]},
        {**modal, "blocks": [modal["blocks"][1], modal["blocks"][1]]},  # one block_id twice
    ]
    for n, view in enumerate(broken):
        slack.fake.issue(f"trigBad{n}")
        with pytest.raises(SlackApiError) as refused:
            slack.adapter.client.views_open(trigger_id=f"trigBad{n}", view=view)
        assert refused.value.response["error"] == "invalid_arguments"
        assert "[ERROR]" in refused.value.response["response_metadata"]["messages"][0]
    for n, view in enumerate((modal, blocks.thanks_modal(USERS["bob"], "zh-Hant"),
                              blocks.form_modal(FORMS["comp"], "zh"))):
        slack.fake.issue(f"trigGood{n}")
        slack.adapter.client.views_open(trigger_id=f"trigGood{n}", view=view)


def test_praise_broadcast_and_a_retried_reaction_event(slack):
    slack.command("wang", "praise @alice She remembered my name")
    slack.dispatch()
    post = next(p for p in slack.fake.sent("chat.postMessage") if p["channel"] == ALL_STAFF)
    assert "She remembered my name" in text_of(post) and ":heart:" in text_of(post)
    posted = rows(slack.engine, ChatPost)[0]
    event = {"type": "reaction_added", "user": USERS["bob"], "reaction": "heart",
             "item": {"type": "message", "channel": posted.chat_id, "ts": posted.message_id},
             "event_ts": "1.1"}
    assert slack.event(event, "Ev001").status_code == 200
    assert slack.event(event, "Ev001", headers={"X-Slack-Retry-Num": "1",
                                                "X-Slack-Retry-Reason": "http_timeout"}
                       ).status_code == 200
    settled(slack.adapter.inbox.pool)  # the retry was acknowledged, not queued again
    assert count(slack.engine, TouchingMark) == 1
    assert rows(slack.engine, Praise)[0].touching_count == 1


def test_a_stale_request_is_refused_with_no_effect(slack):
    """Correctly signed, but more than five minutes old: a replay. (A forged
    signature: tests/platforms/test_conformance.py.)"""
    body = urlencode(slack.slash("alice", "comp 60 gift #A3 birthday"))
    stale = int(time.time()) - 6 * 60
    assert slack.post(body, FORM, timestamp=stale).status_code == 401
    settled(slack.adapter.inbox.pool)
    assert count(slack.engine, Compensation) == 0 and slack.fake.responses == []


def test_app_home_shows_points_authority_waivers_redemptions_and_approvals(slack):
    slack.command("wang", "praise @alice She remembered my name")
    slack.command("alice", "waiver no refund without receipt")
    slack.command("alice", "redeem coffee")
    slack.command("alice", "suggest A bench by the door")
    assert slack.event({"type": "app_home_opened", "user": USERS["alice"], "tab": "home"},
                       "EvH1").status_code == 200
    home = slack.fake.wait_for_calls("views.publish", 1)[0]
    assert home["user_id"] == USERS["alice"] and home["view"]["type"] == "home"
    shown = text_of(home["view"])
    for detail in ("Points: 0", "per incident", "W1", "R1", "Coffee voucher",
                   "Your experience board", "improvement cases 0/3"):
        assert detail in shown, detail
    values = [e["value"] for b in home["view"]["blocks"] if b["type"] == "actions"
              for e in b["elements"]]
    assert "waiver report W1" in values and "cancel R1" in values

    slack.event({"type": "app_home_opened", "user": USERS["wang"], "tab": "home"}, "EvH2")
    wang_home = slack.fake.wait_for_calls("views.publish", 2)[1]
    values = [e["value"] for b in wang_home["view"]["blocks"] if b["type"] == "actions"
              for e in b["elements"]]
    assert "approve S1" in values and "decline S1" in values


def test_a_retried_event_is_handled_once_and_an_unknown_one_is_acknowledged(slack):
    opened = {"type": "app_home_opened", "user": USERS["alice"], "tab": "home"}
    assert slack.event(opened, "EvHome").status_code == 200
    slack.fake.wait_for_calls("views.publish", 1)
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert slack.event(opened, "EvHome", headers=retry).status_code == 200
    assert slack.event(opened, "EvHome2").status_code == 200  # opened again: a new event
    slack.fake.wait_for_calls("views.publish", 2)
    settled(slack.adapter.inbox.pool)
    assert len(slack.fake.sent("views.publish")) == 2
    for kind in ("channel_rename", "app_mention", "reaction_removed"):
        assert slack.event({"type": kind, "user": USERS["bob"]}, f"Ev{kind}").status_code == 200
    assert count(slack.engine, CommandReceipt, key="slack:event:EvHome") == 1
    assert count(slack.engine, CommandReceipt, key="slack:event:Evchannel_rename") == 1


def test_a_failing_delivery_is_retried_by_the_client_and_delivered_once(slack):
    """Slack's WebClient retries a 5xx itself. (A rate-limited send:
    tests/platforms/test_conformance.py.)"""
    slack.command("alice", "comp 500 refund #A7 broken on arrival")
    slack.fake.fail("chat.postMessage", status=500)
    assert slack.dispatch() == 1
    assert slack.fake.failed[0][0] == "chat.postMessage"
    assert len(slack.dm("wang")) == 1
    assert slack.dispatch() == 0
    assert all(row.delivered_at is not None for row in rows(slack.engine, Outbox))


@pytest.mark.slow  # Slack's client takes its 3 s receive timeout to close
def test_socket_mode_receives_over_the_websocket_and_acks(org, fake, monkeypatch):
    """`frontline run`'s wiring in Socket Mode: Slack's own client opens the
    connection (apps.connections.open, then a WebSocket), a slash command arrives
    as an envelope, is acked on the socket, and answered at its response_url."""
    import asyncio

    from bot import runtime
    from tests.fake_slack import APP_TOKEN

    with transaction(org) as session:
        session.add(ChatIdentity(employee_id=employee(org, "alice").id, platform="slack",
                                 platform_user_id=USERS["alice"]))
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    with fake.serve() as api_url:
        config = parse_config({"platforms": {"slack": {
            "enabled": True, "mode": "socket", "api_base": f"{api_url}/api/"}}})
        wired = runtime.wire(org, config)
        app = create_app(wired.routers)  # nothing listens for Slack over HTTP
        assert TestClient(app).post("/slack/events").status_code == 404
        fake.push({
            "envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True,
            "payload": {"command": "/frontline", "text": "me", "user_id": USERS["alice"],
                        "team_id": "T0001", "trigger_id": "trig-socket",
                        "response_url": f"{api_url}/respond/socket"}})
        asyncio.run(wired.on_start[0]())
        try:
            response = fake.wait_for_response(1)
            assert "Alice Chen" in text_of(response)
            assert fake.socket_acks[0]["envelope_id"] == "env-1"
        finally:
            asyncio.run(wired.on_stop[0]())


VOICE = b"OggS\x00\x02 a customer's voice note \xff\xfe"


def praise_with_recording(slack, at: datetime | None = None) -> None:
    """Wang logs praise for Alice with a voice note, as a platform adapter would."""
    recording = AttachRecording(VOICE, "audio/ogg", "slack:file:F0VOICE")
    reply, _ = execute(slack.engine, slack.adapter.config, "slack", USERS["wang"],
                       PraiseLog("She sang my daughter happy birthday", "alice",
                                 recording=recording), now=at)
    assert reply.messages[0].params["ref"] == "P1"


def posts_to(slack, channel: str) -> list[dict]:
    return [p for p in slack.fake.sent("chat.postMessage") if p["channel"] == channel]


def test_the_praise_broadcast_uploads_its_recording_once(slack):
    praise_with_recording(slack)
    assert slack.dispatch() == 2  # Alice's note, the all-staff broadcast
    (post,) = posts_to(slack, ALL_STAFF)
    assert "happy birthday" in text_of(post)
    (shared,) = slack.fake.shared_files()
    assert shared["data"] == VOICE and shared["length"] == len(VOICE)
    assert (shared["channel"], shared["filename"]) == (ALL_STAFF, "P1.ogg")
    assert shared["initial_comment"] == "🎧 P1"
    called = [name for name, _ in slack.fake.calls]
    assert called.index("files.getUploadURLExternal") > called.index("chat.postMessage")
    assert called[-3:] == ["files.getUploadURLExternal", "upload",
                           "files.completeUploadExternal"]

    assert slack.dispatch(later=timedelta(hours=1)) == 0
    assert len(slack.fake.shared_files()) == 1 and len(posts_to(slack, ALL_STAFF)) == 1


def test_a_failed_upload_is_retried_without_posting_the_praise_again(slack):
    praise_with_recording(slack)
    slack.fake.fail("upload", status=500)
    assert slack.dispatch() == 1  # the broadcast is posted; its recording is not
    assert len(posts_to(slack, ALL_STAFF)) == 1 and slack.fake.shared_files() == []
    assert slack.fake.failed[0][0] == "upload"

    assert slack.dispatch(later=timedelta(minutes=1)) == 1
    (shared,) = slack.fake.shared_files()
    assert shared["data"] == VOICE and shared["channel"] == ALL_STAFF
    assert len(posts_to(slack, ALL_STAFF)) == 1
    assert slack.dispatch(later=timedelta(hours=1)) == 0
    assert len(slack.fake.shared_files()) == 1


def test_the_morning_post_uploads_its_recording_after_the_post_has_gone_out(slack):
    at = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # noon in Shanghai
    praise_with_recording(slack, at)
    slack.dispatch()
    morning = next(t for t in schedule.targets(slack.engine, slack.adapter.config,
                                               ["morning_praise"])
                   if t.team_name == "Harbour Street Store")
    fired = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert schedule.run_once(slack.engine, slack.adapter.config, morning, fired, fired) == "P1"

    slack.fake.fail("chat.postMessage", status=400, error="not_in_channel")
    assert slack.dispatch(later=timedelta(minutes=1)) == 0  # no post, so no recording yet
    assert posts_to(slack, HARBOUR) == []
    assert [f["channel"] for f in slack.fake.shared_files()] == [ALL_STAFF]

    assert slack.dispatch(later=timedelta(minutes=2)) == 1
    (post,) = posts_to(slack, HARBOUR)
    assert "happy birthday" in text_of(post)
    shared = [f for f in slack.fake.shared_files() if f["channel"] == HARBOUR]
    assert [f["data"] for f in shared] == [VOICE]
    assert slack.dispatch(later=timedelta(hours=1)) == 0
    assert len(posts_to(slack, HARBOUR)) == 1 and len(slack.fake.shared_files()) == 2


def test_a_full_work_pool_keeps_the_modal_open_asking_to_submit_again(slack):
    slack.adapter.inbox.pool = WorkPool("slack-test", threads=1, queue=0)
    gate = threading.Event()
    assert slack.adapter.inbox.pool.submit(gate.wait)
    modal = blocks.form_modal(FORMS["comp"], "en", "", None)  # as views.open showed it
    good = {"amount": "80", "kind": "voucher", "customer_ref": "#A1", "reason": "squashed"}
    try:
        answer = slack.submit("alice", modal, good, view_id="VBUSY").json()
    finally:
        gate.set()
    assert answer["response_action"] == "errors" and "very busy" in answer["errors"]["amount"]
    assert count(slack.engine, Compensation) == 0 and count(slack.engine, InboxItem) == 0


def test_one_persons_commands_run_in_order_while_anothers_run_beside(slack):
    """Alice's second command waits for her first, held; Bob's runs meanwhile."""
    slack.adapter.inbox.pool = WorkPool("slack-test", threads=2, queue=4)
    gate = threading.Event()
    ran = held(slack.adapter.inbox, gate, lambda p: p.get("trigger_id") == "trig-a1")
    try:
        for handle, text, trigger in (("alice", "me", "trig-a1"), ("alice", "help", "trig-a2"),
                                      ("bob", "me", "trig-b1")):
            body = urlencode(slack.slash(handle, text, trigger))
            assert slack.post(body, FORM).status_code == 200
        wait_until(lambda: ran, "request run")
        # a free thread took Bob's, sent after Alice's second, which waits its turn
        assert [p["trigger_id"] for p in ran] == ["trig-b1"]
        assert "Bob Li" in slack.fake.wait_for_response(1)["text"]
    finally:
        gate.set()
    slack.adapter.inbox.pool.stop()
    assert [p["trigger_id"] for p in ran] == ["trig-b1", "trig-a1", "trig-a2"]
    assert ["Alice Chen" in r["text"] for r in slack.fake.responses[1:]] == [True, False]


# --- a real install: Slack's own rules, kept by the fake (tests/fake_slack.py) -------
def busy_pool(slack) -> threading.Event:
    """Every stored request waits on the pool until the returned gate is set."""
    gate = threading.Event()
    held(slack.adapter.inbox, gate, lambda payload: True)
    return gate


def test_a_modal_opens_though_the_pool_is_slower_than_its_trigger_lives(slack):
    """A trigger opens one view within 3 s of its request: the modal is opened in the
    listener, not on the pool after the ack (nor again by a worker running a stored
    request)."""
    slack.command("alice", "comp 500 refund #A7 broken on arrival")
    slack.dispatch()
    card = slack.dm("wang")[0]
    message = {"ts": "1700.0002", "blocks": card["blocks"], "text": card["text"]}
    shortcut = {"type": "message_action", "callback_id": "log_praise", "trigger_id": "trigS",
                "user": {"id": USERS["wang"]}, "team": {"id": "T0001"},
                "channel": {"id": "CFEEDBACK"}, "response_url": f"{slack.api_url}/respond/s",
                "message": {"type": "message", "user": USERS["alice"], "ts": "1.2",
                            "text": "Alice found my size"}}
    stored = count(slack.engine, InboxItem)
    gate = busy_pool(slack)
    try:
        assert slack.post(urlencode(slack.slash("alice", "comp")), FORM).status_code == 200
        assert slack.click("wang", "decline C1", message, "DWANG").status_code == 200
        assert slack.interact(shortcut).status_code == 200
        slack.fake.clock.advance(TRIGGER_SECONDS + 0.5)  # the pool's turn comes too late
    finally:
        gate.set()
    settled(slack.adapter.inbox.pool)
    opened = [call["view"]["callback_id"] for call in slack.fake.sent("views.open")]
    assert opened == ["form:comp", "decline_reason", "log_praise"]
    assert slack.fake.refused == []
    assert count(slack.engine, InboxItem) == stored  # no worker will exchange them again


def test_the_fake_exchanges_a_trigger_once_within_3_seconds(slack):
    modal = blocks.form_modal(FORMS["comp"], "en")
    client = slack.adapter.client
    slack.fake.issue("trigOnce")
    client.views_open(trigger_id="trigOnce", view=modal)
    slack.fake.issue("trigLate")
    slack.fake.clock.advance(TRIGGER_SECONDS + 0.1)
    for trigger, error in (("trigOnce", "exchanged_trigger_id"),
                           ("trigLate", "expired_trigger_id"), ("never", "invalid_trigger_id")):
        with pytest.raises(SlackApiError) as refused:
            client.views_open(trigger_id=trigger, view=modal)
        assert refused.value.response["error"] == error


def test_a_command_typed_in_the_bots_messages_tab_is_answered_there(slack):
    """message.im: what someone types to the bot is a command; a colleague picked from
    the @ list arrives as <@U…> (no name: users.info gives it)."""
    def dm(handle: str, text: str, ts: str, **more) -> dict:
        return {"type": "message", "channel_type": "im", "channel": f"D{handle.upper()}",
                "user": USERS.get(handle, STRANGER), "text": text, "ts": ts, "event_ts": ts,
                **more}

    def answers(channel: str) -> list[dict]:
        return [p for p in slack.fake.sent("chat.postMessage") if p["channel"] == channel]

    slack.fake.ims.update({USERS["alice"]: "DALICE", USERS["wang"]: "DWANG"})
    assert slack.event(dm("alice", "me", "1.0001"), "EvM1").status_code == 200
    assert "Alice Chen" in text_of(slack.fake.wait_for(lambda: answers("DALICE"))[0])
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert slack.event(dm("alice", "me", "1.0001"), "EvM1", headers=retry).status_code == 200
    own = dm("alice", "Alice Chen", "1.0002", bot_id="B01", subtype="bot_message")
    assert slack.event(own, "EvM2").status_code == 200

    praise = f"praise <@{USERS['alice']}> fish &amp; chips &lt;3"
    assert slack.event(dm("wang", praise, "2.0001"), "EvM3").status_code == 200
    assert "P1" in text_of(slack.fake.wait_for(lambda: answers("DWANG"))[0])
    (logged,) = rows(slack.engine, Praise)
    assert (logged.employee_id, logged.text) == (employee(slack.engine, "alice").id,
                                                 "fish & chips <3")
    unlinked = dm("wang", f"praise <@{STRANGER}> kind words", "2.0002")
    assert slack.event(unlinked, "EvM4").status_code == 200
    refusal = text_of(slack.fake.wait_for(lambda: answers("DWANG")[1:])[0])
    assert "stranger" in refusal and "还没有在这个聊天平台上关联" in refusal
    settled(slack.adapter.inbox.pool)
    assert len(answers("DALICE")) == 1 and count(slack.engine, Praise) == 1


def test_slash_command_text_arrives_escaped_and_reads_as_typed(slack):
    """With should_escape, Slack sends a picked colleague as <@U…|name>, a link as
    <url|label> and &, <, > as entities."""
    typed = (f"praise <@{USERS['alice']}|alice> fish &amp; chips &lt;3 "
             "<https://shop.example/r/7|shop.example/r/7>")
    assert "P1" in text_of(slack.command("wang", typed))
    (logged,) = rows(slack.engine, Praise)
    assert logged.employee_id == employee(slack.engine, "alice").id
    assert (logged.text, logged.attachment_ref) == ("fish & chips <3",
                                                    "https://shop.example/r/7")


def long_reply(messages: int = 24) -> Reply:
    """Longer than one message takes, and a section once escaped (& is &amp;)."""
    name = "Fish & chips <3 " * 160  # 2,560 characters, 3,360 escaped
    return Reply([Message("error.mention_unlinked", {"name": name + str(n)})
                  for n in range(messages)])


def whole(texts: list[str]) -> str:
    return "".join("".join(texts).split())


def test_a_direct_message_longer_than_slack_takes_arrives_whole_in_pieces(slack):
    reply = long_reply()
    assert len(render_reply(reply, "en")) > MESSAGE_TEXT
    alice = employee(slack.engine, "alice")
    SlackChannel(slack.adapter.client).deliver(Notification(
        0, "person", alice, None, reply.messages[0], (), {"slack": USERS["alice"]}))
    notification = Notification(0, "person", alice, None, Message(
        "error.mention_unlinked", {"name": "x" * (MESSAGE_TEXT + 10)}), (),
        {"slack": USERS["alice"]})
    SlackChannel(slack.adapter.client).deliver(notification)  # one line past the limit
    assert slack.fake.refused == []
    posted = slack.dm("alice")
    assert len(posted) > 2
    expected = [render_message(reply.messages[0], "en"), notification.text("en")]
    assert whole([unescape(p["text"]) for p in posted]) == whole(expected)
    sections = [unescape(b["text"]["text"]) for p in posted for b in p["blocks"]]
    assert all(len(b["text"]["text"]) <= SECTION_TEXT for p in posted for b in p["blocks"])
    assert whole(sections) == whole(expected)


def test_a_long_answer_uses_its_response_url_five_times_then_direct_messages(slack):
    url = f"{slack.api_url}/respond/trigLong"
    slack.fake.issue("trigLong", url)
    reply = long_reply(70)  # more than 5 messages' worth (Slack counts it escaped)
    slack.adapter._answer(Respond(response_url=url), slack.adapter.client, USERS["alice"],
                          reply, "en")
    at_url = [unescape(r["text"]) for r in slack.fake.responses]
    dms = [unescape(p["text"]) for p in slack.dm("alice")]
    assert len(at_url) == RESPONSE_URL_USES and dms and slack.fake.refused == []
    assert whole(at_url + dms) == whole([render_reply(reply, "en")])
    sixth = httpx.post(url, json={"text": "once more"})
    assert (sixth.status_code, sixth.text) == (404, "used_url")


def test_an_answer_later_than_its_response_url_lives_comes_by_direct_message(slack):
    gate = busy_pool(slack)
    try:
        assert slack.post(urlencode(slack.slash("alice", "me")), FORM).status_code == 200
        slack.fake.clock.advance(RESPONSE_URL_SECONDS + 1)  # a worker's sweep, much later
    finally:
        gate.set()
    answer = slack.fake.wait_for(lambda: slack.dm("alice"), what="alice's answer")[0]
    assert "Alice Chen" in text_of(answer)
    assert slack.fake.refused == [("respond", "expired_url")]


def test_posts_to_one_channel_faster_than_slack_takes_wait_out_its_429(slack):
    """About one post a second per channel: the fake answers 429 with Retry-After past
    a short burst, and the client waits it out (on the fake's clock) and sends again."""
    waited = []

    class OnTheFakesClock(RateLimitErrorRetryHandler):
        def prepare_for_next_attempt(self, *, state, request, response=None, error=None):
            seconds = int(next(v for k, v in response.headers.items()
                               if k.lower() == "retry-after")[0])
            waited.append(seconds)
            slack.fake.clock.advance(seconds)
            state.next_attempt_requested = True
            state.increment_current_attempt()

    client = slack.adapter.client
    client.retry_handlers = [OnTheFakesClock(max_retry_count=3) if
                             isinstance(h, RateLimitErrorRetryHandler) else h
                             for h in client.retry_handlers]
    for n in range(POST_BURST + 2):
        slack.command("alice", f"comp 500 refund #A{n} broken on arrival")
    assert slack.dispatch() == POST_BURST + 2
    assert ("chat.postMessage", "ratelimited") in slack.fake.refused and waited
    refs = [c["text"] for c in slack.dm("wang")]
    assert [sum(f"C{n}" in text for text in refs) for n in range(1, POST_BURST + 3)] == \
        [1] * (POST_BURST + 2)


def test_doctor_names_a_refused_token_and_each_missing_scope(org, fake):
    with running(org, fake) as slack:
        healthy = asyncio.run(SlackPlatform(slack.adapter).findings())
        assert [f.said.key for f in healthy] == ["doctor.slack.token", "doctor.slack.scopes"]
        fake.withhold("users:read")
        fake.withhold("commands")
        failing = [f for f in asyncio.run(SlackPlatform(slack.adapter).findings()) if not f.ok]
        assert sorted(f.said.params["scope"] for f in failing) == ["commands", "users:read"]
        fix = render_message(failing[0].fix, "en")
        assert "OAuth & Permissions" in fix and "Bot Token Scopes" in fix and "reinstall" in fix
        wrong = SlackAdapter(org, slack.adapter.config, "xoxb-revoked", SIGNING_SECRET)
        (refused,) = asyncio.run(SlackPlatform(wrong).findings())
        assert not refused.ok and refused.said.params["error"] == "invalid_auth"
        assert "SLACK_BOT_TOKEN" in render_message(refused.fix, "zh")
        assert set(SCOPES) >= {"chat:write", "commands", "im:history", "users:read"}


def test_the_app_manifest_asks_for_what_frontline_uses():
    """The manifest an installer pastes grants the scopes doctor checks, subscribes to
    typed DMs and has colleagues' mentions escaped into <@U…>."""
    import yaml

    manifest = yaml.safe_load((Path(__file__).parent.parent / "slack-app-manifest.yml")
                              .read_text(encoding="utf-8"))
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(SCOPES)
    assert "message.im" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert all(command["should_escape"] for command in manifest["features"]["slash_commands"])
