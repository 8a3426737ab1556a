"""A machine that tries every verb, in every state, as every role, in every language.

Hypothesis drives the demo organisation through random sequences of chat commands —
each verb of the registry in any language's word, with arguments drawn from valid,
borderline and hostile values (existing and unknown references, limits ±1, control
and bidi characters, 10,000-character text) — interleaved with time passing
(reminders, escalations, rituals) and retried deliveries. After every step:

- nothing raised: every input gets a reply, rendered in the reader's language from
  messages that exist in it (and every notification queued renders in all three);
- a refusal changed nothing (every table but the command receipts is as it was);
- a retried command has no second effect and gets the same reply;
- `ledger verify` holds, so no balance is below zero or apart from its entries;
- no row holds a character the input check refuses (controls, bidi overrides);
- nothing waits on someone who left (a request to decide, a case, a half-filled form),
  a leaver's own commands are refused, and their balance took the organisation's rule;
- a person who chose the daily summary is told no customer voice or praise post live.

It runs on both stores at a size that fits `make test`; FRONTLINE_STATE_SCALE=100
multiplies the number of runs (and CI's nightly flag may set it).
"""

import contextlib
import csv
import io
import json
import os
import re
import shutil
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from sqlalchemy import text
from sqlmodel import SQLModel, select

from bot.demo import DEMO_STAFF
from bot.kit.config import DEMO_CATALOG, parse_config
from handlers import feedback, registry, summary
from handlers.base import Message
from handlers.directory import import_csv
from handlers.dispatch import execute
from handlers.grammar import parse
from handlers.i18n import MESSAGES, accepted_words, render_message, render_reply
from handlers.limits import storable
from handlers.policy import Leavers
from points.ledger import balance, verify
from rituals.reminders import run_reminders
from rituals.schedule import catch_up
from storage.engine import make_engine, transaction
from storage.models import (
    ChatIdentity,
    CommandReceipt,
    Departure,
    Employee,
    FormState,
    PersonPrefs,
    Praise,
)
from tests.conftest import EMPTY_POSTGRES, NOW

REFERENCE = re.compile("[A-Z][0-9]{1,4}")
SCALE = int(os.environ.get("FRONTLINE_STATE_SCALE", "1"))
LOCALES = ("en", "zh", "zh-Hant")
HANDLES = ("alice", "bob", "lilei", "wang", "hana")
registry.load()

# --- what people type ---------------------------------------------------------------
CONTROL = ["\x1b[31mred", "bell\x07", "del\x7f", "back\x08space", "\x85next", "\u202eevil",
           "\u2066isolate\u2069", "tab\there", "line\nbreak"]
HOSTILE = ["x" * 10_000, "y" * 499, "y" * 500, "y" * 501, "z" * 1000, "z" * 1001,
           "z" * 2001, "规" * 201, "🙂" * 50, *CONTROL]
free_text = st.one_of(
    st.sampled_from(["parcel late", "客户很满意 谢谢", "顧客很滿意", "the order system was down",
                     "a" * 130]),
    st.sampled_from(HOSTILE), st.text(max_size=40))
references = st.one_of(
    st.builds(lambda letter, n: f"{letter}{n}", st.sampled_from("CWPSMRXc"),
              st.integers(0, 6)),
    st.sampled_from(["C99999999999999999999", "Ｃ１", "W-1", "#1", "X", "R1e3"]))
handles = st.sampled_from([*(f"@{h}" for h in HANDLES), "@nobody", "@", "@ALICE", "alice",
                           "@wang@wang", "<@U123>"])
amounts = st.sampled_from(["20", "199.99", "200", "200.01", "201", "1000", "1001", "0", "-5",
                           "0.001", "1e9", "NaN", "Infinity", "９９", "12,000", "5.5.5"])
months = st.sampled_from(["2026-11", "2026-12", "2026-13", "1999-01", "2026-1", "9999-12"])
dates = st.sampled_from(["2026-11-24", "2026-12-01", "2026-02-30", "2026-11-01", "2099-01-01",
                         "yesterday"])
words = st.sampled_from(sorted({w for key in MESSAGES if key.startswith("word.")
                                for w in accepted_words(key)}))
