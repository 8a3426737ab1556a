"""What every platform does the same way, proven on each through its driver: commands
answered in the person's language, a retried event with one effect, forged events
refused, a busy bot that stores nothing it cannot run, a stored event run once
whatever happens to the worker that took it, decisions taken once by their
approver, and a rate-limited send delivered once later."""

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.kit.config import parse_config
from bot.kit.work_pool import WorkPool
from handlers.base import Message
from handlers.dispatch import execute
from handlers.grammar import parse
from handlers.i18n import render_message, render_reply
from storage.engine import transaction
from storage.models import Compensation, InboxItem, Praise
from tests.support import count, employee, rows, settled

pytestmark = pytest.mark.http

COMP = "comp 60 gift #A3 birthday"  # within alice's authority: answered with C1


def said(key: str, locale: str = "en", **params) -> str:
    return render_message(Message(key, params), locale)


def busy(chat, queue: int) -> threading.Event:
    """Gives the adapter a pool of one thread, held busy until the gate opens."""
    chat.inbox.pool.stop()
    chat.inbox.pool = WorkPool(f"{chat.name}-test", threads=1, queue=queue)
    gate = threading.Event()
    assert chat.inbox.pool.submit(gate.wait)
    return gate


def test_commands_are_answered_in_the_persons_language(chat):
    assert "Alice Chen" in chat.say("alice", "me")
    assert "李雷" in chat.say("lilei", "我")
    assert said("help.header") in chat.say("alice", "幫助")  # a Traditional verb, read
    assert said("not_registered") in chat.say("stranger", "me")


def test_a_repeated_event_has_one_effect(chat):
    event = chat.event("alice", COMP)
    assert chat.acked(chat.deliver(event))
    assert "C1" in chat.answered("alice", 0)
    assert chat.acked(chat.deliver(event))  # the platform's retry
    chat.say("alice", "me")  # run after the retry: the retry had its chance
    assert count(chat.engine, Compensation) == 1
    assert sum("C1" in answer for answer in chat.answers("alice")) == 1


def test_a_forged_event_is_refused_and_changes_nothing(chat):
    ack = chat.forge(chat.event("alice", COMP))
    if ack is None:
        pytest.skip(f"{chat.name}: the connection, not each event, is authenticated")
    assert chat.refused(ack)
    chat.say("alice", "me")
    assert count(chat.engine, Compensation) == 0
    assert not any("C1" in answer for answer in chat.answers("alice"))


def test_a_busy_bot_stores_nothing_and_asks_for_it_again(chat):
    gate = busy(chat, queue=0)
    try:
        ack = chat.deliver(chat.event("alice", COMP))
    finally:
        gate.set()
    assert chat.asked_again(ack)
    assert count(chat.engine, InboxItem) == 0 and count(chat.engine, Compensation) == 0
    settled(chat.inbox.pool)
    assert "C1" in chat.say("alice", COMP)  # sent again, it runs
    assert count(chat.engine, Compensation) == 1


def test_a_retry_of_an_event_waiting_its_turn_is_stored_once_and_runs_once(chat):
    gate = busy(chat, queue=4)
    event = chat.event("alice", COMP)
    try:
        for _ in range(3):  # the platform sends it again while the first still waits
            assert chat.acked(chat.deliver(event))
        assert count(chat.engine, Compensation) == 0
    finally:
        gate.set()
    chat.answered("alice", 0)
    chat.inbox.pool.stop()  # all that was queued has run: still one answer
    assert count(chat.engine, Compensation) == 1
    assert sum("C1" in answer for answer in chat.answers("alice")) == 1
    key, _kind, _payload = chat.stored(event)
    (item,) = rows(chat.engine, InboxItem)
    assert item.key == key and item.done_at is not None


