"""The recovery loop: a case opened by itself from an unhappy response (once, whatever
is imported again), reaching its holder and their supervisor with its buttons, chased
before and after its deadline on a driven clock, goodwill shown under it, closed with
its outcome; the refusals; the masking of the customer's words. Both stores."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.kit.config import DEMO_CATALOG, parse_config
from handlers import feedback, feedback_days
from handlers.i18n import render_reply
from handlers.recovery.masking import mask
from rituals.reminders import run_reminders
from storage.engine import transaction
from storage.enums import RecoveryOutcome, RecoveryStatus
from storage.models import FeedbackDay, Outbox, RecoveryCase, RequestEvent
from tests.support import count, employee, notifications, rows

HEADER = "kind,team,employee,score,text,customer_ref,touchpoint,source,source_id,received_at"
DETRACTOR = ("nps,Harbour Street Store,alice,3,Rude at the till. Call me on 138 1234 5678 "
             "or mail li.na@example.com,CUST1,till,surveyhub,r1,2026-11-23T01:00:00Z")


def imported(chat, *lines: str, now: datetime | None = None, config=None) -> feedback.Imported:
    with transaction(chat.engine) as session:
        return feedback.import_csv(session, "\n".join((HEADER, *lines)) + "\n",
                                   now or chat.now, chat.config.themes, config or chat.config)


def cases(chat) -> list[RecoveryCase]:
    return rows(chat.engine, RecoveryCase)


def keys(chat, handle: str) -> list[str]:
    return [n.message_key for n in notifications(chat.engine, handle)]


def test_an_imported_detractor_naming_a_person_opens_one_case_for_them(chat):
    assert imported(chat, DETRACTOR).added == 1
    [case] = cases(chat)
    alice, wang = employee(chat.engine, "alice"), employee(chat.engine, "wang")
    assert (case.holder_id, case.employee_id, case.kind, case.score, case.customer_ref,
            case.touchpoint, case.status) == (alice.id, alice.id, "nps", 3, "CUST1", "till",
                                              RecoveryStatus.OPEN)
    assert case.due_at == chat.now + timedelta(hours=24)
    assert "138" not in case.text and "li.na" not in case.text  # masked before it is kept
    assert "**78" in case.text and "l***@e***.com" in case.text
    # the card reaches alice with its buttons; her supervisor sees it too
    [card] = [n for n in notifications(chat.engine, "alice")
              if n.message_key == "notify.recovery_case"]
    assert [a["command"] for a in card.actions] == [
        "recover K1 reached", "recover K1 unreached", "recover K1"]
    assert card.params["due"] == "2026-11-24 10:00" and card.params["what"] == "NPS 3"
    [seen] = [n for n in notifications(chat.engine, "wang")
              if n.message_key == "notify.recovery_case_supervisor"]
    assert seen.params["who"] == "Alice Chen" and len(seen.actions) == 3
    # a re-import, or the same response pushed again, opens none
    assert imported(chat, DETRACTOR).duplicates == 1
    item = feedback.FeedbackItem(kind="nps", score=3, employee="alice", source="surveyhub",
                                 source_id="r1")
    with transaction(chat.engine) as session:
        kept = feedback.record(session, item, *feedback.resolve(session, item), chat.now,
                               chat.config.themes, chat.config)
    assert kept.id is None and kept.case_id is None
    assert len(cases(chat)) == 1 and keys(chat, "alice").count("notify.recovery_case") == 1
    assert wang.id != alice.id



def test_an_import_in_batches_opens_each_case_once_whatever_the_lines_order(chat, monkeypatch):
    """Two responses a batch: a response repeated in a later batch is kept once, a good
    score credits the customer's case from an earlier batch, and a good score on a line
    above its customer's earlier detractor credits that one too."""
    monkeypatch.setattr(feedback, "BATCH", 2)
    lines = [DETRACTOR,  # K1, alice's
             "nps,Harbour Street Store,bob,10,,CUST2,till,surveyhub,r2,2026-11-23T02:00:00Z",
             "complaint,Harbour Street Store,,,cold soup,CUST4,,surveyhub,r3,2026-11-23T03:00:00Z",
             DETRACTOR,  # the same response again
             "nps,Harbour Street Store,,10,,CUST3,till,surveyhub,r5,2026-11-25T00:00:00Z",
             "nps,Harbour Street Store,,2,,CUST3,till,surveyhub,r6,2026-11-20T00:00:00Z",
             "nps,Harbour Street Store,alice,9,,cust1,till,surveyhub,r7,2026-11-24T00:00:00Z"]
    assert imported(chat, *lines) == feedback.Imported(added=6, duplicates=1)
    alice, wang = employee(chat.engine, "alice"), employee(chat.engine, "wang")
    assert [(c.id, c.customer_ref, c.holder_id) for c in cases(chat)] == [
        (1, "CUST1", alice.id), (2, "CUST4", wang.id), (3, "CUST3", wang.id)]
    assert sorted(e.ref for e in rows(chat.engine, RequestEvent, event="case_yield")) == [
        "K1", "K3"]
    assert keys(chat, "bob") == ["notify.customer_voice_score"]
    assert keys(chat, "alice") == ["notify.recovery_case", "notify.customer_voice_score",
                                   "notify.recovery_yield"]
    # the daily counts written once per batch are those every response adds up to
    counted = [(d.team_id, d.day, d.employee_id, d.theme, d.responses, d.detractors)
               for d in rows(chat.engine, FeedbackDay)]
    with transaction(chat.engine) as session:
        feedback_days.rebuild(session.connection())
    assert counted == [(d.team_id, d.day, d.employee_id, d.theme, d.responses, d.detractors)
                       for d in rows(chat.engine, FeedbackDay)]
    queued, events = count(chat.engine, Outbox), count(chat.engine, RequestEvent)
    assert imported(chat, *lines) == feedback.Imported(added=0, duplicates=7)
    assert (len(cases(chat)), count(chat.engine, Outbox), count(chat.engine, RequestEvent)) \
        == (3, queued, events)

