from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.grammar import VERBS, parse
from handlers import commands as c


@pytest.mark.parametrize(("text", "expected"), [
    ("comp 120 voucher #A123 parcel late",
     c.Compensate(Decimal("120"), None, "voucher", "A123", "parcel late")),
    ("/comp@frontline_bot 99.5 USD refund broken", c.Compensate(Decimal("99.5"), "USD", "refund",
                                                                "", "broken")),
    ("补偿 ¥88 礼品 送花", c.Compensate(Decimal("88"), None, "gift", "", "送花")),
    ("补偿 50元 升级 #R1 房间吵", c.Compensate(Decimal("50"), None, "upgrade", "R1", "房间吵")),
    ("waiver no refunds without receipt", c.WaiverOpen("no refunds without receipt")),
    ("waiver dress code @ 2h", c.WaiverOpen("dress code", c.Occurred(ago=timedelta(hours=2)))),
    ("豁免 着装规定 @ 14：30", c.WaiverOpen("着装规定", c.Occurred(today_at=time(14, 30)))),
    ("waiver x @ 2026-11-20 08:15",
     c.WaiverOpen("x", c.Occurred(local=datetime(2026, 11, 20, 8, 15)))),
    ("waiver report W3 gave a room / guest was ill #R77 80.5 USD",
     c.WaiverReport(3, "gave a room", "guest was ill", "R77", Decimal("80.5"), "USD")),
    ("豁免 报备 3 先退款 ／ 老顾客", c.WaiverReport(3, "先退款", "老顾客")),
    ("waiver list", c.WaiverList()),
    ("praise @Alice she found my ring", c.PraiseLog("she found my ring", "alice")),
    ("praise thank you note https://files.test/a.mp3",
     c.PraiseLog("thank you note", None, "https://files.test/a.mp3")),
    ("感动 P5", c.Touching(5)),
    ("approve c12 ok then", c.Decide("C", 12, True, "ok then")),
    ("拒绝 #W3 理由不充分", c.Decide("W", 3, False, "理由不充分")),
    ("nominate @bob listened", c.Nominate("bob", "listened")),
    ("投票 @bob", c.CastVote("bob")),
    ("goldenear close 2026-10", c.GoldenEar(True, "2026-10")),
    ("redeem Leave-Day", c.Redeem("leave-day")),
    ("取消 R7", c.CancelRedemption(7)),
    ("ledger @bob 50", c.Ledger("bob", 50)),
    ("语言 中文", c.SetLanguage("zh")),
    ("lang zh-hant", c.SetLanguage("zh-Hant")),
    ("语言 繁体", c.SetLanguage("zh-Hant")),
    ("語言 繁體", c.SetLanguage("zh-Hant")),
    ("lang Traditional", c.SetLanguage("zh-Hant")),
    ("語言 簡體", c.SetLanguage("zh")),
    ("help comp", c.Help("comp")),
    ("帮助 补偿", c.Help("comp")),
])
def test_examples(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(("text", "topic", "problem"), [
    ("comp -5 refund x", "comp", "error.amount"),
    ("comp 1.234 refund x", "comp", "error.amount"),
    ("comp 5 cash x", "comp", "error.kind"),
    ("comp 5 refund #ref", "comp", "error.reason"),
    ("waiver x @ someday", "waiver", "error.when"),
    ("waiver report W1 no slash here", "waiver", "error.report_fields"),
    ("vote bob", "vote", "error.handle"),
    ("approve X1", "approve", "error.reference"),
    ("cancel C1", "cancel", "error.reference"),
    ("goldenear close 2026-13", "goldenear", "error.month"),
    ("lang fr", "lang", ""),
    ("fly me to the moon", None, ""),
    ("", None, ""),
])
def test_usage_errors(text, topic, problem):
    assert parse(text) == c.Unparsed(topic, problem)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_any_text_parses_or_yields_usage(text):
    assert isinstance(parse(text), c.Command)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(sorted(VERBS)), st.lists(st.text(max_size=12) | st.sampled_from(
    ["@bob", "#A1", "12.5", "-3", "/", "@", "W1", "USD", "report", "close", "2h", "14:30"]),
    max_size=8))
def test_any_arguments_to_any_verb_parse_or_yield_usage(verb, words):
    result = parse(" ".join([verb, *words]))
    assert isinstance(result, c.Command)
    if isinstance(result, c.Unparsed):
        assert result.topic == VERBS[verb]
