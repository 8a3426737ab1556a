"""The message catalogs, read from their files: complete in every language, consistent with
the template and with each other, and used by the code."""

import ast
import re
import string
from pathlib import Path

import opencc
import pytest
from babel.messages.pofile import read_po

from handlers.base import Message
from handlers.i18n import (
    DOMAIN,
    LOCALE_DIR,
    MESSAGES,
    accepted_words,
    catalog_path,
    preferred_locale,
    render_message,
)
from handlers.policy import LOCALES

ROOT = Path(__file__).parent.parent
CODE = ("handlers", "points", "rituals", "bot")
# Command words are read by the grammar, whatever form its code takes.
WORD_PREFIXES = ("verb.", "word.")
KEY_SHAPE = re.compile(r"^[a-z][a-z_]*(?:\.[a-zA-Z0-9_-]+)+$")
FILE_NAMES = (".html", ".csv", ".json", ".toml", ".py", ".po", ".pot")
TEMPLATE_KEY = re.compile(r"""\b(?:t|text)\(\s*'([^']+)'\s*(~)?""")


def read(path: Path):
    with path.open("rb") as file:
        return read_po(file)


CATALOGS = {locale: read(catalog_path(locale)) for locale in LOCALES}
TEMPLATE = read(LOCALE_DIR / f"{DOMAIN}.pot")


def entries(catalog) -> dict:
    return {entry.id[0] if isinstance(entry.id, tuple) else entry.id: entry
            for entry in catalog if entry.id}


def forms(entry) -> tuple[str, ...]:
    return tuple(entry.string) if isinstance(entry.string, tuple | list) else (entry.string,)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _built_key(node: ast.JoinedStr) -> re.Pattern | None:
    """`f"usage.{topic}"` or `f"{kind.name}.submitted"`: the keys such a string can be."""
    parts = [re.escape(part.value) if isinstance(part, ast.Constant) else ".+"
             for part in node.values]
    fixed = "".join(str(part.value) for part in node.values if isinstance(part, ast.Constant))
    if "." in fixed and re.search("[a-z]", fixed) and re.fullmatch(r"[a-z0-9_.-]+", fixed) \
            and not fixed.endswith(FILE_NAMES):
        return re.compile("".join(parts))
    return None


def code_keys() -> tuple[set[str], set[re.Pattern]]:
    """Message keys written in the code and the web templates, and the patterns of the keys
    the code builds (`f"usage.{topic}"`, `t('reason.' ~ reason)`)."""
    prefixes = {key.split(".", 1)[0] for key in MESSAGES}
    literal, built = set(), set()
    for folder in CODE:
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            parts = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
                     for part in node.values}  # and a value's format, f"{x:.1f}"
            parts |= {id(node.format_spec) for node in ast.walk(tree)
                      if isinstance(node, ast.FormattedValue) and node.format_spec}
            for node in ast.walk(tree):
                if id(node) in parts:
                    continue
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                        node.value in MESSAGES or (KEY_SHAPE.match(node.value)
                        and node.value.split(".", 1)[0] in prefixes
                        and not node.value.endswith(FILE_NAMES))):
                    literal.add(node.value)
                elif isinstance(node, ast.JoinedStr) and (pattern := _built_key(node)):
                    built.add(pattern)
        for path in (ROOT / folder).rglob("*.html"):
            for key, joined in TEMPLATE_KEY.findall(path.read_text(encoding="utf-8")):
                if joined:
                    built.add(re.compile(re.escape(key) + ".+"))
                else:
                    literal.add(key)
    return literal, built


def test_every_key_in_the_code_and_templates_exists_in_every_language():
    literal, built = code_keys()
    assert {"linked", "none", "nav.ledger", "action.approve", "web.error.month"} <= literal
    assert {"usage.", "menu.", "role.", "reason.", "status.", "kind.", "web.comp."} <= {
        pattern.pattern.removesuffix(".+").replace("\\", "") for pattern in built}
    for locale, catalog in CATALOGS.items():
        keys = entries(catalog)
        for key in literal:
            assert key in keys, f"{key} is used but missing from the {locale} catalog"
        for pattern in built:
            assert any(pattern.fullmatch(k) for k in keys), f"{locale}: no {pattern.pattern}"


def test_no_key_in_the_catalogs_is_unused():
    literal, built = code_keys()
    for key in entries(TEMPLATE):
        assert key in literal or key.startswith(WORD_PREFIXES) \
            or any(pattern.fullmatch(key) for pattern in built), \
            f"{key} is in the catalogs but nothing uses it"


def test_the_template_lists_exactly_the_keys_of_every_catalog_with_the_same_shape():
    template = entries(TEMPLATE)
    assert not any(any(forms(e)) for e in template.values()), "the template has no translations"
    for locale, catalog in CATALOGS.items():
        keys = entries(catalog)
        assert set(keys) == set(template), locale
        for key, entry in keys.items():
            assert entry.id == template[key].id, (locale, key)  # plural, and by the same param
            assert "fuzzy" not in entry.flags, (locale, key)


