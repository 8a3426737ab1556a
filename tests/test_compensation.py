from datetime import timedelta
from decimal import Decimal

from handlers.base import Message
from handlers.i18n import render_message, render_reply
from handlers.policy import TeamBudget
from storage.models import Compensation
from tests.conftest import Chat
from tests.support import count, notifications, rows


def test_within_authority_is_recorded_at_once(chat):
    reply = chat.ok("alice", "comp 120 voucher #A123 parcel two days late")
    assert reply.messages[0].key == "comp.recorded"
    (record,) = rows(chat.engine, Compensation)
    assert record.status == "self_authorised"
    assert (record.amount_minor, record.currency, record.kind) == (12000, "CNY", "voucher")
    assert record.customer_ref == "A123"
    assert record.reason == "parcel two days late"
    assert notifications(chat.engine, "wang") == []


def test_decimal_amounts_are_exact(chat):
    chat.ok("alice", "comp 199.99 refund wrong size")
    assert rows(chat.engine, Compensation)[0].amount_minor == 19999


def test_above_limit_asks_the_supervisor_who_approves(chat):
    reply = chat.ok("alice", "comp 350 refund #B9 broken vase")
    assert reply.messages[0].key == "comp.pending"
    (request,) = notifications(chat.engine, "wang")
    assert request.message_key == "notify.comp_request"
    assert [a["command"] for a in request.actions] == ["approve C1", "decline C1", "ask C1"]
    assert request.params["customer_ref"] == "B9"
    chat.ok("wang", "approve C1 fine by me")
    record = rows(chat.engine, Compensation)[0]
    assert (record.status, record.decision_comment) == ("approved", "fine by me")
    assert notifications(chat.engine, "alice")[0].message_key == "notify.comp_approved"


def test_decline_tells_the_employee(chat):
    chat.ok("alice", "comp 350 refund broken vase")
    chat.ok("wang", "decline C1")
    assert rows(chat.engine, Compensation)[0].status == "declined"
    assert notifications(chat.engine, "alice")[0].message_key == "notify.comp_declined_no_comment"


def test_only_the_assigned_approver_decides_and_only_once(chat):
    chat.ok("alice", "comp 350 refund broken vase")
    chat.refused("bob", "approve C1", "refuse.not_approver")
    chat.refused("hana", "approve C1", "refuse.not_approver")
    chat.ok("wang", "approve C1")
    chat.refused("wang", "decline C1 changed my mind", "refuse.already_decided")
    assert rows(chat.engine, Compensation)[0].status == "approved"


def test_nobody_approves_their_own_request(chat):
    chat.ok("wang", "comp 5000 upgrade suite for the wedding couple")  # wang has no supervisor
    assert notifications(chat.engine, "hana")[0].params["ref"] == "C1"
    chat.refused("wang", "approve C1", "refuse.self_approve")
    chat.ok("hana", "approve C1")


def test_daily_budget_sends_the_rest_for_approval(chat):
    chat.ok("alice", "comp 200 refund one")
    chat.ok("alice", "comp 200 refund two")
    reply = chat.ok("alice", "comp 150 refund three")
    assert reply.messages[0].params["why_key"] == "comp.why.daily_budget"
    # the next day the budget is fresh
    reply = chat.ok("alice", "comp 150 refund four", now=chat.now + timedelta(days=1))
    assert reply.messages[0].key == "comp.recorded"


def test_the_team_budgets_count_everyone_in_the_team_today_and_this_month(org, config):
    team_limited = config.model_copy(update={"team_budget": TeamBudget(
        daily=Decimal("300"), monthly=Decimal("500"))})
    chat = Chat(org, team_limited)
    chat.ok("alice", "comp 200 refund one")
    reply = chat.ok("bob", "comp 150 refund two")  # 350 today for the team: over 300
    assert reply.messages[0].params["why_key"] == "comp.why.team_daily_budget"
    chat.ok("wang", "approve C2")  # approved spend counts too
    later = chat.now + timedelta(days=1)
    reply = chat.ok("lilei", "comp 100 refund three", now=later)  # a new day: 100 today
    assert reply.messages[0].key == "comp.recorded"
    reply = chat.ok("lilei", "comp 60 refund four", now=later)  # 510 this month: over 500
    assert reply.messages[0].params["why_key"] == "comp.why.team_monthly_budget"


def test_other_configured_currency_always_needs_approval(chat):
    reply = chat.ok("alice", "comp 10 USD gift flowers")
    assert reply.messages[0].params["why_key"] == "comp.why.currency"
    assert rows(chat.engine, Compensation)[0].currency == "USD"


