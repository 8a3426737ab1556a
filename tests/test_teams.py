"""The Teams platform over real HTTP on 127.0.0.1: activities posted to /api/messages
with tokens signed here, whose keys the bot fetches from a local OpenID/JWKS
endpoint, and a local fake of the Bot Connector (the activities' serviceUrl) that
records replies, card updates and proactive posts."""

import asyncio
import itertools
import json
import logging
import time
import zipfile
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from bot.cli import main
from bot.kit.config import ConfigError
from bot.kit.outbox import dispatch_pending
from bot.platforms.teams import cards, dialogs, limits, manifest, references
from bot.platforms.teams.channels import channels
from bot.platforms.teams.manifest import ROOT
from bot.platforms.teams.platform import build
from handlers import linking
from handlers.base import Message, Reply
from handlers.dispatch import execute
from handlers.grammar import parse
from handlers.i18n import render_message
from rituals import schedule
from storage.engine import transaction
from storage.models import (
    ChatIdentity,
    Compensation,
    InboxItem,
    LedgerEntry,
    Outbox,
    Praise,
    Recording,
    TeamsConversation,
    Thanks,
    TouchingMark,
    Waiver,
)
from tests.fake_teams import APP_ID, TENANT, FakeTeams, dialog_problems, new_key, personal_id
from tests.platforms.teams import (
    GENERAL,
    NOTE,
    Bot,
    mention,
    running,
    serving,
    teams_config,
)
from tests.support import count, employee, rows

pytestmark = pytest.mark.http


@pytest.fixture
def fake():
    return FakeTeams()


@pytest.fixture
def teams(org, fake):
    """The platform behind /api/messages, wang, alice, bob and hana linked."""
    with running(org, fake, all_staff_channel=GENERAL) as bot:
        yield bot


def test_commands_in_personal_chat_are_answered_through_the_connector(teams, fake):
    assert "授权" in teams.say("aad-wang", "我")  # wang reads Chinese
    assert "Authority: up to 200.00 CNY" in teams.say("aad-alice", "me")
    assert "recorded on your own authority" in teams.say("aad-alice", "comp 50 gift flowers")
    assert "Usage: comp" in teams.say("aad-alice", "comp lots")
    assert "not registered" in teams.say("aad-stranger", "me")
    reply = fake.sent("reply")[0]
    assert reply["conversation"] == "a:personal-aad-wang"
    assert reply["activity_id"].startswith("act-")
    assert len(fake.tokens_issued) == 1  # the bot's own token is cached


def test_a_full_pool_refuses_a_reaction_and_still_answers_an_invoke(teams):
    """(A message meeting a full pool: tests/platforms/test_conformance.py.)"""
    gate = teams.narrow(threads=1, queue=0)
    reaction = teams.activity("aad-hana", type="messageReaction", replyToId="m1",
                              reactionsAdded=[{"type": "heart"}])
    try:
        assert teams.post(reaction).status_code == 503  # nobody to tell: Teams may retry
        # an invoke is answered in its response, past the full pool
        dialog = invoke(teams, "aad-alice", "task/fetch", {"data": {"form": "comp"}})
        assert dialog["task"]["value"]["title"] == "Log compensation"
    finally:
        gate.set()
    assert count(teams.engine, InboxItem) == 0


def test_in_a_channel_only_a_mention_of_the_bot_is_a_command(teams, fake):
    mention = {"type": "mention", "text": "<at>Frontline</at>",
               "mentioned": {"id": f"28:{APP_ID}", "name": "Frontline"}}
    said = teams.say("aad-alice", "<at>Frontline</at> me", conversation=GENERAL,
                     kind="channel", entities=[mention])
    assert "Authority: up to 200.00 CNY" in said
    other = {**mention, "mentioned": {"id": "29:someone", "name": "Bob"}}
    assert teams.say("aad-alice", "<at>Bob</at> comp 50 gift x", conversation=GENERAL,
                     kind="channel", entities=[other]) == ""
    assert count(teams.engine, Compensation) == 0
    # the channel was remembered, with what a proactive post needs
    with transaction(teams.engine) as session:
        row = session.get(TeamsConversation, GENERAL)
        assert row.kind == "channel" and row.reference["serviceUrl"] == f"{fake.url}/"


