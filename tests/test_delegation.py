"""Approvals that do not wait on one person: out-of-office delegates, questions on a
waiting request, and the request's history."""

from datetime import timedelta

from handlers.i18n import render_reply
from rituals.reminders import nudge_approvers
from storage.engine import transaction
from storage.models import Compensation, Delegation, RequestEvent
from tests.support import employee, notifications, rows


def approver_of(chat, record_id: int) -> str:
    record = rows(chat.engine, Compensation, id=record_id)[0]
    return next(e.handle for e in rows(chat.engine, type(employee(chat.engine, "wang")))
                if e.id == record.approver_id)


def test_away_moves_waiting_requests_and_sends_new_ones_to_the_delegate(chat):
    chat.ok("alice", "comp 350 refund #B9 broken vase")  # C1 waits for wang
    reply = chat.ok("wang", "away until 2026-11-25 @hana")
    assert reply.messages[0].params["count"] == 1
    assert approver_of(chat, 1) == "hana"
    assert [n.message_key for n in notifications(chat.engine, "hana")] == [
        "notify.approval_delegated", "notify.away_delegate"]
    chat.ok("bob", "comp 400 refund #X1 flood")  # C2, during the absence
    assert approver_of(chat, 2) == "hana"
    chat.refused("wang", "approve C2", "refuse.not_approver")
    chat.ok("hana", "approve C2")
    # through the last day, then back to wang
    chat.ok("bob", "comp 400 refund #X2 flood", now=chat.now + timedelta(days=2, hours=13))
    assert approver_of(chat, 3) == "hana"
    chat.ok("bob", "comp 400 refund #X3 flood", now=chat.now + timedelta(days=2, hours=14))
    assert approver_of(chat, 4) == "wang"
    text = chat("alice", "history C1")
    assert "王芳 Wang Fang away through 2026-11-25: moved to Hana Xu" in text


def test_nobody_approves_their_own_request_through_a_delegation(chat):
    chat.ok("wang", "away until 2026-11-30 @alice")
    chat.ok("alice", "comp 350 refund #B9 broken vase")
    assert approver_of(chat, 1) == "hana"  # the delegate is the requester: HR
    chat.ok("bob", "comp 350 refund #B9 broken vase")
    assert approver_of(chat, 2) == "alice"
    chat.refused("alice", "approve C1", "refuse.self_approve")


def test_a_delegate_away_too_passes_it_to_the_supervisor_or_hr(chat):
    chat.ok("hana", "away until 2026-11-30 @bob")
    chat.ok("wang", "away until 2026-11-30 @hana")
    chat.ok("alice", "comp 350 refund #B9 broken vase")
    # wang's delegate is away, so wang's own fallback (HR: hana) by the same rule: bob
    assert approver_of(chat, 1) == "bob"
    chat.ok("bob", "comp 350 refund #B9 broken vase")
    assert approver_of(chat, 2) == "hana"  # never the requester: the last one on duty
    chat.ok("hana", "away off")
    assert chat.ok("hana", "away").messages[0].key == "away.none"
    chat.ok("lilei", "comp 350 refund #B9 broken vase")
    assert approver_of(chat, 3) == "hana"


def test_escalations_go_to_the_delegate(chat, config):
    chat.ok("alice", "comp 350 refund #B9 broken vase")
    chat.ok("hana", "away until 2026-11-30 @bob")
    with transaction(chat.engine) as session:
        nudge_approvers(session, config, chat.now + timedelta(hours=73))
    assert approver_of(chat, 1) == "bob"
    text = chat("alice", "history C1")
    assert "escalated to Bob Li" in text


def test_who_may_set_an_absence_and_how(chat):
    chat.refused("alice", "away until 2026-11-30 @bob", "refuse.role")
    chat.refused("wang", "away until 2026-11-30 @wang", "refuse.away_self")
    chat.refused("wang", "away until 2026-11-01 @bob", "refuse.away_dates")
    assert chat.ok("wang", "外出 到 2026-11-30 @bob").messages[0].key == "away.set"
    assert chat.ok("wang", "away").messages[0].key == "away.status"
    assert not chat.reply("wang", "away tomorrow @bob").ok
    assert chat.ok("wang", "away off").messages[0].key == "away.cleared"
    (delegation,) = rows(chat.engine, Delegation)
    assert delegation.cleared_at is not None


