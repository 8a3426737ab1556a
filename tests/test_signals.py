"""Signals, not accusations: each pattern on hand-built data, who sees it, dismissal
with a note, and the weekly digest's private note."""

from datetime import timedelta

import pytest
from sqlmodel import select

from handlers.directory import import_csv
from handlers.i18n import render_reply
from handlers.reports.signals import month_signals, visible, visible_to_each
from handlers.scope import scope_of
from rituals.content import signals_digest
from storage.engine import transaction
from storage.models import Compensation, SignalDismissal, Team
from tests.support import employee, notifications, rows

MONTH = "2026-11"


def signals(chat, handle=None):
    reader = employee(chat.engine, handle) if handle else None
    with transaction(chat.engine) as session:
        found = month_signals(session, chat.config, MONTH)
        if reader is not None:
            scope = scope_of(session, reader)
            found, everyone = visible(found, scope), found
            # the same, whether looked up for many readers or computed for one
            assert visible_to_each(everyone)(scope) == found
            narrowed = visible(month_signals(session, chat.config, MONTH, scope), scope)
            assert [(s.key, s.refs) for s in narrowed] == [(s.key, s.refs) for s in found]
        return [(s.kind, s.refs) for s in found if s.dismissal is None]


@pytest.fixture
def more_staff(chat):
    """A second team (Riverside, led by zoe) so that peers and other supervisors exist."""
    with transaction(chat.engine) as session:
        import_csv(session, chat.config, "handle,name,role,team,timezone,supervisor,locale\n"
                   "zoe,Zoe Wu,supervisor,Riverside,Asia/Shanghai,,en\n"
                   "max,Max Ma,employee,Riverside,,zoe,en\n")
    return chat


def test_one_customer_compensated_by_several_staff_within_the_window(more_staff):
    chat = more_staff
    chat.ok("alice", "comp 50 voucher #A17 late")
    chat.ok("bob", "comp 50 voucher #a17 late again", now=chat.now + timedelta(days=2))
    assert signals(chat) == []  # two people: not yet several
    chat.ok("max", "comp 50 voucher #A17 still late", now=chat.now + timedelta(days=8))
    assert signals(chat) == []  # alice's is outside the 7 days
    chat.ok("lilei", "comp 50 voucher #A17 sorry", now=chat.now + timedelta(days=3))
    assert signals(chat) == [("several_staff", "C1, C2, C4")]
    assert signals(chat, "wang") == [("several_staff", "C1, C2, C4")]
    assert signals(chat, "zoe") == []  # none of her people
    assert signals(chat, "hana") == [("several_staff", "C1, C2, C4")]


def test_far_above_the_team_median(chat):
    for handle, amount in (("alice", 100), ("bob", 120), ("lilei", 150)):
        chat.ok(handle, f"comp {amount} voucher #{handle} care")
    assert signals(chat) == []
    for n in range(3):  # bob: 120 + 3 × 100 = 420, not above 3 × the median of 150
        chat.ok("bob", f"comp 100 voucher #X{n} care", now=chat.now + timedelta(days=n + 1))
    assert signals(chat) == []
    chat.ok("bob", "comp 100 voucher #X9 care", now=chat.now + timedelta(days=5))  # 520
    assert signals(chat) == [("above_team", "C2, C4, C5, C6, C7")]
    assert signals(chat, "wang") == [("above_team", "C2, C4, C5, C6, C7")]


def test_the_median_of_an_even_team_is_its_two_middle_givers_averaged(chat):
    for handle, amount in (("alice", 100), ("wang", 130), ("lilei", 150), ("bob", 100)):
        chat.ok(handle, f"comp {amount} voucher #{handle} care")
    for n in range(3):  # bob 400: within 3 × 140 (the lower middle alone would say 390)
        chat.ok("bob", f"comp 100 voucher #X{n} care", now=chat.now + timedelta(days=n + 1))
    assert signals(chat) == []
    chat.ok("bob", "comp 30 voucher #X9 care", now=chat.now + timedelta(days=5))  # 430
    assert [kind for kind, _refs in signals(chat)] == ["above_team"]  # (not above 3 × 150)


def test_the_records_behind_a_signal_are_read_a_thousand_names_at_a_time(chat):
    from handlers.reports.signals import _records_of
    chat.ok("alice", "comp 20 voucher #A1 care")
    chat.ok("bob", "comp 30 voucher #B1 care")
    people = [employee(chat.engine, handle).id for handle in ("bob", "alice")]
    with transaction(chat.engine) as session:  # more names than one statement takes here
        found = _records_of(session, Compensation.employee_id,
                            [*range(100_000, 102_500), *people])
    assert [record.amount_minor for record in found] == [2000, 3000]


