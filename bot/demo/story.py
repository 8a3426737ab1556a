"""Everyday life in the demo's stores, day by day: goodwill (within authority or
approved), waivers reported and ratified, praise, suggestions, customers' responses,
pulse answers and Golden Ear nominations and votes."""

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from bot.demo import lines
from bot.demo.cast import EVERYONE, HARBOUR, STORE_TZ, STORES, Store
from bot.demo.timeline import Timeline, Voice
from handlers.calendar import local_midnight
from handlers.policy import Policy
from rituals.schedule import RITUALS, fire_times

CENTS = Decimal("0.01")
WITHIN = (Decimal("0.1"), Decimal("0.15"), Decimal("0.25"), Decimal("0.4"),
          Decimal("0.442"), Decimal("0.6"), Decimal("0.75"))
ABOVE = (Decimal("1.3"), Decimal("1.5"), Decimal("1.75"), Decimal("2.4"))


def amount(limit: Decimal, share: Decimal) -> str:
    return str((limit * share).quantize(CENTS))


def goodwill(line: Timeline, store: Store, day: date, limit: Decimal) -> None:
    """Goodwill a person gave: mostly within their authority; above it, their
    supervisor approves it within hours."""
    who, at = line.rng.choice(store.staff), line.at(day)
    customer = f"#A{line.rng.randrange(1000, 9999)}"
    if line.chance(0.8):
        kind, reason = line.rng.choice(lines.GOODWILL)
        share = line.rng.choice(WITHIN)
    else:
        kind, reason = line.rng.choice(lines.ABOVE_LIMIT)
        share = line.rng.choice(ABOVE)
    note = line.rng.choice(("", "", "fine", "good call"))
    line.chain((at, who, f"comp {amount(limit, share)} {kind} {customer} {reason}"),
               (line.later(at, line.rng.uniform(0.5, 5)), store.supervisor,
                f"approve {{ref}} {note}".strip()))


def waiver(line: Timeline, store: Store, day: date, rule: tuple[str, str, str]) -> None:
    """A rule broken for a customer, reported within hours, ratified the next day."""
    who, at = line.rng.choice(store.staff), line.at(day, 9, 18)
    broken, instead, why = rule
    reported = line.later(at, line.rng.uniform(0.5, 6))
    line.chain((at, who, f"waiver {broken}"),
               (reported, who, f"waiver report {{ref}} {instead} / {why}"),
               (line.later(reported, line.rng.uniform(12, 20)), store.supervisor,
                "approve {ref} ok, right call"))


def praise(line: Timeline, store: Store, day: date) -> None:
    """A customer's praise: logged by the supervisor, or submitted by its receiver and
    confirmed; colleagues sometimes mark it touching."""
    who, at, text = line.rng.choice(store.staff), line.at(day), line.rng.choice(lines.PRAISE)
    colleague = line.rng.choice([p for p in store.staff if p != who])
    touched = (line.later(at, line.rng.uniform(20, 30)), colleague, "touching {ref}")
    if line.chance(0.65):
        steps = [(at, store.supervisor, f"praise @{who} {text}")]
    else:
        steps = [(at, who, f"praise {text}"),
                 (line.later(at, line.rng.uniform(1, 18)), store.supervisor, "approve {ref}")]
    line.chain(*steps, *([touched] if line.chance(0.3) else []))


def suggestion(line: Timeline, store: Store, day: date) -> None:
    who, at = line.rng.choice(store.staff), line.at(day)
    verdict = "approve {ref}" if line.chance(0.8) else \
        f"decline {{ref}} {lines.DECLINE_SUGGESTION}"
    line.chain((at, who, f"suggest {line.rng.choice(lines.SUGGESTIONS)}"),
               (line.later(at, line.rng.uniform(4, 48)), store.supervisor, verdict))