def test_the_rules_decide_which_responses_open_a_case(chat):
    lines = [f"{kind},Harbour Street Store,bob,{score},{text},,,t,{n},"
             for n, (kind, score, text) in enumerate([
                 ("nps", 7, ""), ("csat", 3, ""), ("ces", 5, ""),  # none of these
                 ("csat", 2, ""), ("ces", 6, ""), ("complaint", "", "cold food")])]
    imported(chat, *lines)
    opened = cases(chat)
    assert [(c.kind, c.score) for c in opened] == [("csat", 2), ("ces", 6), ("complaint", None)]
    assert opened[2].due_at == chat.now + timedelta(hours=4)  # a complaint: 4 h
    strict = parse_config({"catalog": DEMO_CATALOG, "recovery": {
        "rules": ["complaint"], "complaint_callback_hours": 2}})
    imported(chat, "nps,Harbour Street Store,bob,0,,,,t,10,",
             "complaint,Harbour Street Store,bob,,rude,,,t,11,", config=strict)
    assert [c.kind for c in cases(chat)][3:] == ["complaint"]  # the NPS rule is off
    assert cases(chat)[3].due_at == chat.now + timedelta(hours=2)


def test_a_response_naming_nobody_reaches_the_teams_supervisor_or_their_delegate(chat):
    imported(chat, "complaint,Harbour Street Store,,,long queue,C9,,t,1,")
    wang = employee(chat.engine, "wang")
    assert cases(chat)[0].holder_id == wang.id and "notify.recovery_case" in keys(chat, "wang")
    chat.ok("wang", "away until 2026-11-30 @bob")
    imported(chat, "complaint,Harbour Street Store,,,no receipt,C10,,t,2,")
    assert cases(chat)[1].holder_id == employee(chat.engine, "bob").id
    assert "notify.recovery_case" in keys(chat, "bob")
    assert "K2" in chat("bob", "pending") and "K1" not in chat("bob", "pending")


