"""Personal-data requests: the export of everything held about a person, and their
erasure (a pseudonym everywhere, their words blanked unless kept, the ledger whole)."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import JSON, String, select
from sqlmodel import SQLModel

from handlers import feedback
from handlers.directory import DirectoryError, import_csv
from handlers.dispatch import execute
from handlers.grammar import parse
from handlers.personal_data import FREE_TEXT, PersonalDataError, erase, export_person
from handlers.policy import DEFAULT_THEMES
from handlers.traces import SECRET_COLUMNS
from points import ledger
from storage.engine import transaction
from storage.models import (
    ChatIdentity,
    Compensation,
    Employee,
    Erasure,
    FormState,
    InboxItem,
    LedgerEntry,
    OneTimeCode,
    Outbox,
    Suggestion,
    SummaryItem,
    TeamsConversation,
    WebSession,
)
from tests.conftest import NOW
from tests.support import count, employee, rows
from tests.support import frontline as run
from tests.test_cli import config_for
from tests.test_council import config  # noqa: F401  (the council config: Li Lei sits on it)
from tests.test_mirror import voices

CHAT_IDS = {"alice": ("7001", "ou_alice_app", "on_alice_union", "aad-alice-0001"),
            "wang": ("7002",)}


def busy(chat) -> None:
    """Alice and her supervisor Wang in every kind of record, named by others too."""
    voices(chat)  # feedback, a waiver of Alice's, suggestions of Bob's and Li Lei's
    with transaction(chat.engine) as session:
        alice, wang = employee(chat.engine, "alice").id, employee(chat.engine, "wang").id
        session.add_all([
            ChatIdentity(employee_id=alice, platform="telegram", platform_user_id="7001"),
            ChatIdentity(employee_id=alice, platform="feishu", platform_user_id="ou_alice_app",
                         union_id="on_alice_union"),
            ChatIdentity(employee_id=alice, platform="teams", platform_user_id="aad-alice-0001"),
            ChatIdentity(employee_id=wang, platform="telegram", platform_user_id="7002"),
            WebSession(token_hash="f" * 64, employee_id=alice, csrf_token="c" * 32,
                       created_at=NOW, expires_at=NOW + timedelta(hours=12)),
            FormState(platform="telegram", conversation="7001:7001", form="comp",
                      locale="en", answers={"reason": "half typed"},
                      expires_at=NOW + timedelta(hours=1)),
            InboxItem(key="telegram:update:1", platform="telegram", kind="update",
                      payload={"message": {"from": {"id": 7001}, "text": "me"}},
                      received_at=NOW),
            SummaryItem(employee_id=alice, message_key="notify.customer_voice",
                        params={"text": "Alice Chen was lovely"}, created_at=NOW),
            TeamsConversation(conversation_id="a:personal-1", kind="personal",
                              aad_object_id="aad-alice-0001",
                              reference={"user": {"aadObjectId": "aad-alice-0001",
                                                  "name": "Alice Chen"}}, updated_at=NOW)])
    with transaction(chat.engine) as session:
        feedback.import_csv(session, "kind,team,employee,score,text,source,source_id,"
                            "received_at\ncsat,Harbour Street Store,alice,5,Alice Chen was "
                            "kind,t,9,2026-11-20T12:00:00Z\n", NOW, DEFAULT_THEMES)
    chat.ok("wang", "praise @alice She found my lost ring!")
    chat.ok("alice", "praise the customer said I was very patient")
    chat.ok("wang", "approve P2 well deserved")
    chat.ok("alice", "comp 300 refund #A2 broken vase in the parcel", key="telegram:1")
    chat.ok("wang", "ask C1 which order was it?")
    chat.ok("alice", "answer C1 order 77, the vase was in it")
    chat.ok("wang", "approve C1 fine by me")
    chat.ok("alice", "suggest umbrella stand at the door")
    chat.ok("wang", "approve S3 good idea")
    chat.ok("bob", "suggest ask Alice Chen and @alice how she calms people")
    chat.ok("alice", "solved the lift queue at peak hours")
    chat.ok("wang", "approve M1")
    chat.ok("alice", "nominate @bob listened to the whole complaint")
    chat.ok("bob", "nominate @alice stayed late for a customer")
    chat.ok("alice", "redeem coffee")
    chat.ok("hana", "approve R1 enjoy")
    chat.ok("wang", "reject W1 take the order on paper next time")
    chat.ok("hana", "council open it-systems @wang")
    chat.ok("lilei", "council approve X1")
    chat.ok("wang", "council start X1 2026-12-20 a new link between the CRM and orders")
    chat.ok("wang", "away until 2026-11-30 @hana")
    chat.ok("alice", "login")


def texts(engine) -> set[tuple[str, str, str]]:
    """(table, column, string) for every string held, JSON flattened to its strings."""
    found = set()
    with transaction(engine) as session:
        for table in SQLModel.metadata.sorted_tables:
            columns = [c for c in table.columns  # SQLModel's strings: String decorated
                       if isinstance(getattr(c.type, "impl", c.type), String | JSON)]
            for row in session.execute(select(*columns)).all() if columns else ():
                for column, value in zip(columns, row, strict=True):
                    found |= {(table.name, column.name, text) for text in leaves(value)}
    return found


def leaves(value) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, dict):
        return [text for item in value.values() for text in leaves(item)]
    if isinstance(value, list):
        return [text for item in value for text in leaves(item)]
    return [str(value)] if isinstance(value, int) and not isinstance(value, bool) else []


def everything(engine) -> dict[str, list]:
    with transaction(engine) as session:
        return {table.name: sorted(map(repr, session.execute(select(table)).all()))
                for table in SQLModel.metadata.sorted_tables}


def exported(engine, handle: str) -> dict:
    with transaction(engine) as session:
        return export_person(session, handle, NOW)


def erased(engine, handle: str, keep: bool = False, reason: str = "request of 2026-12-01"):
    with transaction(engine) as session:
        return erase(session, handle, reason=reason, by="ops", keep_free_text=keep,
                     now=NOW + timedelta(days=9))


def balances(engine) -> dict[int, int]:
    with transaction(engine) as session:
        return {person.id: ledger.balance(session, person.id)
                for person in session.scalars(select(Employee))}


@pytest.mark.parametrize("handle", ["alice", "wang"])
def test_erasing_leaves_no_trace_and_the_ledger_whole(chat, handle):
    busy(chat)
    person = employee(chat.engine, handle)
    before, entries = balances(chat.engine), count(chat.engine, LedgerEntry)
    needles = {person.name, person.handle, *CHAT_IDS[handle]}
    held = texts(chat.engine)
    assert [n for n in needles if not any(n.lower() in t.lower() for *_, t in held)] == []
    done = erased(chat.engine, handle)
    with transaction(chat.engine) as session:
        assert ledger.verify(session) == []
    assert balances(chat.engine) == before and count(chat.engine, LedgerEntry) == entries
    assert done.pseudonym == f"erased-{person.id}" and done.balance == before[person.id]
    held = texts(chat.engine)
    for needle in needles:
        assert not [found for found in held if needle.lower() in found[2].lower()], needle
    row = employee(chat.engine, done.pseudonym)
    assert (row.name, row.active, row.id) == (done.pseudonym, False, person.id)
    assert count(chat.engine, ChatIdentity, employee_id=person.id) == 0
    assert count(chat.engine, Outbox, employee_id=person.id) == 0
    assert count(chat.engine, SummaryItem, employee_id=person.id) == 0


def test_the_export_holds_everything_the_erasure_removes(chat):
    busy(chat)
    found = exported(chat.engine, "alice")
    assert found["person"]["name"] == "Alice Chen"
    assert found["balance"] == sum(e["amount"] for e in found["records"]["ledgerentry"]
                                   if e["employee_id"] == found["person"]["id"]) > 0
    records = found["records"]
    assert {"chatidentity", "ledgerentry", "compensation", "waiver", "praise",
            "suggestion", "majorissue", "nomination", "redemption", "requestevent",
            "outbox", "onetimecode", "websession", "formstate", "inboxitem",
            "teamsconversation", "feedback"} <= set(records)
    assert "code_hash" not in records["onetimecode"][0]  # a secret, not data about her
    assert any("Alice Chen" in s["text"] for s in records["suggestion"])  # Bob's words
    shown = {text for table in records.values() for row in table for text in leaves(row)}
    shown |= set(leaves(found["person"]))
    needles = [n.lower() for n in ("Alice Chen", "alice", *CHAT_IDS["alice"])]
    before = texts(chat.engine)
    erased(chat.engine, "alice")
    lost = {(table, column, text) for table, column, text in before - texts(chat.engine)
            if column not in SECRET_COLUMNS}
    unexported = [item for item in lost if item[2] not in shown
                  and not any(needle in item[2].lower() for needle in needles)]
    assert lost and unexported == []
    json.dumps(found)  # JSON as it is


def test_her_words_are_blanked_unless_the_organisation_keeps_them(chat):
    busy(chat)
    erased(chat.engine, "alice")
    (comp,) = rows(chat.engine, Compensation)
    assert (comp.reason, comp.customer_ref, comp.decision_comment) == (
        "", "A2", "fine by me")  # Wang's words are his
    suggestions = {s.id: s.text for s in rows(chat.engine, Suggestion)}
    assert suggestions[3] == "" and "erased-2" in suggestions[4]  # Bob's kept, renamed
    quoted = [o.params for o in rows(chat.engine, Outbox)]
    assert not [p for p in quoted if "umbrella stand at the door" in json.dumps(p)]


def test_kept_words_lose_only_her_name(chat):
    busy(chat)
    erased(chat.engine, "alice", keep=True)
    (comp,) = rows(chat.engine, Compensation)
    assert comp.reason == "broken vase in the parcel"
    assert rows(chat.engine, Suggestion)[3].text == "ask erased-2 and @erased-2 how she " \
        "calms people"
    (record,) = rows(chat.engine, Erasure)
    assert record.kept_free_text is True


def test_the_record_of_the_erasure_holds_nothing_erased(chat):
    busy(chat)
    erased(chat.engine, "alice")
    (record,) = rows(chat.engine, Erasure)
    assert (record.pseudonym, record.reason, record.erased_by, record.erased_at) == (
        "erased-2", "request of 2026-12-01", "ops", NOW + timedelta(days=9))
    assert record.kept_free_text is False


def test_her_chat_id_writing_again_is_not_registered(chat):
    busy(chat)
    erased(chat.engine, "alice")
    reply, _ = execute(chat.engine, chat.config, "telegram", "7001", parse("me"), now=NOW)
    assert (reply.ok, reply.messages[0].key) == (False, "not_registered")
    reply, _ = execute(chat.engine, chat.config, "telegram", "7002", parse("me"), now=NOW)
    assert reply.ok  # Wang still is
    assert count(chat.engine, OneTimeCode) == count(chat.engine, WebSession) == 0
    assert count(chat.engine, FormState) == count(chat.engine, InboxItem) == 0
    assert count(chat.engine, TeamsConversation) == 0


@pytest.mark.parametrize("handle, reason, refused", [
    ("nobody", "request", "nobody called 'nobody' in the directory"),
    ("alice", "Alice Chen asked on 2026-12-01", "must not name the person"),
    ("alice", "asked by @ALICE", "must not name the person"),
    ("alice", "telegram 7001 asked", "must not name the person"),
    ("alice", "   ", "must be given")])
def test_a_refused_erasure_changes_nothing(chat, handle, reason, refused):
    busy(chat)
    before = everything(chat.engine)
    with pytest.raises(PersonalDataError, match=refused):
        erased(chat.engine, handle, reason=reason)
    assert everything(chat.engine) == before


def test_a_second_erasure_changes_nothing(chat):
    busy(chat)
    erased(chat.engine, "alice")
    before = everything(chat.engine)
    with pytest.raises(PersonalDataError, match="erased already, on 2026-12-02"):
        erased(chat.engine, "erased-2")
    with pytest.raises(PersonalDataError, match="known only by their pseudonym"):
        erased(chat.engine, "alice")
    assert everything(chat.engine) == before
    assert exported(chat.engine, "erased-2")["records"]["erasure"][0]["pseudonym"] == \
        "erased-2"


def test_the_directory_import_refuses_a_pseudonym(chat):
    with transaction(chat.engine) as session, pytest.raises(
            DirectoryError, match="'erased-9': erased-… names erased people"):
        import_csv(session, chat.config, "handle,name,role\nerased-9,Someone,employee\n")


def test_each_free_text_names_a_text_column_and_its_author():
    for table, column, author, only in FREE_TEXT:
        columns = SQLModel.metadata.tables[table].columns
        assert isinstance(columns[column].type.impl, String)
        assert {key.column.table.name for key in columns[author].foreign_keys} == {"employee"}
        assert set(only) <= set(columns.keys())


@pytest.fixture
def frontline(tmp_path, migrated_url):
    """The command on a migrated database holding the demo organisation."""
    path = config_for(tmp_path, migrated_url)
    assert run(path, "chat", "--as", "alice", stdin="suggest a shelf for parcels\n"
               ).returncode == 0
    return lambda *args: run(path, *args)


def test_the_command_exports_then_erases(frontline, tmp_path):
    out = tmp_path / "alice.json"
    result = frontline("directory", "export", "@alice", "--out", str(out))
    assert result.returncode == 0 and result.stdout.startswith(f"{out}: everything held")
    assert out.stat().st_mode & 0o077 == 0  # hers alone to read
    suggested = json.loads(out.read_text("utf-8"))["records"]["suggestion"]
    assert "a shelf for parcels" in [row["text"] for row in suggested]
    result = frontline("directory", "erase", "alice", "--reason", "left, asked on 12-01")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("erased alice: now erased-2;")
    again = frontline("directory", "erase", "erased-2", "--reason", "again")
    assert again.returncode == 1 and again.stderr.count("\n") == 1
    assert "erased already" in again.stderr
    shown = json.loads(frontline("directory", "export", "erased-2").stdout)
    assert shown["person"]["name"] == "erased-2"


@pytest.mark.parametrize("args, says", [
    (("erase", "alice"), "the following arguments are required: --reason"),
    (("erase", "alice", "--reason", ""), "is not a reason"),
    (("erase", "alice", "--reason", "a\nb"), "is not a reason"),
    (("erase", "'; drop table employee;--", "--reason", "x"), "is not a handle"),
    (("export", "../../etc/passwd"), "is not a handle"),
    (("erase", "ghost", "--reason", "left"), "nobody called 'ghost' in the directory")])
def test_bad_input_is_one_line(frontline, args, says):
    result = frontline("directory", *args)
    assert result.returncode in (1, 2) and result.stderr.count("\n") == 1
    assert says in result.stderr