def responses(line: Timeline, store: Store, day: date, it_broken: bool) -> Iterator[dict]:
    """A day's customer responses to a store: NPS, CSAT, CES and complaints, most
    naming the person who served."""
    detractors = store.detractors + (0.08 if it_broken else 0)
    for _ in range(line.rng.choice((1, 2, 2, 3))):
        kind = line.rng.choices(("nps", "csat", "ces", "complaint"), (55, 25, 10, 10))[0]
        feel = line.rng.random()
        happy = feel < store.promoters
        unhappy = kind == "complaint" or feel > 1 - detractors
        score = {"nps": 10 - line.rng.randrange(2) if happy else line.rng.randrange(7)
                 if unhappy else line.rng.choice((7, 8)),
                 "csat": 5 if happy else line.rng.choice((1, 2)) if unhappy else 4,
                 "ces": 1 if happy else line.rng.choice((6, 7)) if unhappy else 3}.get(kind)
        mood = "complaint" if kind == "complaint" else "unhappy" if unhappy else "happy"
        text = line.rng.choice(lines.IT_VOICES if unhappy and it_broken and line.chance(0.5)
                               else lines.CUSTOMERS[mood])
        yield {"kind": kind, "team": store.name, "score": "" if score is None else str(score),
               "employee": line.rng.choice(store.staff) if line.chance(0.65) else "",
               "text": text, "customer_ref": f"A{line.rng.randrange(1000, 9999)}",
               "touchpoint": line.rng.choice(lines.TOUCHPOINTS), "source": "survey",
               "received_at": line.at(day, 10, 22).isoformat()}


def pulse_answers(line: Timeline, config: Policy, store_of: dict[str, Store],
                  it_fixed: date) -> None:
    """Each team's pulse (asked by its ritual) answered by most of its people within
    the days it is open; Riverside's staff feel better once the order system is fixed."""
    settings = config.rituals.pulse
    start = local_midnight(line.first_day, STORE_TZ)
    for fired in fire_times(RITUALS["pulse"].trigger(config, STORE_TZ), start, line.now):
        for person, store in store_of.items():
            if not line.chance(0.8):
                continue
            glad = store is HARBOUR or fired.date() >= it_fixed
            score = line.rng.choice((10, 9, 9, 8, 8, 7, 6) if glad else (9, 8, 7, 6, 5, 4, 3))
            comment = line.rng.choice(lines.PULSE + (() if glad else lines.IT_PULSE))
            hours = line.rng.uniform(1, settings.open_days * 24 - 2)
            line.say(fired + timedelta(hours=hours), person, f"pulse {score} {comment}".strip())


def golden_ear(line: Timeline, month: date) -> None:
    """A month's nominations (days 2-18) and votes (days 19-27), within the history;
    its ritual closes it."""
    nominees: list[str] = []
    for _ in range(line.rng.randrange(3, 6)):
        by, nominee = line.rng.sample(EVERYONE, 2)
        day = month.replace(day=line.rng.randrange(2, 19))
        if nominee in nominees or day < line.first_day:
            continue
        nominees.append(nominee)
        line.say(line.at(day), by, f"nominate @{nominee} {line.rng.choice(lines.NOMINATION)}")
    for voter in EVERYONE:
        choices = [n for n in nominees if n != voter]
        if choices and line.chance(0.7):
            line.say(line.at(month.replace(day=line.rng.randrange(19, 28))), voter,
                     f"vote @{line.rng.choice(choices)}")


def everyday(line: Timeline, config: Policy, it_fixed: date) -> None:
    limit = config.authority("employee").per_incident_limit
    customers: list[dict] = []
    days = line.history_days()
    for day in days:
        for store in STORES:
            it_broken = store is not HARBOUR and day < it_fixed
            if line.chance(0.55):
                goodwill(line, store, day, limit)
            if line.chance(0.12):
                rule = lines.IT_RULE if it_broken and line.chance(0.5) else \
                    line.rng.choice(lines.RULES[:1] + lines.RULES[2:])
                waiver(line, store, day, rule)
            if line.chance(0.3):
                praise(line, store, day)
            if line.chance(0.06):
                suggestion(line, store, day)
            customers += ({**row, "source_id": f"demo-{day}-{store.supervisor}-{n}"}
                          for n, row in enumerate(responses(line, store, day, it_broken)))
        if day.weekday() == 6 or day == days[-1]:  # the weekly export
            line.events.append(Voice(line.clock(day, 23), tuple(customers)))
            customers = []
    store_of = {person: store for store in STORES
                for person in (store.supervisor, *store.staff)}
    pulse_answers(line, config, store_of, it_fixed)
    for month in sorted({day.replace(day=1) for day in (*days, line.today)}):
        golden_ear(line, month)