items = st.sampled_from([item["key"] for item in DEMO_CATALOG] + ["moon", ""])
themes = st.sampled_from(["it-systems", "staffing", "refund-policy", "weather", "IT-Systems"])
scores = st.sampled_from(["0", "6", "10", "11", "-1", "5.5", "ten"])
times = st.sampled_from(["@ now", "@ 14:30", "@ 2h", "@ 2026-11-23 14:30", "@ 25:99",
                         "@ 99999h", "@"])
piece = st.one_of(free_text, references, handles, amounts, months, dates, words, items,
                  themes, scores, times, st.sampled_from(["CNY", "USD", "EUR", "/", "#A1"]))


def verb_words(verb: str) -> list[str]:
    return sorted(accepted_words(f"verb.{verb}"))


def word(verb: str) -> str:
    """The verb's English word: the busy paths' arguments are what is drawn."""
    return verb_words(verb)[0] if verb != "comp" else "comp"


kinds = st.sampled_from(sorted({w for key in MESSAGES if key.startswith("word.kind.")
                                for w in accepted_words(key)}))


# the shapes of each verb's arguments, besides a random soup of pieces
SHAPES = {
    "comp": [(amounts, words, free_text), (amounts, st.just("CNY"), words, st.just("#A1"),
                                          free_text), (amounts, words, references, free_text)],
    "approve": [(references,), (references, free_text)],
    "decline": [(references, free_text), (references,)],
    "ask": [(references, free_text)],
    "answer": [(references, free_text)],
    "history": [(references,)],
    "cancel": [(references,)],
    "touching": [(references,)],
    "praise": [(handles, free_text), (free_text,), (handles, handles, free_text)],
    "nominate": [(handles, free_text)],
    "vote": [(handles,)],
    "solved": [(handles, free_text), (free_text,)],
    "suggest": [(free_text,)],
    "pulse": [(scores, free_text), (scores,)],
    "redeem": [(items,)],
    "waiver": [(free_text,), (free_text, times), (st.just("report"), references, free_text,
                                                  st.just("/"), free_text)],
    "signals": [(), (months,), (st.just("dismiss"), free_text, free_text)],
    "goldenear": [(), (st.just("close"),), (st.just("close"), months)],
    "away": [(), (st.just("until"), dates, handles), (st.just("off"),),
             (st.just("from"), dates, st.just("until"), dates, handles)],
    "council": [(), (st.just("open"), themes, handles), (st.just("approve"), references),
                (st.just("start"), references, dates), (st.just("done"), references),
                (st.just("validate"), references), (st.just("reopen"), references, free_text),
                (st.just("update"), references, free_text), (references,),
                (st.just("script"), references, free_text)],
    "ledger": [(), (handles,), (handles, st.sampled_from(["1", "200", "201", "-1", "x"]))],
    "lang": [(st.sampled_from(["en", "zh", "zh-hant", "zh-Hant", "fr", "中文"]),)],
    "link": [(st.sampled_from(["K7Q4PZM2XA", "", "x" * 300]),)],
    "help": [(), (st.sampled_from(sorted(registry.VERBS)),)],
    "recover": [(), (references,), (references, st.sampled_from(["reached", "unreached"]),
                                    free_text),
                (references, st.just("hand"), handles, free_text),
                (references, st.just("close"), st.sampled_from(["recovered", "lost",
                                                                "declined", "won"]),
                 free_text)],
    "thanks": [(handles, free_text), (handles, st.sampled_from(["+5", "+0", "-3", "+99999"]),
                                      free_text), (handles, free_text, st.just("#team"))],
    "adjust": [(handles, st.sampled_from(["-20", "20", "0", "-99999", "10001", "x"]),
                free_text)],
    "revoke": [(st.builds(lambda n: f"E{n}", st.integers(0, 30)), free_text)],
    "move": [(st.sampled_from(["30", "0", "-5", "99999"]), handles, handles, free_text)],
}


def command_line(draw, known: list[str]) -> str:
    """A command: a verb in any language, then its arguments in one of its shapes (or,
    now and then, any pieces in any order), references often ones that exist."""
    verb = draw(st.sampled_from(sorted(registry.VERBS)))
    word = draw(st.sampled_from(verb_words(verb)))
    if draw(st.integers(0, 4)) == 0:
        args = draw(st.lists(piece, max_size=4))
    else:
        args = []
        for part in draw(st.sampled_from(SHAPES.get(verb, [()]))):
            if part is references and known and draw(st.booleans()):
                part = st.sampled_from(known)
            args.append(draw(part))
    return " ".join([word, *args])


