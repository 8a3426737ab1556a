from datetime import timedelta

from handlers import waivers
from handlers.i18n import render_reply
from storage.engine import transaction
from storage.models import Waiver
from tests.support import count, notifications, rows


def test_open_now_is_due_in_24_hours(chat):
    reply = chat.ok("alice", "waiver no refunds without receipt")
    assert reply.messages[0].key == "waiver.opened"
    (waiver,) = rows(chat.engine, Waiver)
    assert waiver.occurred_at == chat.now
    assert waiver.due_at == chat.now + timedelta(hours=24)
    assert waiver.status == "open"


def test_open_at_a_time_in_the_organisation_timezone(chat):
    chat.ok("alice", "waiver no refunds without receipt @ 08:30")  # now is 10:00 Shanghai
    assert rows(chat.engine, Waiver)[0].occurred_at == chat.now - timedelta(minutes=90)
    chat.ok("alice", "豁免 先付款后服务 @ 2小时")
    assert rows(chat.engine, Waiver)[1].occurred_at == chat.now - timedelta(hours=2)
    chat.ok("alice", "waiver dress code @ 2026-11-22 18:00")
    assert rows(chat.engine, Waiver)[2].occurred_at.isoformat() == "2026-11-22T10:00:00+00:00"


def test_a_time_in_the_future_is_refused(chat):
    chat.refused("alice", "waiver dress code @ 2027-01-01 10:00", "refuse.future")
    chat.refused("alice", "waiver dress code @ 2026-11-23 10:30", "refuse.future")
    assert count(chat.engine, Waiver) == 0


def test_a_clock_time_not_reached_yet_today_was_yesterdays(chat):
    past_one = chat.now.replace(hour=17, minute=14)  # 01:14 on 24 November in Shanghai
    chat.ok("alice", "waiver dress code @ 23:59", now=past_one)
    chat.ok("alice", "waiver no receipt @ 01:00", now=past_one)
    first, second = rows(chat.engine, Waiver)
    assert first.occurred_at.isoformat() == "2026-11-23T15:59:00+00:00"  # 23:59 last night
    assert second.occurred_at.isoformat() == "2026-11-23T17:00:00+00:00"  # 01:00 today


def test_unreadable_time_gets_usage(chat):
    reply = chat.reply("alice", "waiver dress code @ yesterday-ish")
    assert [m.key for m in reply.messages] == ["error.when", "usage.waiver"]


def test_report_on_time_goes_to_the_supervisor(chat):
    chat.ok("alice", "waiver no refunds without receipt @ 1h")
    reply = chat.ok("alice", "waiver report W1 refunded anyway / regular customer #C77 45")
    assert reply.messages[0].params["late_key"] == "waiver.on_time"
    waiver = rows(chat.engine, Waiver)[0]
    assert (waiver.status, waiver.late, waiver.customer_ref) == ("reported", False, "C77")
    assert (waiver.done_instead, waiver.why) == ("refunded anyway", "regular customer")
    assert (waiver.cost_minor, waiver.currency) == (4500, "CNY")
    assert notifications(chat.engine, "wang")[0].message_key == "notify.waiver_review"


def test_report_after_the_deadline_is_accepted_and_marked_late(chat):
    chat.ok("alice", "waiver dress code")
    chat.ok("alice", "waiver report W1 wore trainers / flooded street",
            now=chat.now + timedelta(hours=25))
    assert rows(chat.engine, Waiver)[0].late is True


def test_only_the_owner_reports_and_only_once(chat):
    chat.ok("alice", "waiver dress code")
    chat.refused("bob", "waiver report W1 a / b", "refuse.not_found")
    chat.ok("alice", "waiver report W1 a / b")
    chat.refused("alice", "waiver report W1 c / d", "refuse.already_reported")


def test_supervisor_ratifies_or_rejects_with_a_comment(chat):
    chat.ok("alice", "waiver dress code")
    chat.refused("wang", "approve W1", "refuse.not_reported")
    chat.ok("alice", "waiver report W1 wore trainers / flooded street")
    chat.refused("bob", "approve W1", "refuse.not_approver")
    chat.refused("alice", "approve W1", "refuse.self_approve")
    chat.refused("wang", "reject W1", "refuse.comment_required")
    chat.ok("wang", "reject W1 take spare shoes next time")
    waiver = rows(chat.engine, Waiver)[0]
    assert (waiver.status, waiver.review_comment) == ("rejected", "take spare shoes next time")
    chat.refused("wang", "ratify W1", "refuse.already_decided")
    assert notifications(chat.engine, "alice")[0].message_key == "notify.waiver_rejected"


