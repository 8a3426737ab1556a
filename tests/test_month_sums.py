"""The month sums the database keeps beside the records (storage/month_sums.py): equal to
the records summed again whatever wrote them, each record under the organisation's local
month, and rebuilt when the timezone changes."""

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from storage.engine import transaction
from storage.models import Compensation, PointsMonth, SpendMonth
from storage.month_sums import keep_months, rebuild
from tests.support import credit, employee

SHANGHAI = ZoneInfo("Asia/Shanghai")


def kept(engine) -> tuple[list, list]:
    with transaction(engine) as session:
        return (sorted(tuple(row) for row in session.execute(select(PointsMonth.__table__))),
                sorted(tuple(row) for row in session.execute(select(SpendMonth.__table__))))


def rebuilt(engine) -> tuple[list, list]:
    with transaction(engine) as session:
        rebuild(session.connection())
    return kept(engine)


def test_commands_keep_the_sums_the_records_add_up_to(chat):
    with transaction(chat.engine) as session:
        keep_months(session, SHANGHAI)
    chat.ok("alice", "comp 120 voucher #A1 late parcel")  # her own authority
    chat.ok("alice", "comp 80 refund #A2 wrong size")
    chat.ok("alice", "comp 350 refund #B9 broken vase")  # above it: approved
    chat.ok("wang", "approve C3 fine")
    chat.ok("alice", "comp 300 refund #B10 broken cup")  # above it: declined, never counted
    chat.ok("wang", "decline C4")
    chat.ok("bob", "comp 20 USD voucher #U1 tourist")  # another currency, its own row
    chat.ok("wang", "approve C5")
    chat.ok("wang", "praise @alice stayed late to rebook a family")
    credit(chat.engine, "bob", 20, "s1", reason="suggestion")
    credit(chat.engine, "bob", -10, "r1", reason="redemption")  # spending is not earning
    alice, bob = employee(chat.engine, "alice"), employee(chat.engine, "bob")
    points, spend = kept(chat.engine)
    month = chat.now.astimezone(SHANGHAI).strftime("%Y-%m")  # the giver's team with it
    assert (month, alice.id, "CNY", alice.team_id, 2, 20000, 12000, 1, 35000, 55000) in spend
    assert (month, bob.id, "USD", bob.team_id, 0, 0, 0, 1, 2000, 2000) in spend
    alice, bob = alice.id, bob.id
    assert {(row[1], row[2]) for row in points} >= {(alice, 10), (bob, 20)}
    assert (points, spend) == rebuilt(chat.engine)


def test_a_record_is_filed_under_its_local_month_and_refiled_when_the_timezone_changes(chat):
    alice = employee(chat.engine, "alice").id
    # 00:30 on 1 December in Shanghai is still 30 November in UTC
    at = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    with transaction(chat.engine) as session:
        keep_months(session, SHANGHAI)
        session.execute(insert(Compensation), [{  # a hand-written row is counted too
            "employee_id": alice, "amount_minor": 5000, "currency": "CNY", "kind": "voucher",
            "reason": "late", "status": "self_authorised", "created_at": at}])
    credit(chat.engine, "alice", 10, "p1", reason="praise", when=at + timedelta(hours=1))
    points, spend = kept(chat.engine)
    assert [row[0] for row in spend] == ["2026-12"]
    assert [row[0] for row in points] == ["2026-12"]
    with transaction(chat.engine) as session:
        keep_months(session, ZoneInfo("Europe/London"))
    points, spend = kept(chat.engine)
    assert [row[0] for row in spend] == ["2026-11"]
    assert [row[0] for row in points] == ["2026-11"]
    assert (points, spend) == rebuilt(chat.engine)


def test_two_first_readers_rebuild_once_between_them(chat):
    """Two pages opened at once after an upgrade: one rebuilds, the other waits for it
    and finds the sums done (on SQLite the writers take turns anyway)."""
    credit(chat.engine, "alice", 10, "p1", reason="praise")
    started, results = threading.Barrier(2), []

    def first_page() -> None:
        started.wait()
        with transaction(chat.engine) as session:
            keep_months(session, SHANGHAI)
            results.append(session.execute(select(PointsMonth.points)).scalars().all())

    readers = [threading.Thread(target=first_page) for _ in range(2)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert results == [[10], [10]]
    assert kept(chat.engine) == rebuilt(chat.engine)