class Recorded(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize("problem", ["wrong_audience", "expired", "missing",
                                     "wrong_issuer", "unknown_key", "other_service_url",
                                     "no_service_url", "service_url_not_text",
                                     "not_bearer", "not_endorsed"])
def test_a_request_without_a_valid_token_is_refused_and_changes_nothing(teams, fake, problem,
                                                                        caplog):
    """(A token the issuer did not sign: tests/platforms/test_conformance.py.)"""
    tokens = {
        "wrong_audience": fake.mint(aud="someone-else"),
        "expired": fake.mint(exp=int(time.time()) - 3600, nbf=int(time.time()) - 7200),
        "missing": None,
        "wrong_issuer": fake.mint(iss="https://evil.example"),
        "unknown_key": fake.mint(key=new_key(), kid="other-key"),
        "other_service_url": fake.mint(serviceurl="https://elsewhere.example/"),
        "no_service_url": fake.mint(serviceurl=None),  # signed right, the claim left out
        "service_url_not_text": fake.mint(serviceurl=42),
        "not_bearer": "",
        "not_endorsed": fake.mint(),  # a key that signs for Teams, on another channel's activity
    }
    activity = teams.activity("aad-alice", text="comp 50 gift flowers")
    if problem == "not_endorsed":
        activity["channelId"] = "webchat"
    served = Recorded()  # uvicorn logs an app's exception to its own logger, not the root
    logging.getLogger("uvicorn.error").addHandler(served)
    try:
        if problem == "not_bearer":
            response = httpx.post(f"{teams.url}/api/messages", json=activity,
                                  headers={"Authorization": "Basic abc"})
        else:
            response = teams.post(activity, token=tokens[problem])
    finally:
        logging.getLogger("uvicorn.error").removeHandler(served)
    assert response.status_code == 401
    assert count(teams.engine, Compensation) == 0
    assert fake.sent("reply") == [] and count(teams.engine, TeamsConversation) == 0
    assert fake.key_fetches >= (problem not in ("missing", "not_bearer"))
    assert not [r for r in caplog.records if r.exc_info], "refused plainly, no traceback"
    assert not [r for r in served.records if r.exc_info], "and none from the server"


def test_a_malformed_body_is_refused_plainly(teams):
    response = httpx.post(f"{teams.url}/api/messages", content=b"{not json",
                          headers={"Authorization": f"Bearer {teams.fake.mint()}",
                                   "Content-Type": "application/json"})
    assert response.status_code == 400
    response = teams.post({"type": "message"})
    assert response.status_code == 400
    without_id = teams.activity("aad-alice", text="comp 50 gift flowers")
    del without_id["id"]
    assert teams.post(without_id).status_code == 400
    assert count(teams.engine, Compensation) == 0


def approval_card(teams, fake):
    teams.say("aad-wang", "me")  # wang's personal chat is known from here on
    teams.say("aad-alice", "comp 350 refund #B9 broken vase")
    teams.deliver()
    sent = [p for p in fake.sent("send") if p["conversation"] == "a:personal-aad-wang"]
    assert len(sent) == 1
    card = sent[0]["activity"]["attachments"][0]["content"]
    return sent[0], card


def test_an_approval_card_is_redrawn_decided_and_a_redelivered_click_answered_alike(
        teams, fake):
    """(Who may decide, and only once: tests/platforms/test_conformance.py.)"""
    post, card = approval_card(teams, fake)
    assert "C1" in card["body"][0]["text"] and "350" in card["body"][0]["text"]
    approve = card["actions"][0]
    assert approve["type"] == "Action.Execute" and approve["title"] == "批准"
    assert approve["data"]["command"] == "approve C1"
    decline = card["actions"][1]
    assert decline["type"] == "Action.ShowCard"
    assert decline["card"]["body"][0]["id"] == "reason"

    refused = teams.click("aad-bob", approve["data"], reply_to=post["id"])
    assert refused["type"] == NOTE  # shown on the card, which stays as it was
    assert fake.sent("update") == []

    decided = teams.click("aad-wang", approve["data"], reply_to=post["id"],
                          conversation="a:personal-aad-wang", activity_id="inv-1")
    assert decided["statusCode"] == 200
    assert decided["type"] == "application/vnd.microsoft.card.adaptive"
    redrawn = decided["value"]
    assert "actions" not in redrawn
    texts = [block["text"] for block in redrawn["body"]]
    assert "350" in texts[0] and "已批准 C1" in texts[1] and "王芳" in texts[2]
    update = fake.sent("update")[-1]
    assert update["activity_id"] == post["id"]
    assert update["activity"]["attachments"][0]["content"] == redrawn

    again = teams.click("aad-wang", approve["data"], reply_to=post["id"],
                        conversation="a:personal-aad-wang", activity_id="inv-1")
    assert again == decided  # the same click delivered twice: the same answer
    second = teams.click("aad-wang", approve["data"], reply_to=post["id"],
                         conversation="a:personal-aad-wang")
    assert second["type"] == NOTE
    # the redelivered click redrew the same card; the second click redrew nothing
    assert [u["activity"] for u in fake.sent("update")] == [update["activity"]] * 2


def test_decline_asks_for_the_reason_in_the_card(teams, fake):
    post, card = approval_card(teams, fake)
    data = card["actions"][1]["card"]["actions"][0]["data"]
    assert data["command"] == "decline C1"
    not_his = teams.click("aad-bob", {**data, "reason": ""}, reply_to=post["id"])
    assert "Only the assigned approver" in not_his["value"]
    empty = teams.click("aad-wang", {**data, "reason": "  "}, reply_to=post["id"])
    assert empty["type"] == "application/vnd.microsoft.activity.message"
    assert "Only the assigned" not in empty["value"] and empty["value"]
    assert rows(teams.engine, Compensation)[0].status == "pending"
    declined = teams.click("aad-wang", {**data, "reason": "not within policy"},
                           reply_to=post["id"])
    assert declined["type"] == "application/vnd.microsoft.card.adaptive"
    assert rows(teams.engine, Compensation)[0].status == "declined"
    teams.deliver()
    assert "not within policy" in teams.fake.texts_to("a:personal-aad-alice")[-1]


def test_praise_goes_to_the_channel_with_a_touching_button_after_a_restart(
        teams, fake, monkeypatch):
    installed = teams.activity("aad-hana", conversation=GENERAL, kind="channel",
                               type="conversationUpdate", membersAdded=[{"id": f"28:{APP_ID}"}],
                               channelData={"team": {"id": GENERAL}, "tenant": {"id": TENANT}})
    assert teams.post(installed).status_code == 200  # added to the team: its reference kept
    teams.say("aad-wang", "praise @alice The customer wrote to thank her")
    # a new worker: nothing but the database and the config
    restarted = build(teams.engine, teams_config(fake.url, all_staff_channel=GENERAL))
    assert dispatch_pending(teams.engine, restarted.channels()) >= 1
    posts = [p for p in fake.sent("send") if p["conversation"] == GENERAL]
    assert len(posts) == 1
    card = posts[0]["activity"]["attachments"][0]["content"]
    assert "The customer wrote to thank her" in card["body"][0]["text"]
    touching = card["actions"][0]
    assert touching["title"].startswith("❤️") and touching["data"]["command"] == "touching P1"
    answer = teams.click("aad-bob", touching["data"], reply_to=posts[0]["id"],
                         conversation=GENERAL)
    assert answer["type"] == "application/vnd.microsoft.activity.message"
    assert "P1" in answer["value"]
    assert teams.click("aad-alice", touching["data"], conversation=GENERAL)["value"] \
        .startswith("You cannot mark your own praise")
    # a heart on the post counts too, once
    reaction = teams.activity("aad-hana", conversation=f"{GENERAL};messageid={posts[0]['id']}",
                              kind="channel", type="messageReaction",
                              replyToId=posts[0]["id"], reactionsAdded=[{"type": "heart"}])
    for _ in range(2):
        assert teams.post(reaction).status_code == 200
    teams.settle()
    assert count(teams.engine, TouchingMark) == 2  # bob's click and hana's heart
    assert count(teams.engine, TeamsConversation, conversation_id=GENERAL) == 1
    assert count(teams.engine, TeamsConversation, kind="channel") == 1  # not one per thread


def test_a_long_retry_after_or_a_server_error_is_retried_by_the_outbox(teams, fake):
    teams.say("aad-wang", "me")
    teams.say("aad-alice", "comp 350 refund #B9 broken vase")
    fake.fail("send", status=429, retry_after=120)
    assert teams.deliver() == 0
    fake.fail("send", status=500)
    assert teams.deliver(hours_later=1) == 0
    assert fake.sent("send") == []
    assert teams.deliver(hours_later=2) == 1
    assert teams.deliver(hours_later=3) == 0
    assert len([p for p in fake.sent("send")
                if p["conversation"] == "a:personal-aad-wang"]) == 1


def invoke(teams, user: str, name: str, value: dict, activity_id=None) -> dict:
    activity = teams.activity(user, type="invoke", name=name, value=value)
    if activity_id:
        activity["id"] = activity_id
    response = teams.post(activity)
    assert response.status_code == 200, response.text
    answer = response.json()
    if "task" in answer:  # a dialog: as Teams would show it
        assert dialog_problems(answer) == []
    return answer


def inputs(dialog: dict) -> dict:
    card = dialog["task"]["value"]["card"]["content"]
    return {block["id"]: block for block in card["body"] if "id" in block}


def field_errors(dialog: dict) -> dict[str, str]:
    """The error shown under each input of a dialog's card."""
    body = dialog["task"]["value"]["card"]["content"]["body"]
    return {before["id"]: block["text"] for before, block in itertools.pairwise(body)
            if "id" in before and block.get("color") == "attention"}


def test_comp_alone_opens_the_dialog_and_errors_show_on_the_fields(teams, fake):
    teams.say("aad-alice", "comp")
    card = fake.cards("reply")[-1]
    assert "200.00" in card["body"][0]["text"]  # her authority, on top
    button = card["actions"][0]
    assert button["type"] == "Action.Submit" and button["data"]["msteams"]["type"] == "task/fetch"
    dialog = invoke(teams, "aad-alice", "task/fetch", {"data": button["data"]})
    assert dialog["task"]["type"] == "continue"
    assert dialog["task"]["value"]["title"] == "Log compensation"
    assert set(inputs(dialog)) == {"amount", "kind", "customer_ref", "reason"}
    assert {c["value"] for c in inputs(dialog)["kind"]["choices"]} >= {"refund", "gift"}

    bad = invoke(teams, "aad-alice", "task/submit", {"data": {
        "form": "comp", "amount": "lots", "kind": "gift", "reason": ""}})
    assert set(field_errors(bad)) == {"amount", "reason"}
    assert inputs(bad)["amount"]["value"] == "lots"  # what was typed is kept
    assert count(teams.engine, Compensation) == 0

    good = {"form": "comp", "amount": "50", "kind": "gift", "reason": "flowers"}
    done = invoke(teams, "aad-alice", "task/submit", {"data": good}, activity_id="sub-1")
    assert done["task"]["type"] == "message"
    assert "recorded on your own authority" in done["task"]["value"]
    assert invoke(teams, "aad-alice", "task/submit", {"data": good}, activity_id="sub-1") == done
    assert count(teams.engine, Compensation) == 1
    assert "recorded on your own authority" in fake.text_of(fake.sent("reply")[-1])


def test_the_waiver_report_dialog(teams, fake):
    teams.say("aad-alice", "waiver no refunds without receipt @ 1h")
    teams.say("aad-alice", "waiver report W1")
    button = fake.cards("reply")[-1]["actions"][0]
    assert button["data"]["form"] == "waiver" and button["data"]["waiver"] == "W1"
    dialog = invoke(teams, "aad-alice", "task/fetch", {"data": button["data"]})
    assert inputs(dialog)["waiver"]["value"] == "W1"
    bad = invoke(teams, "aad-alice", "task/submit", {"data": {
        "form": "waiver", "waiver": "W1", "done_instead": "refunded anyway", "why": "",
        "cost": "a lot"}})
    assert set(field_errors(bad)) == {"why", "cost"}
    not_hers = invoke(teams, "aad-bob", "task/submit", {"data": {
        "form": "waiver", "waiver": "W1", "done_instead": "x", "why": "y"}})
    assert "waiver" in field_errors(not_hers)
    done = invoke(teams, "aad-alice", "task/submit", {"data": {
        "form": "waiver", "waiver": "W1", "done_instead": "refunded anyway",
        "why": "regular customer", "cost": "45"}})
    assert done["task"]["type"] == "message"
    with transaction(teams.engine) as session:
        assert session.get(Waiver, 1).status != "open"


def extension(payload_user="aad-alice", command="logPraise"):
    return {"commandId": command, "commandContext": "message", "messagePayload": {
        "body": {"contentType": "html",
                 "content": "<p>Thank you &amp; well done<br>to Alice</p>"},
        "from": {"user": {"id": "29:x", "aadObjectId": payload_user, "displayName": "Alice"}},
        "attachments": [{"contentType": "reference", "name": "letter.pdf",
                         "contentUrl": "https://files.example/letter.pdf"}]}}


def test_log_as_customer_praise_prefills_the_form_for_supervisors_and_hr(teams, fake):
    refused = invoke(teams, "aad-bob", "composeExtension/fetchTask", extension())
    assert refused["task"]["value"].startswith("Only supervisors and HR can log praise")
    dialog = invoke(teams, "aad-hana", "composeExtension/fetchTask", extension())
    shown = inputs(dialog)
    assert shown["employee"]["value"] == "aad-alice"  # the author, picked
    assert shown["text"]["value"] == "Thank you & well done to Alice"
    assert shown["attachment"]["value"] == "https://files.example/letter.pdf"

    bad = invoke(teams, "aad-hana", "composeExtension/submitAction", {
        **extension(), "data": {"employee": "aad-alice", "text": " "}})
    assert set(field_errors(bad)) == {"text"}
    unknown = invoke(teams, "aad-hana", "composeExtension/submitAction", {
        **extension(), "data": {"employee": "aad-nobody", "text": "great"}})
    assert set(field_errors(unknown)) == {"employee"}
    assert count(teams.engine, Praise) == 0
    data = {key: block["value"] for key, block in shown.items()}
    done = invoke(teams, "aad-hana", "composeExtension/submitAction",
                  {**extension(), "data": data}, activity_id="ext-1")
    answer = done["composeExtension"]
    assert answer["type"] == "message" and "P1" in answer["text"]
    invoke(teams, "aad-hana", "composeExtension/submitAction", {**extension(), "data": data},
           activity_id="ext-1")
    praise = rows(teams.engine, Praise)
    assert len(praise) == 1 and praise[0].attachment_ref == "https://files.example/letter.pdf"


def test_the_praise_dialog_credits_every_colleague_picked_once_though_sent_again(teams):
    """People Picker, several colleagues: the typed team praise (`praise @alice @bob …`),
    run once for the invoke, however often Teams sends it."""
    picker = inputs(invoke(teams, "aad-wang", "composeExtension/fetchTask",
                           extension()))["employee"]
    assert picker["isMultiSelect"] and picker["choices.data"]["dataset"] == \
        "graph.microsoft.com/users"
    data = {"employee": "aad-alice,aad-bob", "text": "You all found my size"}
    done = [invoke(teams, "aad-wang", "composeExtension/submitAction",
                   {**extension(), "data": data}, activity_id="team-1") for _ in range(2)]
    assert done[0] == done[1] and "P1" in done[0]["composeExtension"]["text"]
    praised = rows(teams.engine, Praise)
    assert sorted(p.employee_id for p in praised) == sorted(
        employee(teams.engine, handle).id for handle in ("alice", "bob"))
    credits = [e for e in rows(teams.engine, LedgerEntry) if e.source_type == "praise"]
    assert len(credits) == 2 and len({e.employee_id for e in credits}) == 2


def test_a_praise_dialog_naming_nobody_or_the_sender_is_refused_in_their_language(teams):
    def submit(people: str) -> dict:  # wang reads Chinese
        return field_errors(invoke(teams, "aad-wang", "composeExtension/submitAction", {
            **extension(), "data": {"employee": people, "text": "kind words"}}))

    assert submit("") == {"employee": "请至少选择一位同事。"}
    assert submit("aad-alice,aad-wang") == {
        "employee": render_message(Message("refuse.self_praise"), "zh")}
    assert count(teams.engine, Praise) == 0 and count(teams.engine, LedgerEntry) == 0


def test_thank_the_author_reaches_the_colleague(teams, fake):
    thanks = extension("aad-bob", "thankAuthor")
    shown = inputs(invoke(teams, "aad-alice", "composeExtension/fetchTask", thanks))
    assert shown["colleague"]["value"] == "aad-bob" and not shown["colleague"]["isMultiSelect"]
    assert shown["team"]["type"] == "Input.Toggle" and shown["team"]["value"] == "false"
    mine = invoke(teams, "aad-alice", "composeExtension/submitAction", {
        **thanks, "data": {"colleague": "aad-alice", "why": "for me", "team": "false"}})
    assert field_errors(mine) == {"colleague": "You cannot thank yourself."}
    data = {"colleague": "aad-bob", "why": "covering my shift", "team": "true"}
    done = invoke(teams, "aad-alice", "composeExtension/submitAction", {**thanks, "data": data},
                  activity_id="thanks-1")
    assert "Your thanks went to Bob Li and to their team" in done["composeExtension"]["text"]
    fake.install("aad-bob", "Bob Li")  # the bot may open his personal chat
    teams.deliver()
    told = [fake.text_of(p) for p in fake.sent("send")
            if p["conversation"] == personal_id("aad-bob")]
    assert any("covering my shift" in text for text in told)
    (kept,) = rows(teams.engine, Thanks)
    assert kept.public and kept.why == "covering my shift"


def test_the_fake_refuses_a_dialog_teams_would_not_show():
    picker = cards.people_picker("employee", "Who", "aad-a,aad-b", several=True)
    shown = cards.dialog("Praise", cards.card([picker]))
    assert dialog_problems(shown) == []
    for broken in ({**picker, "isMultiSelect": False},  # one person, two ids
                   {**picker, "choices.data": {"type": "Data.Query", "dataset": "users"}},
                   {"type": "Input.Toggle", "id": "team", "value": "maybe"}):
        assert dialog_problems(cards.dialog("Praise", cards.card([broken]))) != []
    assert dialog_problems(cards.dialog("Praise", {**cards.card([picker]), "version": "1.0"}))


def audio(teams, name: str, data: bytes) -> dict:
    teams.fake.files[name] = (data, "audio/mpeg")
    return {"contentType": "application/vnd.microsoft.teams.file.download.info",
            "name": name, "content": {"downloadUrl": f"{teams.fake.url}/files/{name}",
                                      "uniqueId": f"u-{name}", "fileType": "mp3"}}


def test_an_audio_file_with_praise_becomes_its_recording(teams, fake, monkeypatch):
    said = teams.say("aad-wang", "praise @alice she stayed after closing",
                     attachments=[audio(teams, "call.mp3", b"ID3-voice")])
    assert "P1" in said
    kept = rows(teams.engine, Recording)
    assert [(r.data, r.content_type, r.source) for r in kept] == [
        (b"ID3-voice", "audio/mpeg", "teams:file:u-call.mp3")]
    assert rows(teams.engine, Praise)[0].attachment_ref == f"recording:{kept[0].id}"

    teams.say("aad-wang", "praise @bob kind words on the phone")
    assert "P2" in teams.say("aad-wang", "", attachments=[audio(teams, "late.mp3", b"more")])
    assert len(rows(teams.engine, Recording)) == 2

    monkeypatch.setattr("bot.platforms.teams.files.RECORDING_LIMIT", 4)
    refused = teams.say("aad-wang", "praise @alice again", attachments=[
        audio(teams, "long.mp3", b"far too long")])
    assert "too large" in refused or "太大" in refused
    assert len(rows(teams.engine, Praise)) == 2


def test_the_app_package_in_the_repo_is_the_one_built_and_zips_with_the_app_id(tmp_path):
    built = manifest.files()
    assert (ROOT / "teams-app-manifest.json").read_text(encoding="utf-8") == \
        built["manifest.json"]
    for name in ("zh-cn.json", "zh-tw.json"):
        assert (ROOT / "teams-app" / name).read_text(encoding="utf-8") == built[name]
    shown = json.loads(built["manifest.json"])
    english = shown["bots"][0]["commandLists"][0]["commands"]
    assert [c["title"] for c in english][:3] == ["comp", "waiver", "praise"]
    assert len(english) <= 10 and all(len(c["title"]) <= 32 for c in english)
    chinese = json.loads(built["zh-cn.json"])
    assert chinese["bots[0].commandLists[0].commands[0].title"] == "补偿"
    assert [c["id"] for c in shown["composeExtensions"][0]["commands"]] == list(
        dialogs.EXTENSIONS)

    config = tmp_path / "frontline.toml"
    config.write_text(f'[platforms.teams]\napp_id = "{APP_ID}"\n', encoding="utf-8")
    out = tmp_path / "frontline-teams.zip"
    assert main(["--config", str(config), "teams-package", "--out", str(out),
                 "--host", "frontline.acme.example"]) == 0
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png",
                                              "zh-cn.json", "zh-tw.json"]
        packaged = json.loads(archive.read("manifest.json"))
        assert archive.read("color.png").startswith(b"\x89PNG")
    assert packaged["id"] == packaged["bots"][0]["botId"] == APP_ID
    assert packaged["validDomains"] == ["frontline.acme.example"]