def test_the_template_marks_the_messages_with_placeholders_python_brace_format():
    # read from the text: Babel decides this flag from the msgid, which here is a key
    english = entries(CATALOGS["en"])
    flagged = {key: "python-brace-format" in flags for flags, key in re.findall(
        r'^(?:#, (.*)\n)?msgid "(.+)"$', (LOCALE_DIR / f"{DOMAIN}.pot").read_text("utf-8"),
        re.MULTILINE)}
    assert set(flagged) == set(english)
    for key, entry in english.items():
        assert flagged[key] == bool(set().union(*map(placeholders, forms(entry)))), key


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated_with_the_placeholders_of_english(locale):
    english, catalog = entries(CATALOGS["en"]), CATALOGS[locale]
    assert catalog.num_plurals == len(forms(next(e for e in catalog if isinstance(e.id, tuple))))
    for key, entry in entries(catalog).items():
        texts = forms(entry)
        assert all(text.strip() for text in texts), (locale, key)
        assert len(texts) == (catalog.num_plurals if isinstance(entry.id, tuple) else 1), key
        expected = set().union(*map(placeholders, forms(english[key])))
        assert set().union(*map(placeholders, texts)) == expected, (locale, key)
        if isinstance(entry.id, tuple):
            chooser = entry.id[1].strip("{}")
            assert chooser in expected, (locale, key, chooser)
            if catalog.num_plurals == 1:
                assert chooser in placeholders(texts[0]), (locale, key)


def test_english_chooses_singular_or_plural_by_the_count():
    one = Message("ritual.goldenear_reminder", {"month": "2026-11", "count": 1})
    three = Message("ritual.goldenear_reminder", {"month": "2026-11", "count": 3})
    assert "1 colleague nominated" in render_message(one, "en")
    assert "3 colleagues nominated" in render_message(three, "en")
    assert "1 位同事" in render_message(one, "zh") and "3 位同事" in render_message(three, "zh")
    hours = Message("notify.approval_waiting", {"ref": "C1", "hours": 1})
    assert render_message(hours, "en").endswith("for 1 hour.")
    assert render_message(Message("notify.approval_waiting", {"ref": "C1", "hours": 25}),
                          "en").endswith("for 25 hours.")
    assert "1.0 hours left" in render_message(
        Message("waiver.line_open", {"ref": "W1", "rule": "x", "due": "10:00", "hours": "1.0"}),
        "en")
    assert render_message(Message("pending.header", {"count": 0}), "en").startswith("0 requests")



def test_a_message_with_several_counts_reads_right_with_each_of_them_one():
    ones = {"team": "T", "praise": 1, "points": 1, "own_count": 1, "own_total": "1.00 CNY",
            "approved_count": 1, "approved_total": "1.00 CNY", "rules": "-", "pending": 1}
    shown = render_message(Message("ritual.weekly_digest", ones), "en")
    assert not re.search(r"\b1 [a-z]+s\b", shown), shown
    case = {"ref": "X1", "theme": "T", "status": "proposed", "owner": "O", "due": "-",
            "since": "a", "until": "b", "customer_loss": "1", "goodwill": "1",
            "staff_loss": "1", "complaints": 1, "detractors": 1, "waivers": 1,
            "staff_mentions": 1}
    board = {"month": "2026-11", "nps": 1, "csat": 1, "responses": 1, "praise": 1, "given": 1,
             "within": 1, "above": 1, "cases": 1, "needed": 1}
    for message in (Message("council.case", case), Message("council.opened", case),
                    Message("notify.council_auto", {**case, "limit": 1}),
                    Message("me.board_line", board),
                    Message("signal.several_staff", {"customer": "#A1", "count": "2", "days": "1",
                                                     "who": "-", "records": "-", "id": "1"})):
        shown = render_message(message, "en")
        assert not re.search(r"\b1 [a-z]+s\b", shown), shown


@pytest.mark.parametrize(("header", "locale"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("zh", "zh"), ("zh-Hans", "zh"), ("zh-SG", "zh"),
    ("zh-TW", "zh-Hant"), ("zh-hk,en;q=0.5", "zh-Hant"), ("zh-Hant-TW", "zh-Hant"),
    ("en-GB", "en"), ("en;q=0.4,zh-TW;q=0.7", "zh-Hant"), ("fr-FR,zh-CN;q=0.3", "zh"),
    ("zh-TW;q=0,en", "en"), ("de, x-klingon, *, ;q=bad", "en"), ("", "en")])
def test_an_accept_language_header_picks_one_of_our_languages(header, locale):
    assert preferred_locale(header) == locale


def test_an_unknown_locale_falls_back_to_english():
    assert render_message(Message("action.approve"), "xx") == "Approve"
    assert render_message(Message("action.approve"), "zh") == "批准"


