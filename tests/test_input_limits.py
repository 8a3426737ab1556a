"""Free text is bounded and storable before any handler runs: a field too long, a NUL
byte or a lone surrogate is refused in the sender's language and changes nothing, on
both stores."""

from decimal import Decimal

import pytest

from handlers import limits
from handlers.compensation import Compensate
from handlers.dispatch import execute, locale_of, view
from handlers.grammar import parse
from handlers.i18n import render_reply
from handlers.praise import PraiseLog
from storage.models import Compensation, Praise, Suggestion, Waiver
from tests.support import count

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
    assert reply.messages[0].params == {"field_key": "field.rule", "limit": limits.FIELDS["rule"],
                                        "length": 900}
    assert count(chat.engine, Waiver) == 0
    chat.ok("alice", "waiver " + "規🙂" * (limits.FIELDS["rule"] // 2))
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