def test_install_stores_the_reference_and_a_link_code_links_a_person(teams, fake):
    """Installed in personal scope, the bot can write to someone who never wrote to it;
    `link CODE` ties an Entra object id to a person of the directory."""
    lilei = employee(teams.engine, "lilei")
    with transaction(teams.engine) as session:
        code = linking.issue_code(session, lilei, "link:teams", datetime.now(UTC),
                                  timedelta(hours=1))
    installed = teams.activity("aad-lilei", type="conversationUpdate",
                               membersAdded=[{"id": f"28:{APP_ID}"}])
    assert teams.post(installed).status_code == 200
    teams.settle()
    assert fake.calls == [] and count(teams.engine, TeamsConversation) == 1
    assert "not registered" in teams.say("aad-lilei", "me")
    assert "now linked to you" in teams.say("aad-lilei", f"link {code}")
    assert count(teams.engine, ChatIdentity, platform="teams", platform_user_id="aad-lilei") == 1
    teams.say("aad-lilei", "comp 350 refund #B7 broken vase")  # over her authority
    teams.say("aad-wang", "approve C1")
    teams.deliver()
    assert any("C1" in text for text in fake.texts_to("a:personal-aad-lilei"))


def test_the_morning_ritual_posts_in_the_teams_channel(org, fake):
    """A team's ritual post goes to that team's channel, not the all-staff one."""
    harbour = "19:harbour@thread.tacv2"
    at = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    execute(org, teams_config("http://unused"), "console", "wang",
            parse("praise @alice kind words at the counter"), now=at)
    with running(org, fake, people={}, all_staff_channel=GENERAL,
                 team_channels={"Harbour Street Store": harbour}) as bot:
        for channel in (GENERAL, harbour):
            assert bot.post(bot.activity("aad-hana", conversation=channel, kind="channel",
                                         type="conversationUpdate",
                                         membersAdded=[{"id": f"28:{APP_ID}"}])
                            ).status_code == 200
        bot.settle()
        config = bot.platform.adapter.config
        fired = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
        ritual = next(t for t in schedule.targets(org, config, ["morning_praise"])
                      if t.team_name == "Harbour Street Store")
        assert schedule.run_once(org, config, ritual, fired, fired) == "P1"
        bot.deliver()
    posted = {p["conversation"]: fake.text_of(p) for p in fake.sent("send")}
    assert "kind words at the counter" in posted[harbour]
    assert sum(p["conversation"] == harbour for p in fake.sent("send")) == 1


