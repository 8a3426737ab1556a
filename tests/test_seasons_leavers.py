"""Leavers (their approvals moved, forms closed, the balance rule applied, their commands
refused), the monthly team board (customer-earned points, the minimum of customers
served, past months frozen) and moments (anniversaries and shared birthdays posted on
the day in the team's timezone)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.demo import DEMO_STAFF
from handlers import seasons
from handlers.base import Message
from handlers.directory import DirectoryError, import_csv
from handlers.i18n import render_message, render_reply
from handlers.policy import Leavers, Moments, Seasons
from handlers.reports import payroll
from points import ledger
from rituals import schedule
from storage.engine import transaction
from storage.models import (
    ChatIdentity,
    Compensation,
    Departure,
    Employee,
    Feedback,
    FormState,
    LedgerEntry,
    Outbox,
    RequestEvent,
    SeasonResult,
    Team,
)
from tests.conftest import NOW, Chat
from tests.support import balance, count, credit, employee, notifications, rows

SHANGHAI = ZoneInfo("Asia/Shanghai")


def with_policy(chat: Chat, **sections) -> Chat:
    return Chat(chat.engine, chat.config.model_copy(update=sections))


def verified(engine) -> bool:
    with transaction(engine) as session:
        return ledger.verify(session) == []


# --- leavers -----------------------------------------------------------------------
def test_a_leaver_s_approvals_move_forms_close_and_the_balance_is_kept(chat):
    chat.ok("alice", "comp 300 refund broken")  # above her limit: waits for wang
    credit(chat.engine, "wang", 40, "gift", when=NOW)
    wang, hana = employee(chat.engine, "wang"), employee(chat.engine, "hana")
    with transaction(chat.engine) as session:
        session.add(ChatIdentity(employee_id=wang.id, platform="telegram", platform_user_id="7"))
        for conversation in ("7:7", "9:9"):  # his form, and someone else's
            session.add(FormState(platform="telegram", conversation=conversation, form="comp",
                                  locale="en", answers={}, expires_at=NOW + timedelta(hours=1)))
    reply = chat.ok("hana", "leaver @wang moving abroad")
    assert "Requests moved to others: 1; open forms closed: 1; balance 40 points: kept" in \
        render_reply(reply, "en")
    (moved,) = rows(chat.engine, Compensation)
    assert moved.approver_id == hana.id  # he had no supervisor: HR decides in his place
    (event,) = rows(chat.engine, RequestEvent, ref="C1")
    assert (event.event, event.target_id, event.detail) == ("left", hana.id, "王芳 Wang Fang")
    assert notifications(chat.engine, "hana")[-1].message_key == "notify.moved_left"
    assert [f.conversation for f in rows(chat.engine, FormState)] == ["9:9"]
    (gone,) = rows(chat.engine, Departure)
    assert (gone.rule, gone.balance, gone.reason, gone.by_id) == (
        "kept", 40, "moving abroad", hana.id)
    assert balance(chat.engine, "wang") == 40 and not employee(chat.engine, "wang").active
    assert "王芳 Wang Fang left: moved to Hana Xu" in chat("hana", "history C1")
    # what waited for him is hana's now, and decided by her
    chat.ok("hana", "approve C1")


def test_a_leaver_acting_afterwards_is_refused_in_their_language(chat):
    chat.ok("hana", "leaver @lilei")
    refused = chat.refused("lilei", "me", "refuse.left")
    assert "不再接受" in render_reply(refused, "zh")
    assert chat.reply("stranger", "me").messages[0].key == "not_registered"


def test_leaver_refusals_change_nothing(chat):
    chat.ok("hana", "leaver @bob")
    chat.refused("hana", "leaver @bob", "refuse.already_left")
    chat.refused("hana", "leaver @nobody", "refuse.unknown_handle")
    chat.refused("hana", "leaver @hana", "refuse.self_leaver")
    chat.refused("alice", "leaver @lilei", "refuse.role")
    assert not chat.reply("hana", "leaver").ok
    assert count(chat.engine, Departure) == 1 and employee(chat.engine, "lilei").active


@pytest.mark.parametrize("rule", ["paid_out", "forfeited"])
def test_a_leaver_s_balance_paid_out_or_forfeited_through_the_ledger(chat, rule):
    chat = with_policy(chat, leavers=Leavers(balance=rule, point_value=Decimal("0.5")))
    credit(chat.engine, "bob", 30, "earned", when=NOW)
    chat.ok("hana", "leaver @bob contract ended")
    assert balance(chat.engine, "bob") == 0 and verified(chat.engine)
    (entry,) = rows(chat.engine, LedgerEntry, reason=rule)
    assert (entry.amount, entry.balance_after, entry.note, entry.source_type) == (
        -30, 0, "contract ended", "departure")
    with transaction(chat.engine) as session:
        exported = list(payroll.rows(session, chat.config, "2026-11"))
    if rule == "paid_out":
        (line,) = exported
        assert (line["redemption"], line["handle"], line["category"], line["points"],
                line["taxable_value"], line["currency"]) == (
            f"E{entry.id}", "bob", "payout", 30, "15.00", "CNY")
    else:
        assert exported == []


def test_the_directory_import_marks_people_turning_inactive_as_left(chat):
    chat.ok("alice", "comp 300 refund broken")
    left = DEMO_STAFF.replace("supervisor,Harbour Street Store,Asia/Shanghai,,zh",
                              "supervisor,Harbour Street Store,Asia/Shanghai,,zh,no")
    left = left.replace("handle,name,role,team,timezone,supervisor,locale",
                        "handle,name,role,team,timezone,supervisor,locale,active")
    with transaction(chat.engine) as session:
        done = import_csv(session, chat.config, left, now=NOW)
    assert done.deactivated == 1
    (gone,) = rows(chat.engine, Departure)
    assert (gone.employee_id, gone.by_id, gone.moved) == (employee(chat.engine, "wang").id,
                                                          None, 1)
    assert rows(chat.engine, Compensation)[0].approver_id == employee(chat.engine, "hana").id
    with transaction(chat.engine) as session:  # the same file again: nobody leaves twice
        assert import_csv(session, chat.config, left, now=NOW).deactivated == 0
    assert count(chat.engine, Departure) == 1


def test_start_dates_are_imported_and_bad_ones_listed_line_by_line(chat):
    text = ("handle,name,role,team,start_date\n"
            "alice,Alice Chen,employee,Harbour Street Store,2021-03-15\n"
            "bob,Bob Li,employee,Harbour Street Store,2021-13-01\n"
            "lilei,李雷 Li Lei,employee,Harbour Street Store,last spring\n"
            "chen,陈静 Chen Jing,employee,Harbour Street Store,2999-01-01\n")
    with transaction(chat.engine) as session, pytest.raises(DirectoryError) as bad:
        import_csv(session, chat.config, text)
    assert [p.split(":")[0] for p in bad.value.problems] == ["line 3", "line 4", "line 5"]
    assert all("start_date" in p for p in bad.value.problems)
    assert employee(chat.engine, "alice").start_date is None and count(
        chat.engine, Employee, handle="chen") == 0
    with transaction(chat.engine) as session:
        import_csv(session, chat.config, text.split("bob,")[0])
    assert employee(chat.engine, "alice").start_date == date(2021, 3, 15)


# --- the monthly board -------------------------------------------------------------
def feedback(engine, handle: str, when: datetime, n: int) -> None:
    person = employee(engine, handle)
    with transaction(engine) as session:
        for _ in range(n):
            session.add(Feedback(kind="csat", score=5, team_id=person.team_id,
                                 employee_id=person.id, source="test",
                                 source_id=f"{handle}-{uuid4().hex}",
                                 received_at=when, created_at=when))


def test_the_board_counts_customer_earned_points_and_ranks_from_the_minimum(chat):
    chat = with_policy(chat, seasons=Seasons(min_customers=2))
    chat.ok("wang", "praise @alice kind and quick")
    chat.ok("wang", "praise @alice found my lost bag")
    chat.ok("wang", "praise @bob patient")
    chat.ok("hana", "adjust @bob +50 year-end correction")  # not customer-earned
    feedback(chat.engine, "lilei", NOW, 2)
    with transaction(chat.engine) as session:
        lines = seasons.board(session, chat.config, employee(chat.engine, "alice").team_id,
                              "2026-11").lines
    assert [(line.name, line.points, line.customers, line.rank) for line in lines] == [
        ("Alice Chen", 20, 2, 1), ("李雷 Li Lei", 0, 2, 2), ("Bob Li", 10, 1, None)]
    shown = chat("bob", "board")
    assert "1. Alice Chen — 20 points, 2 customers served" in shown
    assert "· Bob Li — 10 points, 1 customers served (not ranked yet)" in shown
    assert "排行榜" not in shown and "顾客所得积分" in render_reply(
        chat.reply("lilei", "排行榜"), "zh")


def test_a_closed_month_stays_as_it_stood_when_new_points_arrive(chat):
    october = datetime(2026, 10, 12, 3, tzinfo=UTC)
    chat.ok("wang", "praise @alice kind and quick", now=october)
    feedback(chat.engine, "alice", october, 3)
    closing = next(t for t in schedule.targets(chat.engine, chat.config, ["season_close"]))
    fired = schedule.scheduled_for(closing, chat.config, date(2026, 11, 1))
    assert fired == datetime(2026, 11, 1, 0, 30, tzinfo=SHANGHAI)
    assert "of 2026-10 kept" in schedule.run_once(chat.engine, chat.config, closing, fired,
                                                   fired)
    assert schedule.run_once(chat.engine, chat.config, closing, fired, fired) is None
    before = chat("alice", "board 2026-10")
    assert "1. Alice Chen — 10 points, 4 customers served" in before
    # later: the October praise revoked, late October feedback, alice moved to Head Office
    (entry,) = rows(chat.engine, LedgerEntry, reason="praise")
    chat.ok("hana", f"revoke E{entry.id} a colleague's customer")
    feedback(chat.engine, "alice", october, 5)
    chat.ok("wang", "praise @alice again", now=NOW)
    assert chat("alice", "board 2026-10") == before
    assert "closed" in before and count(chat.engine, SeasonResult) == 1


def test_bad_months_are_refused(chat):
    for line in ("board 2026-13", "board 26-10", "board 0000-01", "board 2026-10 2026-11",
                 "board november"):
        reply = chat.reply("alice", line)
        assert not reply.ok and reply.messages[0].key == "error.month", line
    assert chat.reply("alice", "board 2030-01").messages[0].key == "board.empty"


# --- moments -----------------------------------------------------------------------
def started(engine, handle: str, day: date) -> None:
    with transaction(engine) as session:
        person = session.get(Employee, employee(engine, handle).id)
        person.start_date = day
        session.add(person)


def moments_run(chat: Chat, team: str, day: date) -> str | None:
    (target,) = [t for t in schedule.targets(chat.engine, chat.config, ["moments"])
                 if t.team_name == team]
    fired = schedule.scheduled_for(target, chat.config, day)
    return schedule.run_once(chat.engine, chat.config, target, fired, fired)


def test_an_anniversary_is_posted_once_on_the_day_in_the_readers_languages(chat):
    started(chat.engine, "alice", date(2023, 11, 23))
    assert moments_run(chat, "Harbour Street Store", date(2026, 11, 22)) == "0 moments"
    assert moments_run(chat, "Harbour Street Store", date(2026, 11, 23)) == "1 moments"
    assert moments_run(chat, "Harbour Street Store", date(2026, 11, 23)) is None  # once
    assert moments_run(chat, "Harbour Street Store", date(2026, 11, 24)) == "0 moments"
    (post,) = rows(chat.engine, Outbox, audience="team", message_key="broadcast.anniversary")
    assert post.params == {"who": "Alice Chen", "years": 3}
    message = Message(post.message_key, post.params)
    assert render_message(message, "en") == \
        "🎉 Alice Chen joined us 3 years ago today: thank you!"
    assert "入職滿 3 年" in render_message(message, "zh-Hant")


def test_the_day_is_the_team_s_own_on_either_side_of_midnight_utc(chat):
    early = with_policy(chat, rituals=chat.config.rituals.model_copy(
        update={"moments": Moments(time="07:00")}))  # 23:00 UTC the evening before
    started(chat.engine, "bob", date(2025, 11, 23))
    with transaction(chat.engine) as session:
        session.add(Team(name="Pier 39", timezone="America/Los_Angeles"))
    with transaction(chat.engine) as session:
        pier = session.exec(select(Team).where(Team.name == "Pier 39")).one()
        session.add(Employee(handle="sam", name="Sam Ortiz", role="employee", team_id=pier.id,
                             start_date=date(2024, 11, 23)))
    assert moments_run(early, "Harbour Street Store", date(2026, 11, 23)) == "1 moments"
    assert moments_run(early, "Pier 39", date(2026, 11, 22)) == "0 moments"
    assert moments_run(early, "Pier 39", date(2026, 11, 23)) == "1 moments"  # 15:00 UTC
    late = with_policy(chat, rituals=chat.config.rituals.model_copy(
        update={"moments": Moments(time="20:00")}))  # Los Angeles: 04:00 UTC the next day
    (target,) = [t for t in schedule.targets(late.engine, late.config, ["moments"])
                 if t.team_name == "Pier 39"]
    fired = schedule.scheduled_for(target, late.config, date(2027, 11, 23))
    assert fired.astimezone(UTC).date() == date(2027, 11, 24)
    assert schedule.run_once(late.engine, late.config, target, fired, fired) == "1 moments"
    assert [p.params["years"] for p in rows(chat.engine, Outbox,
                                            message_key="broadcast.anniversary")] == [1, 2, 3]


def test_birthdays_only_when_shared(chat):
    assert moments_run(chat, "Harbour Street Store", date(2026, 11, 23)) == "0 moments"
    chat.ok("bob", "birthday 11-24")
    assert "11-24" in chat("bob", "birthday 11-24")
    for line in ("birthday 02-30", "birthday 24-11", "birthday", "birthday 11-24 12-01"):
        reply = chat.reply("bob", line)
        assert not reply.ok and reply.messages[0].key == "error.birthday", line
    assert moments_run(chat, "Harbour Street Store", date(2026, 11, 24)) == "1 moments"
    (post,) = rows(chat.engine, Outbox, message_key="broadcast.birthday")
    assert render_message(Message(post.message_key, post.params), "zh") == "🎂 Bob Li，生日快乐！"
    chat.ok("lilei", "生日 11-25")
    chat.ok("lilei", "生日 取消")
    assert employee(chat.engine, "lilei").birthday is None
    assert moments_run(chat, "Harbour Street Store", date(2026, 11, 25)) == "0 moments"


def test_the_board_page_shows_the_team_s_month(chat):
    from tests.web_support import app_for, browser

    chat.ok("wang", "praise @alice kind and quick")
    app = app_for(chat.engine, chat.config)
    page = browser(app, chat, "bob").get("/season?month=2026-11")
    assert page.status_code == 200 and "Alice Chen" in page.text and "Customers served" in page.text
    assert browser(app, chat, "wang").get("/season?month=2026-10").status_code == 200
    assert browser(app, chat, "bob").get("/season?month=2026-13").status_code == 404
