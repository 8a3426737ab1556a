"""Every command is declared once, beside its handler; everything else is derived."""

import pytest

from handlers import registry
from handlers.base import Message
from handlers.grammar import parse
from handlers.i18n import accepted_words, render_message, render_reply
from handlers.policy import LOCALES
from handlers.registry import Unparsed

registry.load()
DECLARED = sorted(registry.VERBS)


def test_the_registry_holds_every_command():
    assert {"help", "me", "comp", "waiver", "praise", "approve", "decline", "redeem",
            "login", "link"} <= set(DECLARED)


@pytest.mark.parametrize("name", DECLARED)
def test_every_word_of_every_verb_parses_to_it_in_every_language(name):
    words = accepted_words(f"verb.{name}")
    assert name in words
    for word in words:
        for typed in (word, f"/{word}", f"/{word}@frontline_bot", word.upper()):
            command = parse(typed)
            assert not (isinstance(command, Unparsed) and command.topic != name), typed


@pytest.mark.parametrize("name", DECLARED)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_verb_has_usage_and_menu_text(name, locale):
    for key in (f"usage.{name}", f"menu.{name}"):
        assert render_message(Message(key), locale).strip(), key


def test_no_word_names_two_verbs():
    seen: dict[str, str] = {}
    for name in DECLARED:
        for word in accepted_words(f"verb.{name}"):
            assert seen.setdefault(word, name) == name, word


def test_every_command_type_a_verb_produces_has_a_route():
    assert all(callable(route.run) for route in registry.ROUTES.values())
    assert set(registry.DECIDABLE) == set("CWPSMR")
    for kind in registry.DECIDABLE.values():
        assert hasattr(kind.model, kind.since) and hasattr(kind.model, "status")


def test_help_lists_hr_every_menu_verb_in_the_readers_language(chat):
    reply = chat.reply("hana", "帮助")
    assert reply == chat.reply("hana", "help")  # whichever language it was typed in
    english, chinese = render_reply(reply, "en"), render_reply(reply, "zh")
    for name in registry.menu_verbs():
        assert f"• {name} — " in english
    assert "• 补偿 —— " in chinese and "• 流水 —— " in chinese
    assert "• 外出 —— " in chinese and "• 信号 —— " in chinese
    assert "HR closes a month" in english  # `goldenear close` has its line too


def test_help_lists_an_employee_only_the_verbs_they_may_use(chat):
    reply = chat.reply("alice", "help")  # alice is a frontline employee
    english, simplified, traditional = (render_reply(reply, locale)
                                        for locale in LOCALES)
    for name in ("away", "signals"):  # supervisors', HR's and admins' only
        assert f"• {name} — " not in english
    assert "外出" not in simplified and "信号" not in simplified
    assert "外出" not in traditional and "訊號" not in traditional
    # their own, and those open to everyone in part (`council` lists, only HR opens)
    for name in ("comp", "waiver", "praise", "council", "goldenear", "help"):
        assert f"• {name} — " in english
    assert "• 补偿 —— " in simplified and "• 委员会 —— " in simplified
    assert "• 補償 —— " in traditional and "• 委員會 —— " in traditional
    # a supervisor's has their verbs; anyone may still read any verb's usage
    assert "• away — " in chat("wang", "help") and "• signals — " in chat("wang", "help")
    assert chat.reply("alice", "help away").messages[0].key == "usage.away"


def test_a_verb_is_listed_to_the_roles_that_may_run_one_of_its_use_cases():
    corrections = ("adjust", "revoke", "move", "leaver")  # HR's
    assert registry.menu_verbs("employee") == [
        name for name in registry.menu_verbs() if name not in ("away", "signals", *corrections)]
    assert registry.menu_verbs("supervisor") == [
        name for name in registry.menu_verbs() if name not in corrections]
    assert registry.menu_verbs("hr") == registry.menu_verbs("admin") == registry.menu_verbs()


def test_help_about_a_word_that_is_no_command_says_so_then_lists_them(chat):
    reply = chat.reply("alice", "help foo")
    assert [m.key for m in reply.messages[:2]] == ["help.unknown", "help.header"]
    assert "“foo” is not a command" in render_reply(reply, "en")
    assert "「foo」" in render_reply(reply, "zh")


def test_menus_list_commands_module_by_module_in_declared_order():
    assert registry.menu_verbs() == [
        "comp", "waiver", "waivers", "praise", "touching", "thanks", "suggest", "solved", "pending",
        "approve", "decline", "ask", "answer", "history", "away", "recover", "signals",
        "nominate",
        "vote", "goldenear", "board", "pulse", "council", "catalog", "redeem", "cancel", "ledger",
        "adjust", "revoke", "move", "leaver", "me", "lang", "prefs", "birthday", "link", "login",
        "help"]