def self_signed(key) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "frontline-bot")])
    now = datetime.now(UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256()))


def test_the_bot_can_prove_itself_with_a_certificate(org, fake, monkeypatch, tmp_path):
    key = new_key()
    fake.certificate = self_signed(key)
    pem = tmp_path / "bot.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
                    + fake.certificate.public_bytes(serialization.Encoding.PEM))
    monkeypatch.setenv("TEAMS_CERTIFICATE", str(pem))
    monkeypatch.delenv("TEAMS_APP_SECRET", raising=False)
    with transaction(org) as session:
        session.add(ChatIdentity(employee_id=employee(org, "alice").id, platform="teams",
                                 platform_user_id="aad-alice"))
    with fake.serve() as fake_url:
        fake.url = fake_url
        platform = build(org, teams_config(fake_url, certificate_env="TEAMS_CERTIFICATE"))
        with serving(platform) as bot_url:
            bot = Bot(bot_url, org, fake, platform)
            assert "Authority: up to 200.00 CNY" in bot.say("aad-alice", "me")
    assert len(fake.assertions) == 1 and fake.assertions[0]["aud"].endswith(
        f"/{TENANT}/oauth2/v2.0/token")
    monkeypatch.setenv("TEAMS_CERTIFICATE", str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigError, match="certificate_env"):
        build(org, teams_config("http://unused", certificate_env="TEAMS_CERTIFICATE"))