# --- the machine ----------------------------------------------------------------------
def fingerprint(engine) -> dict[str, list]:
    """Every row of every table but the command receipts (a refusal is one)."""
    skip = {CommandReceipt.__tablename__}
    with engine.connect() as connection:
        return {table.name: sorted(map(repr, connection.execute(table.select()).all()))
                for table in SQLModel.metadata.sorted_tables if table.name not in skip}


def strings(value):
    """Every string in a column's value, JSON included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


def assert_stored_text_clean(engine) -> None:
    """No row holds a character the input check refuses: controls, bidi overrides."""
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                for value in row:
                    for text_ in strings(value):
                        assert storable(text_), (table.name, text_[:80])


def assert_in_language(message: Message, locale: str) -> None:
    """The message and every message it names exist in the reader's own catalog."""
    assert locale in MESSAGES[message.key] or locale == "en", (message.key, locale)
    for name, value in message.params.items():
        if name.endswith("_key"):
            assert_in_language(Message(value), locale)


class Frontline(RuleBasedStateMachine):
    fresh = None  # set per store by the test: returns an engine holding the demo staff
    config = None

    @initialize(rule=st.sampled_from(["kept", "paid_out", "forfeited"]))
    def start(self, rule):
        self.engine = type(self).fresh()
        self.config = type(self).config.model_copy(update={"leavers": Leavers(balance=rule)})
        self.left: set[str] = set()  # handles marked as left
        self.now = NOW
        self.sent: list[tuple[str, str, str]] = []  # (handle, line, key) that ran
        self.outbox_seen = 0
        self.known: list[str] = []  # the references replies named
        self.count = 0

    def run(self, handle: str, line: str, key: str | None):
        command = parse(line)
        reply, locale = execute(self.engine, self.config, "console", handle, command,
                                idempotency_key=key, now=self.now)
        for message in reply.messages:
            assert_in_language(message, locale)
        assert reply.messages, line
        assert render_reply(reply, locale).strip(), line
        return reply, locale

    def send(self, handle: str, line: str) -> None:
        """One command as a platform delivers it, checked: a refusal changes nothing."""
        self.count += 1
        key = f"state-{self.count}"
        before = fingerprint(self.engine)
        reply, _ = self.run(handle, line, key)
        assert handle not in self.left or not reply.ok, f"a leaver was obeyed: {line!r}"
        if not reply.ok:
            assert fingerprint(self.engine) == before, f"refused but changed: {line!r}"
        self.known += [value for message in reply.messages for value in message.params.values()
                       if isinstance(value, str) and REFERENCE.fullmatch(value)]
        self.sent.append((handle, line, key, reply))

    def reference(self, draw) -> str:
        return draw(st.sampled_from(self.known)) if self.known and draw(st.booleans()) \
            else draw(references)

    @rule(handle=st.sampled_from([*HANDLES, "stranger"]), data=st.data())
    def any_command(self, handle, data):
        self.send(handle, command_line(data.draw, self.known))

    # the busy paths, so that records exist in every state for the rules above
    @rule(handle=st.sampled_from(HANDLES), amount=amounts, kind=kinds, reason=free_text,
          ref=st.sampled_from(["", "#A1 ", "#B2 "]))
    def compensate(self, handle, amount, kind, reason, ref):
        self.send(handle, f"{word('comp')} {amount} {kind} {ref}{reason}")

    @rule(data=st.data(), verb=st.sampled_from(["approve", "decline", "ask", "answer",
                                                "history", "cancel", "touching"]),
          handle=st.sampled_from(["wang", "hana", *HANDLES]), note=free_text)
    def decide(self, data, verb, handle, note):
        note = note if verb in ("approve", "decline", "ask", "answer") else ""
        self.send(handle, f"{data.draw(st.sampled_from(verb_words(verb)))} "
                          f"{self.reference(data.draw)} {note}".strip())

    @rule(data=st.data(), approver=st.sampled_from(["wang", "hana"]),
          verb=st.sampled_from(["approve", "decline", "ask"]), note=free_text)
    def decide_pending(self, data, approver, verb, note):
        """What an approver does: reads `pending`, then decides one of them."""
        reply, _ = self.run(approver, "pending", None)
        waiting = [value for message in reply.messages for value in message.params.values()
                   if isinstance(value, str) and REFERENCE.fullmatch(value)]
        if waiting:
            self.send(approver, f"{data.draw(st.sampled_from(verb_words(verb)))} "
                                f"{data.draw(st.sampled_from(waiting))} {note}")

    @rule(handle=st.sampled_from(HANDLES), whom=handles, what=free_text)
    def praise(self, handle, whom, what):
        self.send(handle, f"{word('praise')} {whom} {what}")

    @rule(handle=st.sampled_from(HANDLES), rule_=free_text, when=st.sampled_from(["", " @ 2h"]),
          data=st.data())
    def waiver(self, handle, rule_, when, data):
        self.send(handle, f"{word('waiver')} {rule_}{when}")
        if self.known and data.draw(st.booleans()):
            self.send(handle, f"{word('waiver')} report {data.draw(st.sampled_from(self.known))}"
                              f" {data.draw(free_text)} / {data.draw(free_text)}")

    @rule(data=st.data(), handle=st.sampled_from(HANDLES),
          verb=st.sampled_from(["thanks", "adjust", "revoke", "move"]))
    def recognise(self, data, handle, verb):
        """Thanks between colleagues, and HR's corrections."""
        args = [data.draw(part) for part in data.draw(st.sampled_from(SHAPES[verb]))]
        self.send("hana" if verb != "thanks" and data.draw(st.booleans()) else handle,
                  " ".join([data.draw(st.sampled_from(verb_words(verb))), *args]))

    @precondition(lambda self: any(ref.startswith("K") for ref in self.known))
    @rule(data=st.data(), handle=st.sampled_from(["alice", "wang", "hana", "bob"]))
    def follow_up(self, data, handle):
        """An unhappy customer's case followed up, by its holder or someone else."""
        cases = sorted(ref for ref in self.known if ref.startswith("K"))
        args = [data.draw(st.sampled_from(cases)) if part is references else data.draw(part)
                for part in data.draw(st.sampled_from(SHAPES["recover"][1:]))]
        self.send(handle, " ".join([data.draw(st.sampled_from(verb_words("recover"))), *args]))

    @rule(handle=st.sampled_from(HANDLES), item=items)
    def redeem(self, handle, item):
        self.send(handle, f"{word('redeem')} {item}")

    @rule(data=st.data(), step=st.sampled_from(["approve", "start", "done", "validate",
                                                "reopen", "update", "script"]),
          handle=st.sampled_from(["hana", "lilei", "wang"]), theme=themes)
    def council(self, data, step, handle, theme):
        if data.draw(st.booleans()):
            self.send("hana", f"{word('council')} open {theme} @wang")
        due = " 2026-12-31" if step == "start" else ""
        self.send(handle, f"{word('council')} {step} {self.reference(data.draw)}{due} "
                          f"{data.draw(free_text) if step in ('update', 'script') else ''}")

    @rule(data=st.data())
    def retry(self, data):
        if not self.sent:
            return
        handle, line, key, first = data.draw(st.sampled_from(self.sent))
        before = fingerprint(self.engine)
        again, _ = self.run(handle, line, key)
        if first.ok:  # a refusal kept nothing, not even its answer: a retry runs anew
            assert again.to_dict() == first.to_dict(), line
            assert fingerprint(self.engine) == before, f"a retry changed something: {line!r}"
        elif not again.ok:
            assert fingerprint(self.engine) == before, f"refused but changed: {line!r}"

    @rule(kind=st.sampled_from(["nps", "csat", "ces", "complaint"]),
          score=st.sampled_from(["", "0", "3", "6", "9", "10", "1", "2", "5", "7", "11"]),
          person=st.sampled_from(["", "alice", "bob", "nobody"]), words=free_text,
          customer=st.sampled_from(["CUST1", "CUST2", "#A1", ""]), source_id=st.integers(1, 6))
    def customer_voice(self, kind, score, person, words, customer, source_id):
        """A survey tool's export arrives (a row seen before is not kept again)."""
        row = [kind, "Harbour Street Store", person, score, words, customer, "till",
               "surveyhub", f"r{source_id}", ""]
        buffer = io.StringIO()
        csv.writer(buffer).writerows([feedback.CSV_COLUMNS, row])
        with contextlib.suppress(feedback.ImportErrors), transaction(self.engine) as session:
            feedback.import_csv(session, buffer.getvalue(), self.now, self.config.themes,
                                self.config)
        with self.engine.connect() as connection:  # the cases it opened, for `recover`
            self.known += [f"K{n}" for n in connection.execute(
                text("SELECT id FROM recoverycase")).scalars() if f"K{n}" not in self.known]

    @rule(handle=st.sampled_from(HANDLES), locale=st.sampled_from(["en", "zh", "zh-hant"]))
    def switch_language(self, handle, locale):
        self.count += 1
        self.run(handle, f"lang {locale}", f"state-{self.count}")

    @rule(data=st.data(), handle=st.sampled_from(HANDLES), form=st.booleans(),
          first=st.sampled_from(["", "points", "waiting"]))
    def leaver(self, data, handle, form, first):
        """HR marks someone as left: a supervisor with requests waiting, the holder of a
        case, someone with points or half-way through a form (HR themselves: refused)."""
        if handle not in self.left:
            if form:
                self.half_filled_form(handle)
            # set up without the refusal check's two snapshots: the machine's time is short
            if first == "points":
                self.run("hana", f"{word('adjust')} @{handle} 30 kept for the leaver", None)
            elif first == "waiting" and handle == "wang":  # above alice's limit: his to decide
                self.run("alice", f"{word('comp')} 300 refund #A1 parcel late", None)
            elif first == "waiting":  # an unhappy customer names them: a case opens
                self.customer_voice("nps", "3", handle, "rude at the till", "CUST9",
                                    100 + self.count)
        with transaction(self.engine) as session:
            person = session.exec(select(Employee).where(Employee.handle == handle)).one()
            held = balance(session, person.id)
        self.send("hana", f"{data.draw(st.sampled_from(verb_words('leaver')))} @{handle} "
                      f"{data.draw(free_text)}".strip())
        if not self.sent[-1][3].ok:
            return
        self.left.add(handle)
        rule_ = self.config.leavers.balance
        with transaction(self.engine) as session:
            gone = session.exec(select(Departure).where(
                Departure.employee_id == person.id)).one()
            assert (gone.rule, gone.balance) == (rule_, held)
            assert balance(session, person.id) == (held if rule_ == "kept" else 0)

    def half_filled_form(self, handle: str) -> None:
        """The person linked on a platform, a form of theirs open there."""
        with transaction(self.engine) as session:
            person = session.exec(select(Employee).where(Employee.handle == handle)).one()
            user = f"9{person.id}"
            if session.exec(select(ChatIdentity).where(
                    ChatIdentity.employee_id == person.id)).first() is None:
                session.add(ChatIdentity(employee_id=person.id, platform="telegram",
                                         platform_user_id=user))
            session.merge(FormState(platform="telegram", conversation=f"{user}:{user}",
                                    form="comp", locale="en", answers={},
                                    expires_at=self.now + timedelta(hours=1)))

    @rule(data=st.data(), handle=st.sampled_from(HANDLES), daily=st.booleans())
    def summary_choice(self, data, handle, daily):
        """Someone chooses the daily summary, or live delivery again."""
        what = data.draw(st.sampled_from(sorted(accepted_words("word.prefs.summary"))))
        value = data.draw(st.sampled_from(sorted(accepted_words(
            "word.prefs.on" if daily else "word.prefs.off"))))
        self.send(handle, f"{data.draw(st.sampled_from(verb_words('prefs')))} {what} {value}")

    @rule(minutes=st.sampled_from([1, 30, 60 * 4, 60 * 24, 60 * 24 * 3, 60 * 24 * 9]))
    def time_passes(self, minutes):
        self.now += timedelta(minutes=minutes)
        with transaction(self.engine) as session:
            run_reminders(session, self.config, self.now)
        catch_up(self.engine, self.config, self.now)

    @invariant()
    def books_agree_and_notifications_render(self):
        if not hasattr(self, "engine"):
            return
        assert_stored_text_clean(self.engine)  # the CSV's rows included
        with transaction(self.engine) as session:
            assert verify(session) == []
            assert not self.left or waiting_on_leavers(session) == []
            fresh = session.execute(text("SELECT id, audience, employee_id, message_key, "
                                         "params FROM outbox WHERE id > :seen ORDER BY id"),
                                    {"seen": self.outbox_seen}).all()
            told = any(row.message_key in (*summary.VOICE, *summary.POSTS) for row in fresh)
            daily = set(session.exec(select(PersonPrefs.employee_id).where(
                PersonPrefs.daily_summary)).all()) if told else set()
            answers = {f"P{n}" for n in session.exec(select(Praise.id).where(
                Praise.source == "submitted")).all()} if daily else set()
        for row in fresh:
            params = row.params if isinstance(row.params, dict) else json.loads(row.params)
            if row.audience == "person" and row.employee_id in daily:  # kept for the summary
                assert row.message_key not in (*summary.VOICE, *summary.POSTS) or (
                    row.message_key == "notify.praise_credited" and params["ref"] in answers
                ), (row.message_key, params)
            for locale in LOCALES:
                message = Message(row.message_key, params)
                assert_in_language(message, locale)
                assert render_message(message, locale).strip()
            self.outbox_seen = row.id


