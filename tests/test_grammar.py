from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.approvals import Decide
from handlers.compensation import Compensate
from handlers.golden_ear import CastVote, CloseGoldenEar, Nominate
from handlers.grammar import parse
from handlers.help import Help
from handlers.ledger_review import Ledger
from handlers.praise import PraiseLog, Touching
from handlers.profile import SetLanguage
from handlers.redemptions import CancelRedemption, Redeem
from handlers.registry import Command, OpenForm, Unparsed
from handlers.waivers import Occurred, WaiverList, WaiverOpen, WaiverReport
from handlers.words import verbs


@pytest.mark.parametrize(("text", "expected"), [
    ("comp 120 voucher #A123 parcel late",
     Compensate(Decimal("120"), None, "voucher", "A123", "parcel late")),
    ("/comp@frontline_bot 99.5 USD refund broken", Compensate(Decimal("99.5"), "USD", "refund",
                                                                "", "broken")),
    ("补偿 ¥88 礼品 送花", Compensate(Decimal("88"), None, "gift", "", "送花")),
    ("补偿 50元 升级 #R1 房间吵", Compensate(Decimal("50"), None, "upgrade", "R1", "房间吵")),
    ("waiver no refunds without receipt", WaiverOpen("no refunds without receipt")),
    ("waiver dress code @ 2h", WaiverOpen("dress code", Occurred(ago=timedelta(hours=2)))),
    ("豁免 着装规定 @ 14：30", WaiverOpen("着装规定", Occurred(today_at=time(14, 30)))),
    ("waiver x @ 2026-11-20 08:15",
     WaiverOpen("x", Occurred(local=datetime(2026, 11, 20, 8, 15)))),
    ("waiver report W3 gave a room / guest was ill #R77 80.5 USD",
     WaiverReport(3, "gave a room", "guest was ill", "R77", Decimal("80.5"), "USD")),
    ("豁免 报备 3 先退款 ／ 老顾客", WaiverReport(3, "先退款", "老顾客")),
    ("waiver list", WaiverList()),
    ("praise @Alice she found my ring", PraiseLog("she found my ring", "alice")),
    ("praise thank you note https://files.test/a.mp3",
     PraiseLog("thank you note", None, "https://files.test/a.mp3")),
    ("感动 P5", Touching(5)),
    ("approve c12 ok then", Decide("C", 12, True, "ok then")),
    ("accept S1", Decide("S", 1, True, "")),
    ("confirm M2 well done", Decide("M", 2, True, "well done")),
    ("采纳 S1", Decide("S", 1, True, "")),
    ("確認 P4", Decide("P", 4, True, "")),
    ("deny C3 no", Decide("C", 3, False, "no")),
    ("拒绝 #W3 理由不充分", Decide("W", 3, False, "理由不充分")),
    ("nominate @bob listened", Nominate("bob", "listened")),
    ("投票 @bob", CastVote("bob")),
    ("goldenear close 2026-10", CloseGoldenEar("2026-10")),
    ("redeem Leave-Day", Redeem("leave-day")),
    ("取消 R7", CancelRedemption(7)),
    ("ledger @bob 50", Ledger("bob", 50)),
    ("语言 中文", SetLanguage("zh")),
    ("help comp", Help("comp")),
    ("帮助 补偿", Help("comp")),
    ("help foo", Help(None, "foo")),
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
    ("waiver report W2 did x / because y #C1 1.234", "waiver", "error.amount"),
    ("vote bob", "vote", "error.handle"),
    ("approve X1", "approve", "error.reference"),
    ("cancel C1", "cancel", "error.reference"),
    ("goldenear close 2026-13", "goldenear", "error.month"),
    ("lang fr", "lang", ""),
    ("fly me to the moon", None, ""),
    ("", None, ""),
])
def test_usage_errors(text, topic, problem):
    assert parse(text) == Unparsed(topic, problem)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_any_text_parses_or_yields_usage(text):
    assert isinstance(parse(text), Command)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(sorted(verbs())), st.lists(st.text(max_size=12) | st.sampled_from(
    ["@bob", "#A1", "12.5", "-3", "/", "@", "W1", "USD", "report", "close", "2h", "14:30"]),
    max_size=8))
def test_any_arguments_to_any_verb_parse_or_yield_usage(verb, words):
    result = parse(" ".join([verb, *words]))
    assert isinstance(result, Command)
    if isinstance(result, Unparsed):
        assert result.topic == verbs()[verb]


def test_forms_open_from_their_verb_alone():
    assert parse("comp") == OpenForm("comp", "comp")
    assert parse("/豁免 报备") == OpenForm("waiver", "waiver")
    assert parse("waiver report #w3") == OpenForm("waiver", "waiver", "W3")
    assert parse("waiver report x") == Unparsed("waiver")


@pytest.mark.parametrize(("text", "expected"), [
    ("補償 120 代金券 #A1 包裹晚到", Compensate(Decimal("120"), None, "voucher", "A1", "包裹晚到")),
    ("表揚 @alice 客戶說她很耐心", PraiseLog("客戶說她很耐心", "alice")),
    ("豁免 報備 W3 先退款 / 老顧客", WaiverReport(3, "先退款", "老顧客")),
    ("豁免 著裝規定 @ 2小時", WaiverOpen("著裝規定", Occurred(ago=timedelta(hours=2)))),
    ("兌換 leave-day", Redeem("leave-day")),
    ("駁回 S4 成本太高", Decide("S", 4, False, "成本太高")),
    ("金耳朵 結算 2026-10", CloseGoldenEar("2026-10")),
    ("語言 繁體", SetLanguage("zh-Hant")),
    ("lang zh-hant", SetLanguage("zh-Hant")),
    ("幫助 補償", Help("comp")),
])
def test_traditional_chinese_commands(text, expected):
    assert parse(text) == expected


# Traditional words as Taiwan writes them beside Hong Kong's spelling of the same word.
@pytest.mark.parametrize(("taiwan", "hong_kong"), [
    ("訊號", "信號"),  # signals
    ("兌換 leave-day", "兑換 leave-day"),  # redeem
    ("兌現 R4", "兑現 R4"),  # approve
    ("委員會 開啟 it-systems @wang", "委員會 開啓 it-systems @wang"),  # council open
])
def test_hong_kong_forms_mean_what_taiwans_do(taiwan, hong_kong):
    expected = parse(taiwan)
    assert not isinstance(expected, Unparsed)
    assert parse(hong_kong) == expected