# --- a real install: what the strict fake holds the bot to ------------------------
def test_someone_who_never_wrote_to_the_bot_gets_a_personal_chat_created(teams, fake):
    """The app installed for wang (an app setup policy), no chat with him yet: the bot
    creates it from the tenant and his Entra object id, keeps it, and posts there."""
    fake.install("aad-wang")
    teams.say("aad-alice", "comp 350 refund #B9 broken vase")
    assert teams.deliver() == 1
    (created,) = fake.sent("create")
    assert created["body"]["tenantId"] == TENANT
    assert created["body"]["members"][0]["aadObjectId"] == "aad-wang"
    assert any("C1" in text for text in fake.texts_to(personal_id("aad-wang")))
    assert references.of_person(teams.engine, "aad-wang") is not None  # created once
    teams.say("aad-alice", "comp 300 refund #B10 cracked cup")
    assert teams.deliver() == 1 and len(fake.sent("create")) == 1


def test_someone_the_app_is_not_installed_for_is_named_to_hr(teams, fake):
    """Teams refuses to create the chat (403): HR is told who and why, once."""
    teams.say("aad-hana", "me")  # hana has a chat with the bot; wang has no app
    teams.say("aad-alice", "comp 350 refund #B9 broken vase")
    assert teams.deliver() == 1  # handled: not retried for ever
    assert fake.sent("create") == [] and [m for m, _ in fake.failed] == []
    told = fake.texts_to(personal_id("aad-hana"))[-1]
    wang = employee(teams.engine, "wang")
    hana = employee(teams.engine, "hana")
    assert told == render_message(Message("teams.unreachable.not_installed",
                                          {"name": wang.name}), hana.locale)
    assert not fake.texts_to(personal_id("aad-wang"))