def test_asking_for_more_keeps_the_request_open_and_the_answer_returns(chat):
    chat.ok("alice", "comp 350 refund #B9 broken vase")
    chat.refused("bob", "ask C1 why?", "refuse.not_approver")
    chat.refused("alice", "ask C1 why?", "refuse.self_approve")
    chat.refused("alice", "answer C1 nothing", "refuse.nothing_asked")
    reply = chat.ok("wang", "ask C1 which order was it?")
    assert reply.messages[0].key == "info.asked"
    asked = notifications(chat.engine, "alice")[-1]
    assert (asked.message_key, asked.params["question"]) == ("notify.info_asked",
                                                            "which order was it?")
    assert rows(chat.engine, Compensation)[0].status == "pending"
    chat.refused("bob", "answer C1 not me", "refuse.not_yours")
    chat.ok("alice", "回复 C1 order 7788, the vase was in it")
    given = notifications(chat.engine, "wang")[-1]
    assert given.message_key == "notify.info_given"
    assert [a["command"] for a in given.actions] == ["approve C1", "decline C1", "ask C1"]
    chat.ok("wang", "approve C1 thanks")
    events = [e.event for e in rows(chat.engine, RequestEvent)]
    assert events == ["info_asked", "info_given", "approved"]
    text = chat("wang", "history C1")
    for line in ("王芳 Wang Fang asked Alice Chen: which order was it?",
                 "Alice Chen answered: order 7788, the vase was in it",
                 "王芳 Wang Fang approved: thanks"):
        assert line in text
    chat.refused("wang", "ask C1 more?", "refuse.already_decided")


def test_the_button_asks_without_a_question_in_the_requesters_language(chat):
    chat.ok("lilei", "补偿 350 退款 #B9 花瓶碎了")
    chat.ok("wang", "ask C1")
    asked = notifications(chat.engine, "lilei")[-1]
    assert asked.message_key == "notify.info_asked_plain"


def test_history_is_for_the_people_involved_only(chat):
    chat.ok("alice", "comp 350 refund #B9 broken vase")
    for handle in ("alice", "wang", "hana"):
        assert chat.ok(handle, "history C1").messages[0].key == "history.header"
    chat.refused("bob", "history C1", "refuse.not_found")  # a peer sees nothing
    chat.refused("alice", "history C9", "refuse.not_found")
    assert "C1 — Alice Chen" in render_reply(chat.reply("alice", "history C1"), "en")


def test_from_the_console_away_and_ask(chat, config):
    from datetime import UTC, datetime

    from tests.web_support import app_for, browser, csrf
    app = app_for(chat.engine, config)
    chat.ok("alice", "comp 350 refund #B9 broken vase", now=datetime.now(UTC))
    wang = browser(app, chat, "wang")
    token = csrf(wang)
    asked = wang.post("/decide", data={"csrf": token, "ref": "C1", "verdict": "ask",
                                        "comment": "which order?"})
    assert asked.status_code == 303
    assert notifications(chat.engine, "alice")[-1].params["question"] == "which order?"
    until = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
    assert wang.post("/away", data={"csrf": "forged", "until": until,
                                    "delegate": "@hana"}).status_code == 403
    assert wang.post("/away", data={"csrf": token, "until": "soon",
                                    "delegate": "@hana"}).status_code == 400
    assert wang.post("/away", data={"csrf": token, "until": until,
                                    "delegate": "@Hana"}).status_code == 303
    assert approver_of(chat, 1) == "hana"
    assert "Hana Xu" in wang.get("/team").text
    assert wang.post("/away", data={"csrf": token, "off": "1"}).status_code == 303
    assert rows(chat.engine, Delegation)[0].cleared_at is not None


def test_redemption_decisions_are_in_the_history(chat):
    from tests.support import credit
    credit(chat.engine, "alice", 500, "seed:alice")
    chat.ok("alice", "redeem coffee")  # R1
    chat.ok("alice", "redeem coffee")  # R2
    chat.ok("alice", "redeem coffee")  # R3
    chat.ok("hana", "approve R1 enjoy")
    chat.ok("hana", "decline R2 out of stock")
    chat.ok("alice", "cancel R3")
    assert [(e.ref, e.event, e.detail) for e in rows(chat.engine, RequestEvent)] == [
        ("R1", "fulfilled", "enjoy"), ("R2", "rejected", "out of stock"),
        ("R3", "cancelled", "")]
    assert "Hana Xu fulfilled: enjoy" in chat("alice", "history R1")
    assert "Hana Xu 已兑现：enjoy" in render_reply(chat.reply("alice", "history R1"), "zh")
    assert "Alice Chen 已取消" in render_reply(chat.reply("hana", "history R3"), "zh-Hant")
    assert "Alice Chen cancelled it" in chat("alice", "history R3")
    chat.refused("hana", "approve R1", "refuse.already_decided")
    assert len(rows(chat.engine, RequestEvent)) == 3  # a refusal records nothing


