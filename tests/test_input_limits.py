"""Free text is bounded and storable before any handler runs: a field too long, a NUL
byte, a lone surrogate, a control character or a bidi override is refused in the
sender's language and changes nothing, on both stores; every text field is declared
once, and the API, the forms and the docs read that declaration."""

import dataclasses
import typing
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.app import praise_api
from bot.app.web import create_app
from bot.platforms.slack import blocks as slack_blocks
from bot.platforms.teams import cards as teams_cards
from handlers import limits, registry, signals
from handlers.base import Message
from handlers.compensation import Compensate
from handlers.directory import import_csv
from handlers.dispatch import execute, locale_of, view
from handlers.forms import FORMS
from handlers.grammar import parse
from handlers.i18n import render_message, render_reply
from handlers.improvements import Suggest
from handlers.policy import LOCALES
from handlers.praise import PraiseLog
from handlers.registry import Command
from storage.engine import transaction
from storage.models import (
    Compensation,
    Praise,
    RequestEvent,
    SignalDismissal,
    Suggestion,
    Waiver,
)
from tests.http_servers import serve
from tests.support import count, employee, rows
from tests.test_praise_api import LETTER, SECRET, push
from tests.web_support import AIRPORT, app_for, browser, csrf

BAD = ["more\x00chairs", "broken \ud800 surrogate"]


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("handle, line", [
    ("alice", "suggest {}"),
    ("wang", "praise @alice nul {}"),
    ("alice", "waiver {}"),
    ("alice", "comp 20 gift #{} birthday"),
    ("alice", "comp 20 gift #A1 {}"),
])
def test_unstorable_characters_are_refused_and_change_nothing(chat, handle, line, bad):
    reply = chat.refused(handle, line.format(bad), "input.bad_character")
    assert reply.messages[0].params["field_key"].startswith("field.")
    for model in (Suggestion, Praise, Waiver, Compensation):
        assert count(chat.engine, model) == 0