def test_wrong_currency_is_refused_and_changes_nothing(chat):
    chat.refused("alice", "comp 10 EUR gift flowers", "refuse.currency")
    assert count(chat.engine, Compensation) == 0


def test_malformed_amounts_get_usage_and_change_nothing(chat):
    for line in ("comp -5 refund x", "comp 0 refund x", "comp 12.345 refund x",
                 "comp abc refund x", "comp 10 banana x", "comp 10 refund"):
        reply = chat.reply("alice", line)
        assert not reply.ok, line
        assert reply.messages[-1].key == "usage.comp", line
    assert count(chat.engine, Compensation) == 0


def test_chinese_command(chat):
    chat.ok("lilei", "补偿 88.50 礼品 #Z9 送了一束花")
    record = rows(chat.engine, Compensation)[0]
    assert (record.amount_minor, record.kind, record.customer_ref) == (8850, "gift", "Z9")
    assert Decimal(record.amount_minor) / 100 == Decimal("88.5")


def test_me_shows_authority_and_usage(chat):
    chat.ok("alice", "comp 120 voucher late")
    text = chat("alice", "me")
    assert "200.00 CNY per incident" in text
    assert "used today 120.00 CNY / 500.00 CNY" in text


def test_the_approval_card_names_the_requesters_limit_and_the_reply_the_senders(chat):
    reply = chat.ok("alice", "comp 350 refund broken vase")
    assert reply.messages[0].params["why_key"] == "comp.why.limit"
    assert "above your per-incident limit" in render_reply(reply, "en")
    (card,) = notifications(chat.engine, "wang")
    assert card.params["why_key"] == "comp.why_theirs.limit"
    shown = {locale: render_message(Message(card.message_key, card.params), locale)
             for locale in ("en", "zh", "zh-Hant")}
    assert "above their per-incident limit" in shown["en"]
    assert "申请人的单次授权额度" in shown["zh"] and "你的" not in shown["zh"]
    assert "申請人的單次授權額度" in shown["zh-Hant"] and "你的" not in shown["zh-Hant"]


def test_deciding_a_self_authorised_compensation_says_it_waits_for_nobody(chat):
    chat.ok("alice", "comp 120 voucher parcel late")
    for who in ("wang", "alice", "hana"):
        chat.refused(who, "approve C1", "refuse.not_awaiting")
    assert rows(chat.engine, Compensation)[0].status == "self_authorised"


def test_hr_over_their_limit_with_nobody_else_to_approve_is_told_so(chat):
    reply = chat.refused("hana", "comp 5000 upgrade suite", "refuse.no_other_approver")
    assert "ask HR" not in render_reply(reply, "en")
    assert count(chat.engine, Compensation) == 0


def test_a_decision_without_a_comment_shows_none_rather_than_a_dash(chat):
    chat.ok("alice", "comp 350 refund broken vase")
    chat.ok("alice", "comp 360 refund broken lamp")
    chat.ok("wang", "approve C1")
    chat.ok("wang", "decline C2 not our fault")
    bare, commented = notifications(chat.engine, "alice")
    for locale in ("en", "zh", "zh-Hant"):
        shown = render_message(Message(bare.message_key, bare.params), locale)
        assert not shown.rstrip().endswith(("-", ":", "：")), shown
        assert "not our fault" in render_message(
            Message(commented.message_key, commented.params), locale)


def test_pending_says_who_asks_for_what_how_much_and_since_when(chat):
    chat.ok("alice", "comp 350 refund #B9 broken vase")
    chat.ok("lilei", "建议 门口放伞架", now=chat.now + timedelta(minutes=5))
    reply = chat.ok("wang", "pending")
    assert [m.key for m in reply.messages] == ["pending.header", "pending.line.C",
                                               "pending.line.S"]
    assert [a.command for a in reply.actions] == ["approve C1", "decline C1", "ask C1",
                                                  "approve S1", "decline S1", "ask S1"]
    english, chinese = render_reply(reply, "en"), render_reply(reply, "zh")
    assert "• C1 Alice Chen: 350.00 CNY refund — broken vase (waiting since 2026-11-23 10:00)" \
        in english
    assert "• S1 李雷 Li Lei：建议「门口放伞架」（2026-11-23 10:05 起待审批）" in chinese
    assert chat.ok("hana", "pending").messages[0].key == "pending.none"