def test_a_channel_of_a_team_is_posted_to_through_the_teams_reference(org, fake):
    """Adding the app to a team tells the bot of the General channel only."""
    all_staff = "19:all-staff@thread.tacv2"
    fake.add_channel(all_staff, GENERAL)
    with running(org, fake, all_staff_channel=all_staff) as teams:
        teams.say("aad-wang", "praise @alice The customer wrote to thank her")
        assert teams.deliver() == 0  # the app is in no team yet: Teams would refuse it
        added = teams.activity("aad-hana", conversation=GENERAL, kind="channel",
                               type="conversationUpdate", membersAdded=[{"id": f"28:{APP_ID}"}],
                               channelData={"team": {"id": GENERAL}, "tenant": {"id": TENANT}})
        assert teams.post(added).status_code == 200
        teams.settle()
        assert teams.deliver(hours_later=1) == 1
    (post,) = [p for p in fake.sent() if p["conversation"] == all_staff]
    assert "thank her" in fake.text_of(post)


def test_a_channel_of_a_team_the_app_was_not_added_to_is_refused(org, fake):
    other = "19:elsewhere@thread.tacv2"
    fake.add_channel(other, "19:other-team@thread.tacv2")
    with running(org, fake, all_staff_channel=other) as teams:
        teams.post(teams.activity("aad-hana", conversation=GENERAL, kind="channel",
                                  type="conversationUpdate", channelData={
                                      "team": {"id": GENERAL}, "tenant": {"id": TENANT}},
                                  membersAdded=[{"id": f"28:{APP_ID}"}]))
        teams.settle()
        teams.say("aad-wang", "praise @alice kind words")
        assert teams.deliver() == 0
    assert [p for p in fake.sent() if p["conversation"] == other] == []
    assert any("404" in row.last_error for row in rows(org, Outbox))  # retried later