def test_a_long_cjk_rule_is_refused_and_the_longest_allowed_one_is_indexed(chat):
    reply = chat.refused("alice", "waiver " + "规" * 900, "input.too_long")
    assert reply.messages[0].params == {"field_key": "field.rule", "limit": limits.limit("rule"),
                                        "length": 900}
    assert count(chat.engine, Waiver) == 0
    chat.ok("alice", "waiver " + "規🙂" * (limits.limit("rule") // 2))
    assert count(chat.engine, Waiver) == 1


@pytest.mark.parametrize("line, field", [
    ("comp 20 gift #A1 " + "x" * 3000, "field.reason"),
    ("comp 20 gift #" + "R" * 65 + " birthday", "field.customer_ref"),
    ("suggest " + "y" * 2001, "field.text"),
])
def test_every_free_text_field_has_its_limit(chat, line, field):
    reply = chat.refused("alice", line, "input.too_long")
    assert reply.messages[0].params["field_key"] == field
    assert count(chat.engine, Compensation) == count(chat.engine, Suggestion) == 0


@pytest.mark.parametrize("reason, ref, field", [("x" * 10_000, "A1", "field.reason"),
                                                ("birthday", "R" * 5000, "field.customer_ref")])
def test_a_form_with_no_message_cap_is_bounded_too(chat, reason, ref, field):
    command = Compensate(Decimal(20), None, "gift", ref, reason)
    reply, _ = execute(chat.engine, chat.config, "web", "alice", command)
    assert not reply.ok and reply.messages[0].params["field_key"] == field
    assert count(chat.engine, Compensation) == 0


def test_a_whole_message_over_the_cap_is_not_parsed(chat):
    command = parse("suggest " + "z" * limits.MESSAGE)
    assert isinstance(command, limits.Overlong)
    reply = chat.refused("alice", "suggest " + "z" * limits.MESSAGE, "input.message_too_long")
    assert "at most 4096 characters" in render_reply(reply, "en")
    assert count(chat.engine, Suggestion) == 0


def test_the_refusal_speaks_the_senders_language(chat):
    reply, locale = execute(chat.engine, chat.config, "console", "lilei",
                            parse("建议 " + "多" * 2001))
    assert locale == "zh" and "文字太长了：最多 2000 个字符" in render_reply(reply, locale)
    assert "文字太長了" in render_reply(reply, "zh-Hant")


def test_nested_fields_and_ids_are_checked_too(chat):
    reply, _ = execute(chat.engine, chat.config, "console", "wang",
                       PraiseLog("fine", "alice", "https://x/\x00.mp3"))
    assert not reply.ok and reply.messages[0].params["field_key"] == "field.attachment"
    for user_id, key in (("U\x00", None), ("wang", "slack:event:\ud800")):
        reply, _ = execute(chat.engine, chat.config, "slack", user_id, parse("me"), key)
        assert reply.messages[0].key == "input.bad_character"
    assert count(chat.engine, Praise) == 0
    # The reads around a command (a screen, the sender's language) find nobody.
    assert locale_of(chat.engine, chat.config, "slack", "U\x00") == "en"
    assert view(chat.engine, chat.config, "telegram", "\ud800" * 3, lambda ctx: 1) is None


# --- one declaration of every field ---------------------------------------------
def _commands(base=Command):
    for sub in base.__subclasses__():
        yield sub
        yield from _commands(sub)


def test_every_text_field_of_every_command_and_form_is_declared():
    registry.load()
    named = {field.name for command in _commands() if dataclasses.is_dataclass(command)
             for field in dataclasses.fields(command)
             if "str" in str(typing.get_type_hints(command)[field.name])}
    named |= {field.name for form in FORMS.values() for field in form.fields}
    assert {"question", "answer", "note", "reason", "text"} <= named
    assert named - set(limits.FIELDS) == set()


def test_each_field_takes_its_kinds_limit_and_is_named_in_every_language():
    assert limits.limit("question") == limits.limit("answer") == limits.limit("note") \
        == limits.KINDS["note"].limit == signals.NOTE_LIMIT
    assert limits.limit("rule") == 200 and limits.limit("customer_ref") == 64
    assert limits.limit("why") == limits.KINDS["reason"].limit
    for name in limits.FIELDS:
        key = limits.field_label(name)
        for locale in LOCALES:
            assert render_message(Message(key), locale) != key, (name, locale)


def test_the_docs_limits_table_is_the_declarations():
    docs = (Path(__file__).parent.parent / "docs" / "operating.md").read_text(encoding="utf-8")
    table = limits.markdown_table()
    assert table.startswith("| kind |") and "| note |" in table
    assert table in docs
    assert docs.count("| kind | what | at most | fields |") == 1


# --- a sentence is not a word ----------------------------------------------------
SENTENCE = ("Which order was it, and did the customer already get a voucher from the "
            "morning shift? I want to be sure we do not pay twice for the same.")


def _waiting(chat):
    chat.ok("alice", "comp 350 refund #B9 broken vase")  # above her limit: wang decides


def _signal_key(chat) -> str:
    for n, amount in enumerate((180, 190, 195)):
        chat.ok("alice", f"comp {amount} refund #N{n} x", now=chat.now + timedelta(days=n))
    return f"near_limit:{employee(chat.engine, 'alice').id}:{chat.now:%Y-%m}"


def test_a_sentence_is_a_fine_question_answer_and_note(chat):
    assert 120 < len(SENTENCE) < 500
    _waiting(chat)
    chat.ok("wang", f"ask C1 {SENTENCE}")
    chat.ok("alice", f"answer C1 {SENTENCE}")
    assert [e.detail for e in rows(chat.engine, RequestEvent, ref="C1")
            if e.event in ("info_asked", "info_given")] == [SENTENCE, SENTENCE]
    key = _signal_key(chat)
    chat.ok("hana", f"signals dismiss {key} {SENTENCE}")
    assert [d.note for d in rows(chat.engine, SignalDismissal)] == [SENTENCE]


@pytest.mark.parametrize("who, line, field", [
    ("wang", "ask C1 {}", "field.question"),
    ("alice", "answer C1 {}", "field.answer"),
])
def test_a_question_or_answer_over_its_limit_is_refused_by_name(chat, who, line, field):
    _waiting(chat)
    if who == "alice":
        chat.ok("wang", "ask C1 which order?")
    before = count(chat.engine, RequestEvent)
    too_long = "q" * (limits.limit("question") + 1)
    reply = chat.refused(who, line.format(too_long), "input.too_long")
    assert reply.messages[0].params == {"field_key": field, "limit": 500, "length": 501}
    assert render_reply(reply, "en").startswith(f"The {field.removeprefix('field.')} is too")
    assert count(chat.engine, RequestEvent) == before


def test_a_dismissal_note_over_its_limit_is_refused_by_name(chat):
    key = _signal_key(chat)
    reply = chat.refused("hana", f"signals dismiss {key} {'n' * 501}", "input.too_long")
    assert reply.messages[0].params["field_key"] == "field.note"
    assert "The note is too long: at most 500 characters" in render_reply(reply, "en")
    assert count(chat.engine, SignalDismissal) == 0


# --- text hygiene --------------------------------------------------------------------
CONTROLS = ["\x1b[31m", "\x07", "\x08", "\x7f", "\x0b", "\x0c", "\x1c", "\x01", "\x80",
            "\x85", "\x9b", "\r"]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
        "\u2069"]


@pytest.mark.parametrize("bad", CONTROLS + BIDI)
def test_controls_and_bidi_overrides_are_refused_and_change_nothing(chat, bad):
    reply, _ = execute(chat.engine, chat.config, "web", "alice", Suggest(f"more{bad}chairs"))
    assert not reply.ok and reply.messages[0].key == "input.bad_character"
    assert reply.messages[0].params["field_key"] == "field.text"
    assert "control character" in render_reply(reply, "en")
    assert "控制字符" in render_reply(reply, "zh") and "控制字元" in render_reply(reply, "zh-Hant")
    assert count(chat.engine, Suggestion) == 0


@pytest.mark.parametrize("bad", ["\x1b", "\x07", "\x7f", "\u202e", "\u2067"])
def test_typed_in_chat_they_are_refused_too(chat, bad):
    _waiting(chat)
    reply = chat.refused("wang", f"ask C1 pay{bad}later", "input.bad_character")
    assert reply.messages[0].params["field_key"] == "field.question"
    chat.refused("alice", f"praise @bob kind{bad}", "input.bad_character")
    assert count(chat.engine, RequestEvent, event="info_asked") == 0
    assert count(chat.engine, Praise) == 0


@pytest.mark.parametrize("text", ["first line\nsecond\tcolumn", "windows\r\nline"])
def test_tab_and_line_breaks_are_kept(chat, text):
    reply, _ = execute(chat.engine, chat.config, "web", "alice", Suggest(text))
    assert reply.ok
    assert [s.text for s in rows(chat.engine, Suggestion)] == [text]


# --- the API, the forms -----------------------------------------------------------
@pytest.fixture
def praise_api_url(org, config):
    with serve(create_app([praise_api.router(org, config, SECRET)])) as url:
        yield url


@pytest.mark.http
@pytest.mark.parametrize("field, value", [("text", "kind\x1b[2Jwords"), ("text", "a\u202eb"),
                                          ("employee", "alice\u2066"), ("source_id", "r\x7f1"),
                                          ("customer_ref", "A\x85")])
def test_the_api_refuses_them_with_a_clean_422(org, praise_api_url, field, value):
    response = push(praise_api_url, {**LETTER, field: value})
    assert response.status_code == 422 and field in response.json()["error"]
    assert count(org, Praise) == 0


@pytest.fixture
def app(chat, config):
    with transaction(chat.engine) as session:
        import_csv(session, config, AIRPORT)
    return app_for(chat.engine, config)


def test_the_json_api_refuses_a_control_in_a_query_with_a_4xx(app, chat):
    alice = browser(app, chat, "alice")
    assert alice.get("/api/v1/ledger", params={"person": "alice"}).status_code == 200
    for bad in ("ali\x1bce", "alice\u202e", "x" * (limits.limit("person") + 1)):
        assert alice.get("/api/v1/ledger", params={"person": bad}).status_code == 422


def test_a_web_comment_is_bounded_by_its_declared_limit_not_cut(app, chat):
    chat.ok("alice", "comp 350 refund #B9 broken vase")
    wang = browser(app, chat, "wang")
    assert f'maxlength="{limits.limit("comment")}"' in wang.get("/team").text
    comment = "checked the receipt with the customer; " * 20  # 780 characters
    response = wang.post("/decide", data={"csrf": csrf(wang), "ref": "C1",
                                          "verdict": "approve", "comment": comment})
    assert response.status_code == 303
    assert rows(chat.engine, Compensation)[0].decision_comment == comment.strip()


def test_the_platforms_forms_take_the_declared_limits():
    modal = slack_blocks.form_modal(FORMS["comp"], "en")
    inputs = {b["block_id"]: b["element"] for b in modal["blocks"]}
    assert inputs["reason"]["max_length"] == limits.limit("reason")
    assert inputs["customer_ref"]["max_length"] == 64
    praise = slack_blocks.praise_modal("x" * 3000, "", "", "en")
    (text,) = [b["element"] for b in praise["blocks"] if b["block_id"] == "text"]
    assert text["max_length"] == len(text["initial_value"]) == limits.limit("text")
    fields = [("why", "label.why", False), ("customer_ref", "label.customer_ref", True)]
    card = teams_cards.form_card(fields, "en", {})
    assert [i["maxLength"] for i in card["body"] if i["type"] == "Input.Text"] == [
        limits.limit("why"), limits.limit("customer_ref")]