def test_a_requests_history_on_the_console(chat, config):
    from tests.web_support import app_for, browser
    app = app_for(chat.engine, config)
    chat.ok("alice", "comp 350 refund #B9 broken vase")
    chat.ok("wang", "ask C1 which order?")
    chat.ok("alice", "answer C1 order 77")
    chat.ok("wang", "away until 2026-11-25 @hana")
    chat.ok("hana", "approve C1 fine")
    wang = browser(app, chat, "wang")  # reads Simplified Chinese
    page = wang.get("/history?ref=c1").text
    assert "C1 的经过" in page
    for event in ("which order?", "order 77", "Hana Xu", "批准：fine"):
        assert event in page
    alice = browser(app, chat, "alice")  # the requester, in English
    mine = alice.get("/history?ref=C1").text
    assert "History of C1" in mine and "Hana Xu approved: fine" in mine
    assert "order 77" in mine
    bob = browser(app, chat, "bob")  # a peer sees nothing, as in chat
    assert bob.get("/history?ref=C1").status_code == 404
    assert alice.get("/history?ref=C99").status_code == 404
    assert alice.get("/history?ref=X1").status_code == 404
    assert alice.get("/history?ref=C99999999999").status_code == 200  # not a reference
    assert alice.get("/history?ref=<b>").text.count("<b>") == 0
    chat.ok("bob", "comp 400 refund #X1 flood")  # C2 waits for hana while wang is away
    hana = browser(app, chat, "hana")
    team = employee(chat.engine, "bob").team_id
    assert 'href="/history?ref=C2"' in hana.get(f"/team?team={team}").text


def test_away_set_ahead_routes_only_during_the_period(chat, config):
    from handlers.away import start_due
    starts, ends = timedelta(days=7, hours=14), timedelta(days=10, hours=14)  # local midnights
    reply = chat.ok("wang", "away from 2026-12-01 until 2026-12-03 @hana")
    assert reply.messages[0].key == "away.scheduled"
    assert "You will be away from 2026-12-01 through 2026-12-03: Hana Xu decides" in \
        render_reply(reply, "en")
    assert "你将从 2026-12-01 外出至 2026-12-03" in render_reply(reply, "zh")
    assert notifications(chat.engine, "hana")[-1].message_key == "notify.away_scheduled"
    assert chat.ok("wang", "away").messages[0].key == "away.upcoming"
    chat.ok("alice", "comp 350 refund #B9 broken vase")  # C1: before the period
    assert approver_of(chat, 1) == "wang"
    chat.ok("bob", "comp 400 refund #X1 flood", now=chat.now + starts - timedelta(minutes=1))
    assert approver_of(chat, 2) == "wang"  # C2: the last minute before it starts
    with transaction(chat.engine) as session:  # the reminders' run: it has begun
        assert start_due(session, config, chat.now + starts - timedelta(minutes=1)) == 0
        assert start_due(session, config, chat.now + starts) == 2
        assert start_due(session, config, chat.now + starts + timedelta(hours=1)) == 0
    assert approver_of(chat, 1) == approver_of(chat, 2) == "hana"
    assert "王芳 Wang Fang away through 2026-12-03: moved to Hana Xu" in chat("alice",
                                                                             "history C1")
    chat.ok("bob", "comp 400 refund #X2 flood", now=chat.now + starts)
    assert approver_of(chat, 3) == "hana"  # C3: during the period
    chat.ok("bob", "comp 400 refund #X3 flood", now=chat.now + ends)
    assert approver_of(chat, 4) == "wang"  # C4: after its last day