def test_a_colleague_mentioned_in_a_channel_is_read_through_teams_members(teams, fake):
    """The mention entity names the Teams id only: the bot asks Teams for the member's
    Entra object id; the bot's own mention is taken out."""
    fake.install("aad-alice", "Alice Chen")
    shown, colleague = mention("aad-alice", "Alice Chen")
    del colleague["mentioned"]["aadObjectId"]
    bot = {"type": "mention", "text": "<at>Frontline</at>",
           "mentioned": {"id": f"28:{APP_ID}", "name": "Frontline"}}
    said = teams.say("aad-wang", f"<at>Frontline</at> praise {shown} She remembered my name",
                     conversation=GENERAL, kind="channel", entities=[bot, colleague])
    assert "P1" in said
    assert rows(teams.engine, Praise)[0].employee_id == employee(teams.engine, "alice").id
    assert fake.sent("member")[0]["member"] == "29:aad-alice"
    shown, nobody = mention("aad-nobody", "Nobody Known")
    refused = teams.say("aad-wang", f"praise {shown} kind words", entities=[nobody])
    assert "Nobody Known" in refused and count(teams.engine, Praise) == 1


def test_an_answer_longer_than_teams_takes_arrives_whole_in_pieces(teams, fake):
    teams.say("aad-wang", "me")
    long = Reply([Message("help.header")] * 2000)
    whole = cards.reply_activities(long, "zh")
    assert len(whole) > 1
    channel = channels(teams.engine, teams.platform.adapter.cloud,
                       teams.platform.adapter.config, sleep=fake.advance)[0]
    channel.write("aad-wang", whole)
    sent = [fake.text_of(p) for p in fake.sent() if p["conversation"] == personal_id("aad-wang")]
    assert all(cards.size(text) <= limits.TEXT_BYTES for text in sent)
    assert "".join("".join(sent).split()) == "".join(
        render_message(Message("help.header"), "zh").split()) * 2000
    one = cards.Activity(type="message", text="\n".join(sent))  # as one message: refused
    with pytest.raises(Exception, match="413"):
        channel.write("aad-wang", [one])