def test_reminder_then_escalation_to_the_supervisor_then_hr_on_a_driven_clock(chat):
    imported(chat, DETRACTOR)
    due = cases(chat)[0].due_at
    with transaction(chat.engine) as session:
        run_reminders(session, chat.config, due - timedelta(hours=3))  # too early
    assert "notify.recovery_due_soon" not in keys(chat, "alice")
    for minutes in (119, 60):  # twice within the window: reminded once
        with transaction(chat.engine) as session:
            run_reminders(session, chat.config, due - timedelta(minutes=minutes))
    assert keys(chat, "alice").count("notify.recovery_due_soon") == 1
    with transaction(chat.engine) as session:
        summary = run_reminders(session, chat.config, due + timedelta(minutes=1))
    assert "1 recovery call-back reminders and escalations" in summary
    [overdue] = [n for n in notifications(chat.engine, "wang")
                 if n.message_key == "notify.recovery_overdue"]
    assert overdue.params["who"] == "Alice Chen" and len(overdue.actions) == 3
    assert "notify.recovery_overdue" not in keys(chat, "hana")
    for hours in (24, 30):
        with transaction(chat.engine) as session:
            run_reminders(session, chat.config, due + timedelta(hours=hours))
    assert keys(chat, "hana").count("notify.recovery_overdue") == 1
    assert keys(chat, "wang").count("notify.recovery_overdue") == 1
    history = chat("alice", "history K1")
    assert "reminded of the deadline" in history
    assert "call-back overdue: 王芳 Wang Fang told" in history
    assert "call-back overdue: Hana Xu told" in history
    assert chat.reply("hana", "recover K1 unreached voicemail").ok  # HR may act


def test_a_case_called_back_is_chased_no_more(chat):
    imported(chat, DETRACTOR)
    chat.ok("alice", "recover K1 reached apologised")
    with transaction(chat.engine) as session:
        run_reminders(session, chat.config, chat.now + timedelta(hours=30))
    assert "notify.recovery_overdue" not in keys(chat, "wang")


def test_goodwill_under_the_customer_reference_shows_on_the_case_and_closing_records_it(chat):
    imported(chat, DETRACTOR)
    chat.ok("alice", "comp 50 voucher #CUST1 sorry for the wait")
    chat.ok("alice", "comp 20 gift #K1 a sorry card")
    chat.ok("alice", "comp 30 gift #OTHER not this customer")
    reached = chat.ok("alice", "recover K1 reached apologised, she will come back")
    assert [a.command for a in reached.actions] == [
        "recover K1 close recovered", "recover K1 close lost", "recover K1 close declined"]
    shown = chat("alice", "recover K1")
    assert "goodwill C1 by Alice Chen: 50.00 CNY voucher — sorry for the wait" in shown
    assert "goodwill C2 by Alice Chen: 20.00 CNY gift" in shown and "C3" not in shown
    closed = chat.ok("alice", "recover K1 close recovered happy again", key="slack:msg:1")
    assert closed.messages[0].key == "recovery.closed"
    [case] = cases(chat)
    assert (case.status, case.outcome, case.closed_by_id) == (
        RecoveryStatus.CLOSED, RecoveryOutcome.RECOVERED, employee(chat.engine, "alice").id)
    assert case.called_back_at == chat.now
    # the same event again (a platform's retry) changes nothing and answers the same
    assert chat.reply("alice", "recover K1 close lost", key="slack:msg:1") == closed
    history = chat("alice", "history K1")
    assert "Alice Chen reached the customer: apologised, she will come back" in history
    assert "Alice Chen closed it, recovered: happy again" in history
    assert "goodwill C1" in history
    chinese = render_reply(chat.reply("alice", "历史 K1"), "zh")
    assert "结案，已挽回" in chinese