def test_an_approver_who_approves_nearly_everything_from_one_requester(chat):
    for n in range(5):
        chat.ok("alice", f"comp 300 refund #R{n} broken", now=chat.now + timedelta(days=n))
        chat.ok("wang", f"approve C{n + 1}", now=chat.now + timedelta(days=n))
    assert ("approves_all", "C1, C2, C3, C4, C5") in signals(chat)
    assert ("approves_all", "C1, C2, C3, C4, C5") in signals(chat, "hana")
    assert signals(chat, "wang") == []  # never shown to the person it is about


def test_one_decline_in_five_is_not_nearly_everything(chat):
    for n in range(5):
        chat.ok("alice", f"comp 300 refund #R{n} broken", now=chat.now + timedelta(days=n))
        chat.ok("wang", f"{'decline' if n == 2 else 'approve'} C{n + 1}",
                now=chat.now + timedelta(days=n))
    assert [k for k, _refs in signals(chat)] == []


def test_just_under_the_limit_again_and_again(chat):
    chat.ok("alice", "comp 180 refund #N1 a")  # 90% of 200
    chat.ok("alice", "comp 199 refund #N2 b", now=chat.now + timedelta(days=1))
    chat.ok("alice", "comp 179.99 refund #N3 c", now=chat.now + timedelta(days=2))
    assert signals(chat) == []
    chat.ok("alice", "comp 200 refund #N4 d", now=chat.now + timedelta(days=3))
    assert signals(chat) == [("near_limit", "C1, C2, C4")]
    reply = chat.reply("wang", "signals 2026-11")
    text = render_reply(reply, "en")
    assert "Alice Chen gave 3 compensations at 90% of their limit or more this month" in text
    assert "本月有 3 笔补偿达到其额度的 90% 以上" in render_reply(reply, "zh")
    chat.refused("alice", "signals", "refuse.role")  # never to peers
    chat.refused("bob", "signals", "refuse.role")


def test_hr_dismisses_a_signal_with_a_note_that_is_kept(chat):
    for n, amount in enumerate((180, 190, 195)):
        chat.ok("alice", f"comp {amount} refund #N{n} x", now=chat.now + timedelta(days=n))
    key = f"near_limit:{employee(chat.engine, 'alice').id}:{MONTH}"
    chat.refused("wang", f"signals dismiss {key} fine", "refuse.role")
    chat.refused("hana", f"signals dismiss near_limit:999:{MONTH} fine", "refuse.signal_unknown")
    chat.refused("hana", f"signals dismiss {key}:x fine", "refuse.signal_unknown")
    chat.ok("hana", f"signals dismiss {key} a regular with real problems each time")
    chat.refused("hana", f"signals dismiss {key} again", "refuse.signal_dismissed")
    assert signals(chat) == []
    (kept,) = rows(chat.engine, SignalDismissal)
    assert kept.note == "a regular with real problems each time"
    shown = chat.ok("wang", "signals").messages  # bob and lilei remain: under-use
    assert [m.key for m in shown] == ["signals.header", "signal.unused", "signal.unused"]


def test_the_weekly_digest_tells_supervisors_and_hr_privately(more_staff, config):
    chat = more_staff
    for n, amount in enumerate((180, 190, 195)):
        chat.ok("alice", f"comp {amount} refund #N{n} x", now=chat.now + timedelta(days=n))
    with transaction(chat.engine) as session:
        team = session.exec(Team.__table__.select().where(
            Team.name == "Harbour Street Store")).one()
        team = session.get(Team, team.id)
        until = chat.now + timedelta(days=7)
        assert signals_digest(session, config, team, until, until) == 2
        assert signals_digest(session, config, team, until, until) == 0  # once a week
    for handle in ("wang", "hana"):
        (note,) = [n for n in notifications(chat.engine, handle)
                   if n.message_key == "notify.signals_digest"]
        assert note.params["count"] == 3  # alice's near-limit; bob and lilei to coach
    for handle in ("alice", "bob", "zoe", "max"):
        assert all(n.message_key != "notify.signals_digest"
                   for n in notifications(chat.engine, handle))
    assert all(n.message_key != "notify.signals_digest" for n in rows(
        chat.engine, type(notifications(chat.engine, "wang")[0]), audience="team"))
    assert rows(chat.engine, Compensation)


@pytest.fixture
def app(chat, config):
    from tests.web_support import AIRPORT, app_for
    with transaction(chat.engine) as session:
        import_csv(session, config, AIRPORT)
    return app_for(chat.engine, config)