def test_a_burst_to_one_person_is_paced_by_teams_rate_limit(teams, fake):
    """Teams allows 7 sends a second and 8 in two to one conversation; a 429 names the
    wait, waited out here on the fake's clock; each message goes once."""
    teams.say("aad-wang", "me")
    wang = employee(teams.engine, "wang")
    with transaction(teams.engine) as session:
        for n in range(12):
            session.add(Outbox(audience="person", employee_id=wang.id,
                               message_key="help.header", params={"n": n},
                               created_at=datetime.now(UTC)))
    waits = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        fake.advance(seconds)

    cloud, config = teams.platform.adapter.cloud, teams.platform.adapter.config
    assert dispatch_pending(teams.engine, channels(teams.engine, cloud, config, wait)) == 12
    assert len(fake.sent()) == 12 and waits and all(w <= 2 for w in waits)
    assert [failure.status for _m, failure in fake.failed] == [429] * len(waits)


@pytest.mark.parametrize(("error", "step"), [
    ("invalid_client", "Certificates & secrets"),
    ("unauthorized_client", "App Tenant ID"),
])
def test_doctor_names_the_azure_portal_step_for_a_refused_token(teams, fake, error, step):
    assert all(f.ok for f in asyncio.run(teams.platform.findings()))
    fake.refuse_tokens(error)
    failing = [f for f in asyncio.run(teams.platform.findings()) if not f.ok]
    assert len(failing) == 1 and error in render_message(failing[0].said, "en")
    assert step in render_message(failing[0].fix, "en")
