"""Retention: bookkeeping past its use is deleted in batches, what may still be needed
stays, and the daily run is claimed once however many workers fire it."""

import threading
from datetime import timedelta

from sqlmodel import select

from rituals import retention, schedule
from storage.engine import transaction
from storage.models import (
    CommandReceipt,
    FormState,
    InboxItem,
    OneTimeCode,
    Outbox,
    OutboxDelivery,
    Praise,
    RitualRun,
    WebSession,
)
from tests.conftest import NOW
from tests.support import count, employee, rows

OLD, RECENT = NOW - timedelta(days=31), NOW - timedelta(days=29)


def receipt(key, at):
    return CommandReceipt(key=key, reply={"messages": []}, created_at=at)


def add_outbox(engine, at, delivered=True, channels=()):
    """A notification, delivered through `channels` at `at`, or failing."""
    with transaction(engine) as session:
        row = Outbox(audience="all", message_key="notify.test", created_at=at,
                     delivered_at=at if delivered else None,
                     last_error="" if delivered else "telegram: 403")
        session.add(row)
        session.flush()
        session.add_all([OutboxDelivery(outbox_id=row.id, channel=c, delivered_at=at)
                         for c in channels])


def inbox(key, done_at):
    return InboxItem(key=key, platform="slack", kind="command", payload={},
                     received_at=OLD - timedelta(days=1), attempts=1, done_at=done_at)


def test_rows_past_the_period_go_and_the_rest_stay(org):
    alice = employee(org, "alice").id
    with transaction(org) as session:
        session.add_all([receipt(f"telegram:update:{n}", OLD) for n in range(5)])
        session.add_all([receipt("telegram:update:99", RECENT),
                         receipt("praise-api:surveyhub:r-1", OLD - timedelta(days=400))])
        session.add_all([inbox("slack:command:old", OLD), inbox("slack:command:new", RECENT),
                         inbox("slack:command:never-done", None)])
        session.add_all([FormState(platform="telegram", conversation=c, form="waiver",
                                   locale="en", answers={}, expires_at=at)
                         for c, at in (("1:1", OLD), ("2:2", RECENT), ("3:3", NOW))])
        session.add_all([OneTimeCode(code_hash=h, purpose="login", employee_id=alice,
                                     created_at=at, expires_at=at) for h, at in
                         (("old", OLD), ("new", RECENT))])
        session.add_all([WebSession(token_hash=h, employee_id=alice, csrf_token="c",
                                    created_at=at, expires_at=at) for h, at in
                         (("old", OLD), ("new", RECENT))])
    for _ in range(3):
        add_outbox(org, OLD, channels=("telegram", "slack"))
    add_outbox(org, RECENT, channels=("telegram",))
    add_outbox(org, OLD - timedelta(days=100), delivered=False)  # failing: someone looks

    removed = retention.prune(org, 30, NOW, batch=2)  # several batches per table

    assert removed == {"commandreceipt": 5, "inboxitem": 1, "outboxdelivery": 6, "outbox": 3,
                       "formstate": 1, "onetimecode": 1, "websession": 1}
    assert {r.key for r in rows(org, CommandReceipt)} == {"telegram:update:99",
                                                         "praise-api:surveyhub:r-1"}
    assert {r.key for r in rows(org, InboxItem)} == {"slack:command:new",
                                                    "slack:command:never-done"}
    assert [(o.delivered_at is None, o.last_error) for o in rows(org, Outbox)] == [
        (False, ""), (True, "telegram: 403")]
    assert count(org, OutboxDelivery) == 1
    assert {f.conversation for f in rows(org, FormState)} == {"2:2", "3:3"}
    assert [c.code_hash for c in rows(org, OneTimeCode)] == ["new"]
    assert [s.token_hash for s in rows(org, WebSession)] == ["new"]
    assert set(retention.prune(org, 30, NOW).values()) == {0}  # nothing left to do


def test_a_retry_within_the_period_still_gets_the_stored_reply(chat):
    first = chat.ok("wang", "praise @alice found my ring", key="telegram:update:7", now=OLD)
    retention.prune(chat.engine, 30, OLD + timedelta(days=29))
    again = chat.reply("wang", "praise @alice found my ring", key="telegram:update:7",
                       now=OLD + timedelta(days=29))
    assert again == first and count(chat.engine, Praise) == 1
    retention.prune(chat.engine, 30, OLD + timedelta(days=31))
    assert count(chat.engine, CommandReceipt) == 0


def test_the_ritual_runs_daily_and_once_per_day(chat):
    scheduler = schedule.build_scheduler(chat.engine, chat.config)
    job = scheduler.get_job("retention:0")
    assert job is not None and job.misfire_grace_time == chat.config.rituals.grace_minutes * 60
    with transaction(chat.engine) as session:
        session.add(receipt("telegram:update:1", OLD))
    (daily,) = schedule.targets(chat.engine, chat.config, ["retention"])
    fired = schedule.scheduled_for(daily, chat.config, NOW.date())
    assert fired.astimezone(daily.tz).strftime("%H:%M") == chat.config.rituals.retention.time
    detail = schedule.run_once(chat.engine, chat.config, daily, fired, NOW)
    assert detail.startswith("removed 1 commandreceipt, 0 inboxitem")
    assert schedule.run_once(chat.engine, chat.config, daily, fired, NOW) is None  # claimed
    (run,) = rows(chat.engine, RitualRun, ritual="retention")
    assert (run.period, run.status, run.detail) == (fired.astimezone(daily.tz).date()
                                                    .isoformat(), "done", detail)


def test_two_pruners_at_once_delete_each_row_once(org):
    """The ritual's claim lets one worker prune per day; `frontline prune` may still run
    beside it. Each batch skips the rows the other holds, so the counts add up."""
    with transaction(org) as session:
        session.add_all([receipt(f"slack:command:{n}", OLD) for n in range(600)])
    for _ in range(200):
        add_outbox(org, OLD, channels=("telegram",))
    results, errors = [], []

    def prune():
        try:
            results.append(retention.prune(org, 30, NOW, batch=50))
        except Exception as error:  # reported below, with the thread's failure
            errors.append(error)

    threads = [threading.Thread(target=prune) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    totals = {table: sum(r[table] for r in results) for table in results[0]}
    assert (totals["commandreceipt"], totals["outbox"], totals["outboxdelivery"]) == (
        600, 200, 200)
    with transaction(org) as session:
        assert session.exec(select(CommandReceipt)).first() is None
        assert session.exec(select(Outbox)).first() is None