def test_the_signals_page_for_every_role(app, chat):
    from tests.web_support import browser, csrf
    for n, amount in enumerate((180, 190, 195)):
        chat.ok("alice", f"comp {amount} refund #N{n} x", now=chat.now + timedelta(days=n))
    page = "/signals?month=2026-11"
    for handle in ("alice", "bob", "mia"):  # employees, peers: nothing
        assert browser(app, chat, handle).get(page).status_code == 403
    zhou = browser(app, chat, "zhou")  # another store's supervisor: not his people
    assert "No signals for 2026-11" in zhou.get(page).text
    wang = browser(app, chat, "wang")  # reads Chinese
    shown = wang.get(page).text
    assert "Alice Chen 本月有 3 笔补偿达到其额度的 90% 以上" in shown and "C1, C2, C3" in shown
    assert "/signals/dismiss" not in shown
    key = f"near_limit:{employee(chat.engine, 'alice').id}:{MONTH}"
    refused = wang.post("/signals/dismiss", data={"csrf": csrf(wang), "key": key, "note": "x"})
    assert refused.status_code == 403
    assert "只有 HR 可以排除预警信号。" in refused.text
    hana = browser(app, chat, "hana")
    assert 'action="/signals/dismiss"' in hana.get(page).text
    assert hana.post("/signals/dismiss", data={"csrf": "forged", "key": key,
                                               "note": "ok"}).status_code == 403
    done = hana.post("/signals/dismiss", data={"csrf": csrf(hana), "key": key,
                                               "note": "<b>checked</b>, all fine"})
    assert (done.status_code, done.headers["location"]) == (303, page)
    after = hana.get(page).text
    assert "Dismissed" in after and "&lt;b&gt;checked&lt;/b&gt;, all fine" in after
    assert "Hana Xu" in after  # who dismissed it
    assert "已排除" in wang.get(page).text
    assert hana.get("/signals?month=2026-13").status_code == 400


def test_the_signals_page_shows_the_open_signals_a_page_at_a_time(app, chat, monkeypatch):
    from bot.webui.pages import signals as page
    from tests.web_support import browser
    monkeypatch.setattr(page, "SIGNALS_SHOWN", 1)
    for handle in ("alice", "bob", "lilei"):  # one customer, three staff
        chat.ok(handle, f"comp 20 voucher #K1 {handle}")
    for n, amount in enumerate((180, 190, 195)):  # alice near her limit, three times
        chat.ok("alice", f"comp {amount} refund #N{n} x", now=chat.now + timedelta(days=n))
    hana = browser(app, chat, "hana")  # three signals: the customer, near, far above
    pages = [hana.get(f"/signals?month=2026-11&page={n}").text for n in (1, 2, 3)]
    assert [text.count('<section class="card signal"') for text in pages] == [1, 1, 1]
    assert sum("#K1" in text for text in pages) == 1
    assert ['rel="prev"' in text for text in pages] == [False, True, True]
    assert ['rel="next"' in text for text in pages] == [True, True, False]


def digest_lines(chat, handle):
    """What a reader's private digest says, rendered in their language, in order."""
    from handlers.base import Message
    from handlers.i18n import render_message
    reader = employee(chat.engine, handle)
    sent = notifications(chat.engine, handle)
    start = [n.message_key for n in sent].index("notify.signals_digest")
    return [render_message(Message(n.message_key, dict(n.params)), reader.locale)
            for n in sent[start:]]


def test_the_digest_shows_each_signal_with_the_records_behind_it(more_staff, config):
    chat = more_staff
    for n, amount in enumerate((180, 190, 195)):
        chat.ok("alice", f"comp {amount} refund #N{n} x", now=chat.now + timedelta(days=n))
    with transaction(chat.engine) as session:
        team = session.exec(select(Team).where(Team.name == "Harbour Street Store")).one()
        assert signals_digest(session, config, team, chat.now + timedelta(days=7),
                              chat.now + timedelta(days=7)) == 2
    hana = digest_lines(chat, "hana")  # reads English
    assert hana[0].startswith("Signals this week for the people in your care (2026-11): "
                              "3 patterns worth a look")
    assert "Alice Chen gave 3 compensations at 90% of their limit" in hana[1]
    assert "C1 · Alice Chen · 180.00 CNY · #N0 · 2026-11-23" in hana[1]
    assert "C3 · Alice Chen · 195.00 CNY · #N2 · 2026-11-25" in hana[1]
    assert "Bob Li (Harbour Street Store, employee) has not used their authority in " \
           "2026-11, while 1 of their 2 peers in the same team and role did (Alice Chen)" \
           in hana[2]
    assert "Suggestion: coach" in hana[2] and len(hana) == 4
    wang = digest_lines(chat, "wang")  # reads Simplified Chinese
    assert wang[0].startswith("本周你负责的员工在 2026-11 有 3 条信号")
    assert "C2 · Alice Chen · 190.00 CNY · #N1 · 2026-11-24" in wang[1]
    assert "李雷 Li Lei（Harbour Street Store，员工）在 2026-11 没有使用过授权" in wang[3]
    for handle in ("alice", "bob", "lilei", "zoe", "max"):  # about them, peers, others
        assert all(not n.message_key.startswith(("signal", "notify.signals"))
                   for n in notifications(chat.engine, handle))


