"""The ledger and redemptions: append-only, idempotent, never below zero."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from handlers.base import Message
from handlers.dispatch import execute
from handlers.grammar import parse
from handlers.i18n import render_message, render_reply
from points import ledger
from points.ledger import LedgerIsAppendOnly
from storage.engine import transaction
from storage.models import CatalogStock, LedgerEntry, Redemption
from tests import support
from tests.support import balance, count, notifications, rows


def credit(engine, handle, amount, key, now):
    return support.credit(engine, handle, amount, key, when=now)


def test_same_idempotency_key_twice_is_one_entry(chat):
    assert credit(chat.engine, "alice", 10, "praise:1:credit", chat.now) is not None
    assert credit(chat.engine, "alice", 10, "praise:1:credit", chat.now) is None
    assert count(chat.engine, LedgerEntry) == 1
    assert balance(chat.engine, "alice") == 10


def test_a_repeated_debit_is_one_entry_even_when_the_balance_no_longer_covers_it(chat):
    credit(chat.engine, "alice", 15, "k1", chat.now)
    assert credit(chat.engine, "alice", -10, "spend", chat.now) is not None
    assert credit(chat.engine, "alice", -10, "spend", chat.now) is None  # 5 left: no error
    assert credit(chat.engine, "alice", 10, "k1", chat.now) is None
    assert balance(chat.engine, "alice") == 5
    assert [e.balance_after for e in rows(chat.engine, LedgerEntry)] == [15, 5]


def test_entries_cannot_be_changed_or_deleted(chat):
    credit(chat.engine, "alice", 10, "k1", chat.now)
    with pytest.raises(LedgerIsAppendOnly), transaction(chat.engine) as session:
        entry = session.get(LedgerEntry, 1)
        entry.amount = 1000
    with pytest.raises(DBAPIError), transaction(chat.engine) as session:
        session.execute(text("UPDATE ledgerentry SET amount = 1000"))
    with pytest.raises(DBAPIError), transaction(chat.engine) as session:
        session.execute(text("DELETE FROM ledgerentry"))
    assert rows(chat.engine, LedgerEntry)[0].amount == 10


def test_verify_finds_a_tampered_balance(chat):
    credit(chat.engine, "alice", 10, "k1", chat.now)
    with transaction(chat.engine) as session:
        assert ledger.verify(session) == []
        session.execute(text("UPDATE pointsaccount SET balance = 99"))
    with transaction(chat.engine) as session:
        (mismatch,) = ledger.verify(session)
    assert (mismatch.handle, mismatch.balance, mismatch.ledger_sum) == ("alice", 99, 10)


def test_redeem_debits_and_cancel_refunds(chat):
    credit(chat.engine, "alice", 250, "k1", chat.now)
    reply = chat.ok("alice", "redeem leave-day")
    assert reply.messages[0].key == "redeem.requested"
    assert "Send: cancel R1" in render_reply(reply, "en")
    assert "取消 R1" in render_reply(reply, "zh") and "cancel" not in render_reply(reply, "zh")
    assert balance(chat.engine, "alice") == 50
    review = notifications(chat.engine, "hana")[0]
    assert review.message_key == "notify.redemption_review"
    for locale, name in (("en", "A day of paid leave"), ("zh", "一天带薪假"),
                         ("zh-Hant", "一天有薪假")):
        shown = render_message(Message(review.message_key, review.params), locale)
        assert name in shown and "leave-day" not in shown
    chat.refused("bob", "cancel R1", "refuse.not_found")
    chat.ok("alice", "cancel R1")
    assert balance(chat.engine, "alice") == 250
    chat.refused("alice", "cancel R1", "refuse.already_decided")
    assert balance(chat.engine, "alice") == 250
    refund = rows(chat.engine, LedgerEntry)[-1]
    assert (refund.reason, refund.amount, refund.reverses_id) == ("reversal", 200, 2)


def test_hr_fulfils_or_rejects(chat):
    credit(chat.engine, "alice", 400, "k1", chat.now)
    chat.ok("alice", "redeem leave-day")
    chat.ok("alice", "兑换 leave-day")
    chat.refused("wang", "approve R1", "refuse.not_approver")
    chat.ok("hana", "approve R1")
    chat.ok("hana", "decline R2 no cover that week")
    assert [r.status for r in rows(chat.engine, Redemption)] == ["fulfilled", "rejected"]
    fulfilled, rejected = notifications(chat.engine, "alice")[-2:]
    assert "一天有薪假" in render_message(Message(fulfilled.message_key, fulfilled.params),
                                     "zh-Hant")
    assert "A day of paid leave" in render_message(Message(rejected.message_key, rejected.params),
                                                   "en")
    assert balance(chat.engine, "alice") == 200
    chat.refused("hana", "decline R1 oops", "refuse.already_decided")
    assert balance(chat.engine, "alice") == 200


def test_hr_cannot_approve_their_own_redemption(chat):
    credit(chat.engine, "hana", 100, "k1", chat.now)
    chat.ok("hana", "redeem coffee")
    chat.refused("hana", "approve R1", "refuse.self_approve")


def test_insufficient_points_and_unknown_item_change_nothing(chat):
    credit(chat.engine, "alice", 5, "k1", chat.now)
    chat.refused("alice", "redeem coffee", "refuse.insufficient_points")
    chat.refused("alice", "redeem yacht", "refuse.unknown_item")
    assert count(chat.engine, Redemption) == 0
    assert balance(chat.engine, "alice") == 5


def test_limited_stock(chat):
    credit(chat.engine, "alice", 1000, "k1", chat.now)
    for _ in range(5):
        chat.ok("alice", "redeem training")
    refused = chat.refused("alice", "redeem training", "refuse.out_of_stock")
    assert render_reply(refused, "en") == "A place on a training course is out of stock."
    chat.ok("alice", "cancel R1")
    assert rows(chat.engine, CatalogStock)[0].remaining == 1
    assert balance(chat.engine, "alice") == 1000 - 4 * 150


def test_fifty_concurrent_redemptions_never_overdraw(chat):
    credit(chat.engine, "alice", 100, "k1", chat.now)  # exactly 10 coffees

    def redeem(_n):
        reply, _ = execute(chat.engine, chat.config, "console", "alice", parse("redeem coffee"),
                           now=chat.now)
        return reply.ok

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(redeem, range(50)))
    assert results.count(True) == 10
    assert balance(chat.engine, "alice") == 0
    assert count(chat.engine, Redemption) == 10
    with transaction(chat.engine) as session:
        assert ledger.verify(session) == []
    running = [e.balance_after for e in sorted(rows(chat.engine, LedgerEntry), key=lambda e: e.id)]
    assert running == list(range(100, -1, -10))  # each entry: the balance it left


def test_fifty_concurrent_redemptions_of_unseeded_stock_take_exactly_the_stock(chat):
    """No stock row exists yet: every request seeds it (once) and then takes one."""
    credit(chat.engine, "alice", 150 * 50, "k1", chat.now)

    def redeem(_n):
        reply, _ = execute(chat.engine, chat.config, "console", "alice",
                           parse("redeem training"), now=chat.now)
        return reply.messages[0].key if not reply.ok else "ok"

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(redeem, range(50)))
    assert results.count("ok") == 5
    assert results.count("refuse.out_of_stock") == 45
    assert [row.remaining for row in rows(chat.engine, CatalogStock)] == [0]
    assert balance(chat.engine, "alice") == 150 * 45


def test_concurrent_credits_with_one_key_count_once(chat):
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _n: credit(chat.engine, "bob", 10, "same", chat.now),
                                range(20)))
    assert sum(r is not None for r in results) == 1
    assert balance(chat.engine, "bob") == 10


def test_an_empty_ledger_says_it_has_no_entries_yet(chat):
    reply = chat.ok("alice", "ledger")
    assert [m.key for m in reply.messages] == ["ledger.header_empty"]
    assert "no entries yet" in render_reply(reply, "en")
    credit(chat.engine, "alice", 20, "k1", chat.now)
    assert "last 1 entry:" in chat("alice", "ledger")


def test_another_persons_ledger_is_for_their_supervisor_and_hr(chat):
    refused = chat.refused("alice", "ledger @bob", "refuse.ledger_other")
    assert render_reply(refused, "en") == (
        "You can see your own ledger and your people's, not Bob Li's.")
    chat.ok("wang", "ledger @bob")
    chat.ok("hana", "ledger @bob")


def test_each_ledger_line_names_the_entry_hr_may_revoke(chat):
    chat.ok("wang", "praise @alice kind words")
    shown = render_reply(chat.ok("hana", "ledger @alice"), "en")
    (line,) = [line for line in shown.splitlines() if line.startswith("• E")]
    ref = line.split()[1]
    chat.ok("hana", f"revoke {ref} the letter was for Bob")
    assert balance(chat.engine, "alice") == 0