def test_overdue_waivers_are_escalated_once(chat):
    chat.ok("alice", "waiver dress code")
    later = chat.now + timedelta(hours=24, minutes=1)
    with transaction(chat.engine) as session:
        assert waivers.escalate_overdue(session, chat.config, chat.now + timedelta(hours=23)) == 0
        assert waivers.escalate_overdue(session, chat.config, later) == 1
        assert waivers.escalate_overdue(session, chat.config, later + timedelta(hours=1)) == 0
    assert [n.message_key for n in notifications(chat.engine, "wang")] == [
        "notify.waiver_overdue_supervisor"]
    assert [n.message_key for n in notifications(chat.engine, "alice")] == [
        "notify.waiver_overdue_employee"]


def test_reported_a_minute_before_the_deadline_is_not_escalated(chat):
    chat.ok("alice", "waiver dress code")
    chat.ok("alice", "waiver report W1 a / b", now=chat.now + timedelta(hours=23, minutes=59))
    with transaction(chat.engine) as session:
        assert waivers.escalate_overdue(session, chat.config, chat.now + timedelta(hours=30)) == 0
    assert rows(chat.engine, Waiver)[0].late is False


def test_reminder_before_the_deadline_once(chat):
    chat.ok("alice", "waiver dress code")
    window = timedelta(hours=4)
    with transaction(chat.engine) as session:
        assert waivers.remind_due(session, chat.config, chat.now + timedelta(hours=10), window) == 0
        assert waivers.remind_due(session, chat.config, chat.now + timedelta(hours=21), window) == 1
        assert waivers.remind_due(session, chat.config, chat.now + timedelta(hours=22), window) == 0
    assert notifications(chat.engine, "alice")[0].message_key == "notify.waiver_due_soon"


def test_list_shows_own_and_to_review(chat):
    chat.ok("alice", "waiver dress code")
    chat.ok("wang", "waiver queue rule")
    chat.ok("alice", "waiver report W1 a / b")
    text = chat("wang", "waivers")
    assert "W2" in text and "1 waiver waits for your review:" in text and "W1" in text


def test_a_trailing_number_that_is_no_valid_cost_is_refused_not_taken_as_reason(chat):
    chat.ok("alice", "waiver dress code")
    for line in ("waiver report W1 did x / because y #C1 1.234",
                 "waiver report W1 did x / because y -5",
                 "waiver report W1 did x / because y 1.234 USD"):
        reply = chat.reply("alice", line)
        assert [m.key for m in reply.messages] == ["error.amount", "usage.waiver"], line
    assert rows(chat.engine, Waiver)[0].status == "open"
    chat.ok("alice", "waiver report W1 did x / waited 2h #C1 12.50 USD")
    waiver = rows(chat.engine, Waiver)[0]
    assert (waiver.why, waiver.customer_ref, waiver.cost_minor, waiver.currency) == (
        "waited 2h", "C1", 1250, "USD")


def test_an_overdue_waiver_says_how_long_overdue_never_zero_hours_left(chat):
    chat.ok("alice", "waiver dress code")
    listed = chat("alice", "waivers", now=chat.now + timedelta(hours=26, minutes=30))
    assert "2.5 hours overdue" in listed and "left" not in listed
    reply = chat.ok("alice", "waivers", now=chat.now + timedelta(hours=23, minutes=58))
    assert reply.messages[1].key == "waiver.line_open"
    assert reply.messages[1].params["hours"] == "0.1"  # two minutes left, not "0.0"
    opened = chat.ok("alice", "waiver no receipt @ 2026-11-21 18:00")
    assert opened.messages[0].key == "waiver.opened_overdue"
    assert opened.messages[0].params["hours"] == "16.0"


def test_a_refusal_shows_the_command_to_type_with_the_readers_verb(chat):
    chat.ok("lilei", "豁免 着装要求")
    chat.ok("lilei", "豁免 报备 W1 穿了运动鞋 / 街道积水")
    reply = chat.refused("wang", "驳回 W1", "refuse.comment_required")
    for locale, verb in (("en", "decline W1 <reason>"), ("zh", "拒绝 W1 <理由>"),
                         ("zh-Hant", "拒絕 W1 <理由>")):
        assert verb in render_reply(reply, locale)