def test_under_use_of_authority_is_a_signal(more_staff):
    chat = more_staff
    with transaction(chat.engine) as session:
        import_csv(session, chat.config, "handle,name,role,team,timezone,supervisor,locale\n"
                   "kim,Kim Ko,employee,Riverside,,zoe,zh-Hant\n")
    assert chat.ok("wang", "signals").messages[0].key == "signals.none"  # nobody used it
    chat.ok("alice", "comp 50 voucher #A1 late")
    chat.ok("max", "comp 30 voucher #A2 late")
    text = render_reply(chat.reply("wang", "signals"), "en")
    assert "Bob Li (Harbour Street Store, employee) has not used their authority" in text
    assert "李雷 Li Lei (Harbour Street Store, employee)" in text
    assert "Alice Chen (" not in text and "Kim Ko" not in text  # used it; not his people
    zoe = chat.reply("zoe", "signals 2026-11")
    assert "Kim Ko (Riverside, employee) has not used their authority in 2026-11, while " \
           "their only peer in the same team and role did (Max Ma)" in render_reply(zoe, "en")
    assert "而同團隊同崗位的 1 位同事中有 1 位用過（Max Ma）" in render_reply(zoe, "zh-Hant")
    assert "建议辅导" in render_reply(zoe, "zh")
    hana = render_reply(chat.reply("hana", "signals"), "en")
    assert hana.count("has not used their authority") == 3
    chat.refused("bob", "signals", "refuse.role")  # never to peers, nor to the person
    assert chat.ok("wang", "signals 2026-10").messages[0].key == "signals.none"


def test_the_signals_page_shows_who_to_coach(app, chat):
    from tests.web_support import browser
    chat.ok("alice", "comp 50 voucher #A1 late")
    page = "/signals?month=2026-11"
    shown = browser(app, chat, "wang").get(page).text
    assert "Bob Li（Harbour Street Store，员工）在 2026-11 没有使用过授权" in shown
    assert 'href="/authority?month=2026-11"' in shown
    assert browser(app, chat, "bob").get(page).status_code == 403
    assert "has not used their authority" in browser(app, chat, "hana").get(page).text


def test_a_fellow_supervisor_on_the_team_never_sees_signals_about_a_peer(chat):
    with transaction(chat.engine) as session:  # yan leads Harbour Street Store beside wang
        import_csv(session, chat.config, "handle,name,role,team,timezone,supervisor,locale\n"
                   "yan,Yan Li,supervisor,Harbour Street Store,,,en\n")
    for n, amount in enumerate((900, 990, 1000)):  # wang's own goodwill, just under his limit
        chat.ok("wang", f"comp {amount} refund #W{n} care", now=chat.now + timedelta(days=n))
    for n, amount in enumerate((180, 199, 200)):  # and alice's
        chat.ok("alice", f"comp {amount} refund #N{n} care", now=chat.now + timedelta(days=n))
    about = {refs: kind for kind, refs in signals(chat)}
    assert len(about) == 2 and set(about.values()) == {"near_limit"}
    alices = [refs for refs in about if refs in {r for _, r in signals(chat, "wang")}]
    assert signals(chat, "yan") == [("near_limit", alices[0])]  # alice's, never wang's
    assert len(signals(chat, "hana")) == 2


def test_chat_names_the_first_signals_and_counts_the_rest(chat, monkeypatch):
    from handlers import signals as chat_signals

    monkeypatch.setattr(chat_signals, "SHOWN", 1)
    for handle in ("alice", "bob"):  # each just under the limit three times: two signals
        for n, amount in enumerate((180, 190, 195)):
            chat.ok(handle, f"comp {amount} refund #{handle}{n} x",
                    now=chat.now + timedelta(days=n))
    reply = chat.ok("hana", "signals 2026-11")
    assert [m.key for m in reply.messages] == ["signals.header", "signal.near_limit",
                                               "signals.more", "signal.unused"]
    assert "Alice Chen gave 3 compensations" in render_reply(reply, "en")
    assert "…and 1 more signal in 2026-11: http" in render_reply(reply, "en")
    assert "/signals?month=2026-11" in render_reply(reply, "zh-Hant")