def test_handing_over_and_the_wrong_person_acting(chat):
    imported(chat, DETRACTOR)
    chat.refused("lilei", "recover K1 reached", "refuse.not_found")  # no part in it
    chat.refused("lilei", "history K1", "refuse.not_found")
    chat.ok("wang", "recover K1 hand @bob she speaks Cantonese")  # the supervisor may
    assert cases(chat)[0].holder_id == employee(chat.engine, "bob").id
    [handed] = [n for n in notifications(chat.engine, "bob")
                if n.message_key == "notify.recovery_handed"]
    assert handed.params["note"] == "she speaks Cantonese" and len(handed.actions) == 3
    assert "notify.recovery_taken" in keys(chat, "alice")
    chat.refused("alice", "recover K1 reached", "refuse.case_not_yours")  # handed away
    chat.refused("bob", "recover K1 @bob", "refuse.case_same_holder")
    chat.refused("bob", "recover K1 hand @nobody", "refuse.unknown_handle")
    assert "handed it to Bob Li: she speaks Cantonese" in chat("alice", "history K1")
    assert "K1" in chat("bob", "pending") and "K1" in chat("bob", "recover")
    assert chat.reply("alice", "recover").messages[0].key == "recovery.none"


def test_refusals_change_nothing(chat):
    imported(chat, DETRACTOR)
    before = (count(chat.engine, RequestEvent), count(chat.engine, Outbox))
    chat.refused("alice", "recover K99 reached", "refuse.not_found")
    chat.refused("alice", "history K99", "refuse.not_found")
    for malformed in ("recover X1 reached", "recover K reached", "recover K1 maybe",
                      "recover K1 close", "recover K1 close perhaps", "recover K1 hand bob"):
        assert not chat.reply("alice", malformed).ok, malformed
    assert chat.reply("alice", "recover K1 close perhaps").messages[0].key == \
        "error.recover_outcome"
    chat.refused("alice", f"recover K1 reached {'x' * 600}", "input.too_long")
    chat.refused("alice", f"recover K1 close recovered {'话' * 10_000}",
                 "input.message_too_long")
    assert (count(chat.engine, RequestEvent), count(chat.engine, Outbox)) == before
    chat.ok("alice", "recover K1 close not recovered moved away")
    assert cases(chat)[0].outcome == RecoveryOutcome.NOT_RECOVERED
    for step in ("reached", "unreached", "hand @bob", "close recovered"):
        refused = chat.refused("alice", f"recover K1 {step}", "refuse.case_closed")
    assert "K1 is closed already (not recovered)" in render_reply(refused, "en")
    assert "已结案（未挽回）" in render_reply(refused, "zh")
    assert "已結案（未挽回）" in render_reply(refused, "zh-Hant")
    assert cases(chat)[0].holder_id == employee(chat.engine, "alice").id


@pytest.mark.parametrize(("text", "masked"), [
    ("call me 13812345678 please", "call me *********78 please"),
    ("电话13812345678谢谢", "电话*********78谢谢"),
    ("+86 138-1234-5678", "+** ***-****-**78"),
    ("0086 13812345678", "**** *********78"),
    ("座机 (021) 6123 4567", "座机 (***) **** **67"),
    ("香港 9123 4567", "香港 **** **67"),
    ("臺灣 0912-345-678", "臺灣 ****-***-*78"),
    ("+1 (415) 555-0132", "+* (***) ***-**32"),
    ("+44 20 7946 0958", "+** ** **** **58"),
    ("全角 １３８１２３４５６７８", "全角 *********７８"),
    ("write to li.na+vip@example.com.cn", "write to l***@e***.cn"),
    ("邮箱 王小明@例子.中国 谢谢", "邮箱 王***@例***.中国 谢谢"),
])
def test_phone_numbers_and_e_mail_addresses_are_masked(text, masked):
    assert mask(text) == masked


@pytest.mark.parametrize("kept", [
    "on 2026-11-23 I paid 120.50 for 3 items", "order A1234567", "room 1203, 2 nights",
    "等了 45 分钟", "1234567.50 in total"])
def test_dates_amounts_and_codes_are_not_taken_for_phone_numbers(kept):
    assert mask(kept) == kept


def test_the_case_opens_at_the_time_it_was_kept(chat):
    later = datetime(2026, 11, 25, 6, tzinfo=UTC)
    imported(chat, DETRACTOR, now=later)
    assert cases(chat)[0].opened_at == later