def test_an_event_a_dead_worker_acknowledged_is_run_by_the_sweeper_once(chat):
    event = chat.event("alice", COMP)
    key, kind, payload = chat.stored(event)
    now = datetime.now(UTC)
    with transaction(chat.engine) as session:  # stored and acknowledged, then it died
        session.add(InboxItem(key=key, platform=chat.name, kind=kind, payload=payload,
                              attempts=1, received_at=now - timedelta(seconds=20),
                              claimed_until=now - timedelta(seconds=5)))
    assert chat.inbox.sweep() == 1  # this worker's sweep, or its sweeper's, takes it
    assert "C1" in chat.answered("alice", 0)
    assert chat.acked(chat.deliver(event))  # the platform's late retry: stored already
    chat.say("alice", "me")
    assert chat.inbox.sweep() == 0
    assert count(chat.engine, Compensation) == 1
    assert sum("C1" in answer for answer in chat.answers("alice")) == 1
    item = rows(chat.engine, InboxItem, key=key)[0]
    assert item.done_at is not None and item.attempts == 2


def test_a_decision_is_taken_by_its_approver_once(chat):
    assert "C1" in chat.say("alice", "comp 500 refund #A7 broken on arrival")
    chat.dispatch_all()  # the card goes to wang, alice's supervisor
    before = len(chat.answers("bob"))
    chat.press("bob", "approve C1")
    assert said("refuse.not_approver") in chat.answered("bob", before)
    assert rows(chat.engine, Compensation)[0].status == "pending"

    before = len(chat.answers("wang"))
    chat.press("wang", "approve C1")
    assert "C1" in chat.answered("wang", before)
    before = len(chat.answers("wang"))
    chat.press("wang", "decline C1")  # a second click, on a card not yet refreshed
    assert said("refuse.already_decided", "zh", ref="C1") in chat.answered("wang", before)
    assert rows(chat.engine, Compensation)[0].status == "approved"


def test_a_rate_limited_send_goes_out_once_later(chat):
    chat.say("alice", "comp 500 refund #A7 broken on arrival")
    before = len(chat.answers("wang"))
    chat.throttle_next_send()
    chat.dispatch_all()
    assert sum("C1" in answer for answer in chat.answers("wang")[before:]) == 1


def test_a_colleague_picked_from_the_platforms_own_list_is_that_person(chat):
    assert "P1" in chat.say("wang", "praise {@alice} She remembered my name")
    (praise,) = rows(chat.engine, Praise)
    assert praise.employee_id == employee(chat.engine, "alice").id
    refused = chat.say("wang", "praise {@stranger} kind words")
    assert "还没有在这个聊天平台上关联 Frontline" in refused  # wang reads Simplified
    assert count(chat.engine, Praise) == 1


def test_praise_reaches_the_all_staff_chat(chat):
    chat.say("wang", "praise @alice She remembered my name")
    chat.dispatch_all()
    assert any("Alice Chen" in post for post in chat.shared_posts())


def test_the_longest_answer_arrives_whole_in_pieces_the_platform_takes(chat):
    reply, locale = execute(chat.engine, parse_config({}), "console", "lilei", parse("帮助"))
    expected = render_reply(reply, locale)
    answered = chat.say("lilei", "帮助")  # help, in Chinese: the longest answer there is
    assert all(chat.fits(piece) for piece in chat.answers("lilei"))
    assert "".join(expected.split()) in "".join(answered.split())  # all of it, in order


def test_a_person_who_never_wrote_to_the_bot_is_reached_or_hr_is_told_why(chat):
    chat.never_wrote("wang")
    chat.say("alice", "comp 500 refund #A7 broken on arrival")
    chat.dispatch_all()
    if chat.reaches_first:
        assert any("C1" in answer for answer in chat.answers("wang"))
    else:
        assert chat.told_unreachable("wang")


def test_doctor_finds_the_install_working_then_names_a_missing_permission(chat):
    found = asyncio.run(chat.platform.findings())
    assert found and all(finding.ok for finding in found), found
    chat.withhold_permission()
    failing = [f for f in asyncio.run(chat.platform.findings()) if not f.ok]
    assert failing and all(finding.fix is not None for finding in failing)
    for finding in failing:  # in every language, with the step that fixes it
        for locale in ("en", "zh", "zh-Hant"):
            assert render_message(finding.fix, locale)