CONFIG = parse_config({
    "organisation": {"timezone": "Asia/Shanghai", "currency": "CNY", "other_currencies": ["USD"]},
    "roles": {"employee": {"per_incident_limit": "200", "daily_budget": "500"},
              "supervisor": {"per_incident_limit": "1000"}, "hr": {"per_incident_limit": "1000"}},
    "catalog": DEMO_CATALOG, "council": {"members": ["LiLei"]}})


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request, tmp_path):
    """A factory of engines, each a new demo organisation on the store."""
    engines = []

    def sqlite():
        path = tmp_path / f"state-{len(engines)}.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        engine = make_engine(f"sqlite:///{path}")
        engines.append(engine)
        return seeded(engine)

    def postgresql():
        engine = request.getfixturevalue("postgres_engine")
        with engine.begin() as connection:
            connection.exec_driver_sql(EMPTY_POSTGRES)
        return seeded(engine)

    yield sqlite if request.param == "sqlite" else postgresql
    for engine in engines:
        engine.dispose()


def seeded(engine):
    with transaction(engine) as session:
        import_csv(session, CONFIG, DEMO_STAFF)
    return engine


@pytest.mark.timeout(300)  # the whole machine is one test: minutes on a busy 2-core box
def test_every_input_in_every_state(fresh):
    machine = type("Run", (Frontline,), {"fresh": staticmethod(fresh), "config": CONFIG})
    machine.TestCase.settings = settings(
        max_examples=25 * SCALE, stateful_step_count=30, deadline=None, derandomize=SCALE == 1,
        phases=list(Phase) if SCALE == 1 else [Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck))
    machine.TestCase("runTest").runTest()



def waiting_on_leavers(session) -> list[str]:
    """What still waits on someone inactive: a request to decide, a case they hold, a
    form open in their chat."""
    gone = session.exec(select(Employee.id).where(Employee.active.is_(False))).all()
    found = []
    for kind in registry.with_approver():
        found += [f"{kind.letter}{record.id}" for record in session.exec(select(kind.model).where(
            kind.model.status == kind.awaiting,
            getattr(kind.model, kind.approver_column).in_(gone))).all()]
    for letter, held in registry.FOLLOWED.items():
        found += [f"{letter}{record.id}" for record in session.exec(select(held.model).where(
            held.model.status == held.open_status,
            getattr(held.model, held.holder_column).in_(gone))).all()]
    for platform, user in session.exec(select(ChatIdentity.platform,
                                              ChatIdentity.platform_user_id).where(
            ChatIdentity.employee_id.in_(gone))).all():
        found += [f"form {form.conversation}" for form in session.exec(select(FormState).where(
            FormState.platform == platform, FormState.conversation.endswith(f":{user}"))).all()]
    return found