def test_an_absence_set_ahead_is_cancelled_and_checked(chat):
    chat.refused("wang", "away from 2026-12-04 until 2026-12-03 @hana", "refuse.away_dates")
    chat.refused("wang", "away from 2026-12-01 until 2026-12-03 @wang", "refuse.away_self")
    for bad in ("away from until 2026-12-03 @hana", "away from 2026-12-xx to 2026-12-03 @hana",
                "away from 2026-12-01 from 2026-12-02 until 2026-12-03 @hana",
                "away 2026-12-03 @hana from"):
        reply = chat.reply("wang", bad)
        assert not reply.ok and reply.messages[0].key == "error.away", bad
    assert rows(chat.engine, Delegation) == []
    chat.ok("wang", "外出 从 2026-12-01 到 2026-12-03 @hana")
    assert "你将从 2026-12-01 外出至 2026-12-03（含当天），届时由 Hana Xu 代你审批" in \
        render_reply(chat.reply("wang", "外出"), "zh")
    assert "你將從 2026-12-01 外出至 2026-12-03" in render_reply(chat.reply("wang", "away"),
                                                               "zh-Hant")
    assert chat.ok("wang", "away off").messages[0].key == "away.cleared"
    assert chat.ok("wang", "away").messages[0].key == "away.none"
    chat.ok("bob", "comp 400 refund #X1 flood", now=chat.now + timedelta(days=8))
    assert approver_of(chat, 1) == "wang"  # cancelled: nothing routed to hana


def test_a_period_set_ahead_leaves_the_current_one_alone_unless_they_overlap(chat):
    chat.ok("wang", "away until 2026-11-25 @hana")
    chat.ok("wang", "away from 2026-12-01 until 2026-12-03 @lilei")
    chat.ok("alice", "comp 350 refund #B9 broken vase")
    assert approver_of(chat, 1) == "hana"  # the current one still holds
    chat.ok("wang", "away from 2026-11-24 until 2026-11-26 @hana")  # overlaps it: replaces it
    chat.ok("bob", "comp 400 refund #X1 flood")
    assert approver_of(chat, 2) == "wang"  # back until the 24th
    assert sum(d.cleared_at is None for d in rows(chat.engine, Delegation)) == 2


def test_the_number_of_requests_moved_takes_its_plural(chat):
    chat.ok("alice", "comp 350 refund #B9 broken vase")
    one = chat.reply("wang", "away until 2026-11-25 @hana")
    assert "1 waiting request moved to them." in render_reply(one, "en")
    assert "1 项待批申请已转给对方" in render_reply(one, "zh")
    note = notifications(chat.engine, "hana")[-1]
    from handlers.base import Message
    from handlers.i18n import render_message
    assert "1 waiting request came to you." in render_message(
        Message(note.message_key, dict(note.params)), "en")
    none = chat.reply("wang", "away until 2026-11-26 @hana")
    assert "0 waiting requests moved to them." in render_reply(none, "en")


def test_from_the_console_away_set_ahead(chat, config):
    from datetime import UTC, datetime

    from tests.web_support import app_for, browser, csrf
    app = app_for(chat.engine, config)
    wang = browser(app, chat, "wang")  # reads Simplified Chinese
    token = csrf(wang)
    today = datetime.now(UTC).astimezone(config.organisation.tz).date()
    first, last = (today + timedelta(days=3)).isoformat(), (today + timedelta(days=5)).isoformat()
    assert 'name="from"' in wang.get("/team").text
    assert wang.post("/away", data={"csrf": token, "from": "soon", "until": last,
                                    "delegate": "@hana"}).status_code == 400
    assert wang.post("/away", data={"csrf": token, "from": first, "until": last,
                                    "delegate": "@hana"}).status_code == 303
    page = wang.get("/team").text
    assert f"从 {first} 外出至 {last}，届时由 Hana Xu 代你审批" in page
    (delegation,) = rows(chat.engine, Delegation)
    assert delegation.starts_at.astimezone(config.organisation.tz).date().isoformat() == first
    assert wang.post("/away", data={"csrf": token, "off": "1"}).status_code == 303
    assert rows(chat.engine, Delegation)[0].cleared_at is not None


def test_a_redemptions_history_from_the_redemptions_page(chat, config):
    from tests.support import credit
    from tests.web_support import app_for, browser
    app = app_for(chat.engine, config)
    credit(chat.engine, "lilei", 500, "seed:lilei")
    chat.ok("lilei", "redeem coffee")  # R1
    chat.ok("hana", "decline R1 out of stock")
    lilei = browser(app, chat, "lilei")  # reads Simplified Chinese
    assert 'href="/history?ref=R1"' in lilei.get("/redemptions?show=settled").text
    page = lilei.get("/history?ref=R1").text
    assert "R1 的经过" in page and "Hana Xu 驳回：out of stock" in page
    assert browser(app, chat, "bob").get("/history?ref=R1").status_code == 404
