"""Thanks between colleagues: told to the person in their language (and their team on
request), free by default, points within a monthly allowance and a cap per colleague
where the organisation gives one, and pairs trading thanks as a signal; HR's
corrections; and a property of random sequences of thanks, team praise and corrections:
every balance equals the sum of its entries and never goes below zero."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.base import Message
from handlers.i18n import render_message, render_reply
from handlers.policy import ThanksPoints
from handlers.reports.signals import month_signals, visible
from handlers.scope import scope_of
from points import ledger
from storage.engine import transaction
from storage.models import LedgerEntry, Outbox, Thanks
from tests.conftest import Chat
from tests.support import balance, count, employee, notifications, rows


def shown(notification: Outbox, locale: str) -> str:
    return render_message(Message(notification.message_key, notification.params), locale)


def test_thanks_tells_the_colleague_in_their_language_and_gives_no_points(chat):
    reply = chat.ok("alice", "thanks @lilei for covering my shift")
    assert reply.messages[0].key == "thanks.sent"
    (told,) = notifications(chat.engine, "lilei")
    assert told.message_key == "notify.thanks"
    assert shown(told, "zh") == "🙏 Alice Chen 感谢你：「for covering my shift」"
    (thanks,) = rows(chat.engine, Thanks)
    assert (thanks.points, thanks.public) == (0, False)
    assert count(chat.engine, LedgerEntry) == 0
    assert rows(chat.engine, Outbox, audience="team") == []


def test_thanks_in_front_of_the_team_when_the_sender_asks(chat):
    chat.ok("lilei", "感謝 @bob 幫我頂班 #團隊")
    (post,) = rows(chat.engine, Outbox, audience="team")
    assert post.message_key == "broadcast.thanks"
    assert post.team_id == employee(chat.engine, "bob").team_id
    assert post.params == {"who": "Bob Li", "by": "李雷 Li Lei", "why": "幫我頂班"}
    assert shown(notifications(chat.engine, "bob")[0], "en") == \
        "🙏 李雷 Li Lei thanks you: “幫我頂班”"
    assert "their team" in chat("alice", "thanks @bob great work #team")


def test_thanks_refusals_change_nothing(chat):
    chat.refused("alice", "thanks @alice I did great", "refuse.self_thanks")
    chat.refused("alice", "thanks @nobody cheers", "refuse.unknown_handle")
    chat.refused("alice", "thanks @bob +5 cheers", "refuse.thanks_no_points")  # none by default
    for line in ("thanks @bob", "thanks cheers", "thanks @bob -5 cheers",
                 "thanks @bob +0 cheers", "thanks @bob #team"):
        assert not chat.reply("alice", line).ok, line
    refused = chat.reply("alice", "thanks @bob " + "x" * 1001)
    assert not refused.ok and refused.messages[0].key == "input.too_long"
    assert count(chat.engine, Thanks) == 0 and notifications(chat.engine, "bob") == []


@pytest.fixture
def generous(chat):
    """Employees may give 20 points a month with thanks, at most 10 to one colleague."""
    policy = chat.config.model_copy(update={"points": chat.config.points.model_copy(update={
        "thanks": ThanksPoints(allowance={"employee": 20}, per_recipient=10)})})
    return Chat(chat.engine, policy)


def test_points_with_thanks_within_the_allowance_and_the_cap(generous):
    chat = generous
    reply = chat.ok("alice", "thanks @bob +6 for the stock count")
    assert [m.key for m in reply.messages] == ["thanks.sent", "thanks.points"]
    assert "14 left this month" in render_reply(reply, "en")
    assert balance(chat.engine, "bob") == 6
    told = notifications(chat.engine, "bob")[0]
    assert told.message_key == "notify.thanks_points" and told.params["points"] == 6
    refused = chat.refused("alice", "thanks @bob +5 again", "refuse.thanks_cap")
    assert "4 are left" in render_reply(refused, "en")
    chat.ok("alice", "thanks @bob +4 again")
    chat.ok("alice", "thanks @lilei +9 for the delivery")
    refused = chat.refused("alice", "thanks @wang +2 for the rota", "refuse.thanks_allowance")
    assert "1 of your 20 points are left" in render_reply(refused, "en")
    chat.refused("alice", "thanks @lilei +999999999 huge", "refuse.thanks_allowance")
    chat.refused("wang", "thanks @alice +1 well done", "refuse.thanks_no_points")  # per role
    assert (balance(chat.engine, "bob"), balance(chat.engine, "lilei")) == (10, 9)
    with transaction(chat.engine) as session:
        assert ledger.verify(session) == []
        keys = {e.idempotency_key for e in session.exec(LedgerEntry.__table__.select())}
    assert keys == {"thanks:1:credit", "thanks:2:credit", "thanks:3:credit"}
    # a new month, a new allowance
    later = chat.now + timedelta(days=10)
    chat.ok("alice", "thanks @bob +10 December already", now=later)
    assert balance(chat.engine, "bob") == 20


def test_a_retried_thanks_credits_once(generous):
    generous.ok("alice", "thanks @bob +5 cheers", key="slack:event:1")
    generous.ok("alice", "thanks @bob +5 cheers", key="slack:event:1")
    assert balance(generous.engine, "bob") == 5 and count(generous.engine, Thanks) == 1


def pair_signals(chat, handle):
    with transaction(chat.engine) as session:
        scope = scope_of(session, employee(chat.engine, handle))
        return [s for s in visible(month_signals(session, chat.config, "2026-11"), scope)
                if s.kind == "thanks_pair"]


def test_a_pair_trading_thanks_is_a_signal_for_supervisors_and_hr_not_staff(generous):
    chat = generous
    for n in range(3):
        chat.ok("alice", f"thanks @bob +1 help {n}")
        chat.ok("bob", f"thanks @alice +1 help back {n}")
    chat.ok("alice", "thanks @lilei once")  # one way, once: nothing
    (signal,) = pair_signals(chat, "wang")
    assert (signal.params["count"], signal.params["back"], signal.params["points"]) == (
        "3", "3", "6")
    assert signal.params["thanks"] == "T1, T2, T3, T4, T5, T6"
    assert [s.key for s in pair_signals(chat, "hana")] == [signal.key]
    assert pair_signals(chat, "lilei") == [] and pair_signals(chat, "alice") == []
    said = render_reply(chat.ok("wang", "signals"), "en")
    assert "Alice Chen and Bob Li thanked each other 3 and 3 times" in said
    chat.refused("alice", "signals", "refuse.role")


def ring_signals(chat, handle):
    with transaction(chat.engine) as session:
        scope = scope_of(session, employee(chat.engine, handle))
        return [s for s in visible(month_signals(session, chat.config, "2026-11", scope), scope)
                if s.kind.startswith("thanks_")]


def test_three_thanking_round_a_ring_is_a_signal_a_chain_that_does_not_close_is_not(generous):
    chat = generous
    for n in range(3):
        chat.ok("alice", f"thanks @bob +1 help {n}")
        chat.ok("bob", f"thanks @lilei +1 help {n}")
    for n in range(2):  # lilei → alice, once too few: the chain stays open
        chat.ok("lilei", f"thanks @alice +1 help {n}")
    assert ring_signals(chat, "wang") == [] and ring_signals(chat, "hana") == []
    chat.ok("lilei", "thanks @alice +1 and again")
    (ring,) = ring_signals(chat, "wang")
    assert ring.kind == "thanks_ring" and (ring.params["count"], ring.params["points"]) == (
        "9", "9")
    assert [ring.params[name] for name in ("who", "second", "third")] == [
        "Alice Chen", "Bob Li", "李雷 Li Lei"]
    assert [s.key for s in ring_signals(chat, "hana")] == [ring.key]
    assert ring_signals(chat, "lilei") == [] and ring_signals(chat, "alice") == []
    said = render_reply(chat.ok("wang", "signals"), "en")
    assert "Alice Chen → Bob Li → 李雷 Li Lei → Alice Chen" in said and ring.key in said
    chat.refused("lilei", "signals", "refuse.role")


# --- HR's corrections: new entries that add or reverse, never edits ---------------
def entry_ids(chat, handle):
    return [e.id for e in rows(chat.engine, LedgerEntry, employee_id=employee(
        chat.engine, handle).id)]


def test_hr_corrects_with_new_entries_and_the_person_is_told(chat):
    chat.ok("wang", "praise @alice @bob found the ring")  # entries 1 and 2
    reply = chat.ok("hana", "adjust @alice -4 double-counted letter")
    assert "balance now 6" in render_reply(reply, "en")
    told = notifications(chat.engine, "alice")[-1]
    assert told.message_key == "notify.points_corrected"
    assert (told.params["amount"], told.params["reason"]) == ("-4", "double-counted letter")
    chat.ok("hana", "revoke E2 the letter was for Alice only")
    assert balance(chat.engine, "bob") == 0
    chat.refused("hana", "revoke E2 again", "refuse.already_revoked")
    chat.refused("hana", "revoke E4 undo the undo", "refuse.not_revocable")
    chat.refused("hana", "revoke E99 nothing", "refuse.not_found")
    reply = chat.ok("hana", "调整 @bob +5 补记")
    chat.ok("hana", "move 3 @alice @bob wrong person")
    assert (balance(chat.engine, "alice"), balance(chat.engine, "bob")) == (3, 8)
    assert notifications(chat.engine, "bob")[-1].params["amount"] == "+3"
    entries = rows(chat.engine, LedgerEntry)
    assert [e.reason for e in entries] == ["praise", "praise", "correction", "reversal",
                                           "correction", "correction", "correction"]
    assert entries[3].reverses_id == 2 and entries[2].note == "double-counted letter"
    with transaction(chat.engine) as session:
        assert ledger.verify(session) == []


def test_correction_refusals_change_nothing(chat):
    chat.ok("wang", "praise @alice lovely")
    before = rows(chat.engine, LedgerEntry)
    chat.refused("wang", "adjust @alice +5 favour", "refuse.role")
    chat.refused("alice", "move 5 @alice @bob gift", "refuse.role")
    chat.refused("hana", "adjust @alice -11 too much", "refuse.correction_balance")
    chat.refused("hana", "move 11 @alice @bob too much", "refuse.correction_balance")
    chat.refused("hana", "adjust @alice +10001 huge", "refuse.correction_amount")
    chat.refused("hana", "adjust @alice 0 nothing", "refuse.correction_amount")
    chat.refused("hana", "adjust @hana +5 myself", "refuse.self_correction")
    chat.refused("hana", "move 5 @alice @alice same", "refuse.named_twice")
    chat.refused("hana", "adjust @nobody +5 who", "refuse.unknown_handle")
    for line in ("adjust @alice +5", "adjust @alice", "move -5 @alice @bob oops",
                 "move 5 @alice oops", "revoke E1", "adjust @alice ten points"):
        assert not chat.reply("hana", line).ok, line
    refused = chat.reply("hana", "adjust @alice +1 " + "x" * 1001)
    assert refused.messages[0].key == "input.too_long"
    assert rows(chat.engine, LedgerEntry) == before


# --- a property: whatever the sequence, the books agree and nobody goes below zero --
PEOPLE = ("alice", "bob", "lilei")
operation = st.one_of(
    st.tuples(st.just("praise"), st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=3,
                                          unique=True), st.sampled_from(["each", "share"])),
    st.tuples(st.just("thanks"), st.sampled_from(PEOPLE), st.sampled_from(PEOPLE),
              st.integers(0, 12)),
    st.tuples(st.just("adjust"), st.sampled_from(PEOPLE), st.integers(-15, 15)),
    st.tuples(st.just("revoke"), st.integers(1, 40)),
    st.tuples(st.just("move"), st.sampled_from(PEOPLE), st.sampled_from(PEOPLE),
              st.integers(1, 15)))


def line_of(step) -> tuple[str, str]:
    """(who sends it, the command) for one generated operation."""
    kind, *args = step
    if kind == "praise":
        return "wang", "praise " + " ".join(f"@{h}" for h in args[0]) + " lovely"
    if kind == "thanks":
        sender, to, points = args
        return sender, f"thanks @{to} {f'+{points} ' if points else ''}for the help"
    if kind == "adjust":
        return "hana", f"adjust @{args[0]} {args[1]:+d} correction"
    if kind == "revoke":
        return "hana", f"revoke E{args[0]} mistake"
    return "hana", f"move {args[2]} @{args[0]} @{args[1]} wrong person"


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(operation, min_size=1, max_size=15))
def test_balances_always_equal_their_entries_and_never_go_below_zero(generous, steps):
    ids = [employee(generous.engine, handle).id for handle in PEOPLE]
    for step in steps:
        policy = generous.config
        if step[0] == "praise":
            policy = policy.model_copy(update={"points": policy.points.model_copy(
                update={"team_praise": step[2]})})
        sender, line = line_of(step)
        Chat(generous.engine, policy).reply(sender, line)  # refused or not, the books agree
        with transaction(generous.engine) as session:
            assert ledger.verify(session) == []
            for person in ids:
                total = sum(e.amount for e in session.exec(LedgerEntry.__table__.select().where(
                    LedgerEntry.employee_id == person)))
                assert ledger.balance(session, person) == total >= 0
