"""The demo organisation `make run` loads: six months of history played through the
domain on both stores, so the pages HR opens first show figures; loaded once, and the
same "now" gives the same history."""

import re
import warnings
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.demo import seed_if_empty
from bot.kit.config import parse_config
from handlers.dispatch import execute
from handlers.grammar import parse
from handlers.i18n import render_reply
from handlers.linking import issue_code
from points import ledger
from storage.engine import create_all, make_engine, transaction
from storage.models import (
    Compensation,
    CouncilItem,
    Employee,
    GoldenEarAward,
    LedgerEntry,
    Outbox,
    RecoveryCase,
    Waiver,
)
from tests.support import count, employee, rows
from tests.web_support import app_for

CONFIG = parse_config({})  # the built-in settings `make run` starts with


def hr_browser(engine):
    with warnings.catch_warnings():  # the test client's notice about its HTTP library
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    client = TestClient(app_for(engine, CONFIG), base_url="https://testserver",
                        follow_redirects=False)
    with transaction(engine) as session:
        code = issue_code(session, session.get(Employee, employee(engine, "hana").id),
                          "login", datetime.now(UTC), timedelta(minutes=5))
    assert client.post(f"/login/{code}").status_code == 303
    return client


def page(client, path: str) -> str:
    """The page's words, without its markup."""
    answer = client.get(path)
    assert answer.status_code == 200, path
    text = re.sub(r"<style.*?</style>|<[^>]+>", " ", answer.text, flags=re.S)
    return re.sub(r"\s+", " ", text).replace("&#39;", "'")


def number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found is not None, f"{pattern!r} not in {text[:2000]}"
    return int(found.group(1))


def test_the_history_fills_every_page_hr_opens_first(engine):
    """Six weeks of it (the default is six months: below, once): through the domain,
    the ledger verifies, and HR's first pages, `me` and `pending` show figures."""
    played = seed_if_empty(engine, CONFIG, days=42)
    assert played is not None and played.refused == []
    assert played.commands > 100 and played.responses > 100 and played.rituals > 10
    with transaction(engine) as session:
        assert ledger.verify(session) == []
        assert session.exec(select(Outbox).where(Outbox.delivered_at.is_(None))).all() == []
    assert count(engine, Compensation, status="declined") == 1
    assert count(engine, Compensation, status="approved") > 3
    assert count(engine, Waiver, status="ratified") > 3
    (fixed, staffing) = rows(engine, CouncilItem)
    assert (fixed.status, staffing.status) == ("validated", "approved")
    (won_back, *still_open) = rows(engine, RecoveryCase)  # one closed, the last hours' open
    assert (won_back.outcome, len(still_open)) == ("recovered", 2)
    assert won_back.called_back_at <= won_back.due_at and "**21" in won_back.text
    assert all(case.status == "open" for case in still_open)
    case, _locale = execute(engine, CONFIG, "console", "emma", parse(f"recover K{won_back.id}"))
    shown = render_reply(case, "en")
    assert "Emma Lin reached the customer" in shown and "goodwill C" in shown
    assert "the customer came back: F" in shown and "NPS 9" in shown

    hr = hr_browser(engine)
    cockpit = page(hr, "/cockpit")  # HR's first team: the first store
    assert "Harbour Street Store — customers and staff" in cockpit
    assert number(r"NPS \(n = (\d+)\) -?\d+", cockpit) > 0
    assert number(r"Praise letters (\d+)", cockpit) > 0
    fairness = page(hr, "/fairness")
    assert number(r"Alice Chen Harbour Street Store employee (\d+)", fairness) > 0
    authority = page(hr, "/authority")
    assert number(r"Harbour Street Store employee used by (\d) of 5", authority) > 0
    signals = page(hr, "/signals")
    assert "Bob Li gave 3 compensations at 90% of their limit or more" in signals
    assert "Customer #A7788 was compensated by 3 different people" in signals
    team = page(hr, "/team")
    assert number(r"Alice Chen employee (\d+)", team) > 0
    assert re.search(r"R\d+ Bob Li redeems", team)  # waiting for HR

    me, _locale = execute(engine, CONFIG, "console", "alice", parse("me"))
    assert me.messages[0].params["balance"] > 0
    waiting, _locale = execute(engine, CONFIG, "console", "wang", parse("pending"))
    assert waiting.messages[0].params["count"] >= 2

    entries = count(engine, LedgerEntry)
    assert seed_if_empty(engine, CONFIG) is None  # the directory has people: nothing again
    assert count(engine, LedgerEntry) == entries


def test_six_months_by_default(tmp_path):
    """The length `make run` loads, once (on SQLite, its store): every month has its
    Golden Ear winner, Riverside's council item is validated, the cockpit has an NPS."""
    store = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    create_all(store)
    try:
        played = seed_if_empty(store, CONFIG)
        assert played is not None and played.refused == [] and played.commands > 500
        with transaction(store) as session:
            assert ledger.verify(session) == []
        awards = rows(store, GoldenEarAward)
        assert len(awards) >= 6 and all(award.winner_id for award in awards)
        assert [item.status for item in rows(store, CouncilItem)] == ["validated", "approved"]
        assert number(r"NPS \(n = (\d+)\) -?\d+", page(hr_browser(store), "/cockpit")) > 0
    finally:
        store.dispose()


def ledger_of(engine) -> list[tuple]:
    with transaction(engine) as session:
        return [tuple(row) for row in session.exec(select(
            Employee.handle, LedgerEntry.amount, LedgerEntry.reason, LedgerEntry.idempotency_key,
            LedgerEntry.created_at, LedgerEntry.balance_after)
            .join(Employee, Employee.id == LedgerEntry.employee_id)
            .order_by(LedgerEntry.id)).all()]


def test_the_same_now_gives_the_same_history(engine, tmp_path):
    """A shorter history into this store and into a fresh SQLite file: the same ledger."""
    now = datetime(2026, 11, 18, 6, 30, tzinfo=UTC)
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    create_all(other)
    try:
        for store in (engine, other):
            played = seed_if_empty(store, CONFIG, now=now, days=21)
            assert played is not None and played.refused == []
        first, second = ledger_of(engine), ledger_of(other)
        assert len(first) > 15 and first == second
        assert first[-1][4] < now and first[0][4] >= now - timedelta(days=22)
    finally:
        other.dispose()


def test_a_scripted_chat_starts_from_the_five_people_alone(engine):
    """`frontline chat` (no rituals) loads the small directory with no history, so what
    a script types is all that happened."""
    assert seed_if_empty(engine, CONFIG, with_history=False) is not None
    assert sorted(person.handle for person in rows(engine, Employee)) == [
        "alice", "bob", "hana", "lilei", "wang"]
    assert count(engine, LedgerEntry) == 0