def test_the_catalogs_keep_the_words_people_already_type():
    for kind in ("refund", "voucher", "upgrade", "gift", "other"):
        assert kind in accepted_words(f"word.kind.{kind}")
    assert {"退款", "代金券", "券", "升级", "礼品", "礼物", "其他"} <= set().union(
        *(accepted_words(f"word.kind.{kind}") for kind in ("refund", "voucher", "upgrade",
                                                            "gift", "other")))
    assert {"report", "报备"} <= accepted_words("word.waiver.report")
    assert {"list", "列表"} <= accepted_words("word.waiver.list")
    assert {"close", "结算"} <= accepted_words("word.goldenear.close")
    assert {"now", "现在", "刚才"} <= accepted_words("word.when.now")
    assert {"h", "小时"} <= accepted_words("word.unit.hours")
    assert {"m", "min", "分钟"} <= accepted_words("word.unit.minutes")


def test_every_language_can_be_chosen_by_its_code_and_in_every_language():
    for locale in LOCALES:
        assert catalog_path(locale).is_file(), locale
        assert locale.lower() in accepted_words(f"word.lang.{locale}"), locale
        for catalog in CATALOGS.values():
            assert entries(catalog)[f"word.lang.{locale}"].string.strip(), locale


def test_no_word_means_two_things():
    groups = {}
    for key in MESSAGES:
        if key.startswith(WORD_PREFIXES):
            groups.setdefault(key.rsplit(".", 1)[0], []).append(key)
    assert {"verb", "word.kind", "word.lang"} <= set(groups)
    for keys in groups.values():
        for i, first in enumerate(keys):
            for second in keys[i + 1:]:
                assert not accepted_words(first) & accepted_words(second), (first, second)


def test_word_entries_tell_translators_they_are_words_not_prose():
    for key, entry in entries(TEMPLATE).items():
        if key.startswith(WORD_PREFIXES):
            assert any("separated by spaces" in c for c in entry.auto_comments), key


# Characters only Simplified Chinese writes so; Traditional has 們 這 說 補 揚 … instead.
# OpenCC's Simplified-to-Traditional conversion changes any Simplified character; a few
# characters it changes are Traditional too (只 in 只能, where it would write 隻).
TO_TRADITIONAL = opencc.OpenCC("s2t")
ALSO_TRADITIONAL = set("只")
# Hong Kong's standard forms of characters OpenCC takes for Simplified (兑 for Taiwan's 兌):
# accepted in the words people type, beside Taiwan's, and never written in prose.
HONG_KONG = set("兑")


def simplified_in(text: str) -> set[str]:
    return {mine for mine, converted in zip(text, TO_TRADITIONAL.convert(text), strict=True)
            if mine != converted and mine not in ALSO_TRADITIONAL}


def test_traditional_chinese_is_traditional():
    """Every message a Traditional reader gets (posts, cards, menus and replies on every
    platform render from this catalog) is written in Traditional characters only."""
    catalog = entries(CATALOGS["zh-Hant"])
    found = {key: wrong for key, entry in catalog.items() for text in forms(entry)
             if (wrong := simplified_in(text) - (
                 HONG_KONG if key.startswith(WORD_PREFIXES) else set()))}
    assert not found, found
    written = "".join(text for entry in catalog.values() for text in forms(entry))
    assert set("這說補揚為時會發審請積報") <= set(written)
    simplified = "".join(text for entry in entries(CATALOGS["zh"]).values()
                         for text in forms(entry))
    assert set("这说补扬为时会发审请积报") <= set(simplified)
    assert simplified_in("这说补扬") == set("这说补扬")  # the check sees Simplified


TRADITIONAL_VERBS = (
    "表揚", "補償", "豁免", "兌換", "幫助", "感動", "建議", "解決", "批准", "同意", "認可", "拒絕",
    "駁回", "待批", "待辦", "提名", "投票", "金耳朵", "商城", "目錄", "取消", "流水", "積分",
    "語言", "綁定", "登錄", "登入", "我", "豁免列表")


def test_traditional_command_words():
    words = set().union(*(accepted_words(key) for key in MESSAGES if key.startswith("verb.")))
    assert set(TRADITIONAL_VERBS) <= words
    assert {"信號", "兑換", "兑現"} <= words  # Hong Kong's spellings too
    assert {"補償", "comp", "补偿"} <= accepted_words("verb.comp")
    assert {"退款", "refund"} <= accepted_words("word.kind.refund")
    assert {"zh-hant", "traditional", "繁体", "繁體", "繁體中文"} <= accepted_words(
        "word.lang.zh-Hant")
    assert {"報備", "列表", "結算", "現在", "小時", "分鐘"} <= (
        accepted_words("word.waiver.report") | accepted_words("word.waiver.list")
        | accepted_words("word.goldenear.close") | accepted_words("word.when.now")
        | accepted_words("word.unit.hours") | accepted_words("word.unit.minutes"))
