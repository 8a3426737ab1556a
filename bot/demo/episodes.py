"""The demo's scripted moments, placed by their share of the history: a request
declined, one asked about, major issues solved, the experience council fixing
Riverside's order system, redemptions, an unhappy customer won back, and the last hours
before now, whose requests and recovery cases still wait (young enough that no reminder
is due yet)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bot.demo.cast import HARBOUR, RIVERSIDE
from bot.demo.story import ABOVE, WITHIN, amount
from bot.demo.timeline import Timeline, Voice
from handlers.calendar import local_midnight
from handlers.policy import Policy

IT_FIX = 0.5  # Riverside's order system is fixed half-way through the history


def it_fixed(line: Timeline) -> date:
    return line.share(IT_FIX)


def requests(line: Timeline, limit: Decimal) -> None:
    """Above the limit: one declined, one asked about before it was approved."""
    at = line.at(line.share(0.3))
    line.chain((at, "bob", f"comp {amount(limit, ABOVE[-1] * 2)} refund #B204 full refund "
                           "of a blender used for months"),
               (line.later(at, 3), "wang", "decline {ref} used for months: offer a repair "
                                            "voucher instead"))
    at = line.at(line.share(0.6))
    line.chain((at, "sara", f"comp {amount(limit, ABOVE[1])} voucher #B311 third failed "
                            "delivery of the same sofa"),
               (line.later(at, 1), "zhao", "ask {ref} which order was it?"),
               (line.later(at, 2), "sara", "answer {ref} order 7788, booked in March"),
               (line.later(at, 3), "zhao", "approve {ref} thanks, go ahead"))


def improvements(line: Timeline) -> None:
    line.say(line.at(line.share(0.2)), "wang", "solved @tom fixed the queue display at the tills")
    at = line.at(line.share(0.7))
    line.chain((at, "liu", "solved reorganised the stockroom so online orders are packed "
                           "in half the time"),
               (line.later(at, 20), "zhao", "approve {ref}"))


def council(line: Timeline) -> None:
    """HR opens an item on Riverside's order system; the other HR member approves it,
    Riverside's supervisor fixes it, and HR validates the fix a month later."""
    opened = line.at(line.share(IT_FIX - 0.15))
    due = opened.astimezone(line.tz).date() + timedelta(days=28)
    line.chain((opened, "hana", f"council open it-systems @zhao {RIVERSIDE.name}"),
               (line.later(opened, 20), "mei", "council approve {ref}"),
               (line.later(opened, 44), "zhao", f"council start {{ref}} {due}"),
               (line.clock(it_fixed(line), 11), "zhao", "council done {ref} new order "
                                                       "system with an offline mode"),
               (line.at(line.share(IT_FIX + 0.3)), "hana", "council validate {ref}"))
    opened = line.at(line.share(0.9))
    line.chain((opened, "hana", f"council open staffing @wang {HARBOUR.name}"),
               (line.later(opened, 26), "mei", "council approve {ref}"))


def redemptions(line: Timeline, cheapest: str | None) -> None:
    if cheapest is None:
        return
    at = line.at(line.share(0.8), 12)
    line.say(at - timedelta(hours=3), "wang", "praise @alice Kept the shop open ten minutes "
                                              "late for my father's medicine")
    line.chain((at, "alice", f"redeem {cheapest}"), (line.later(at, 22), "hana", "approve {ref}"))


def recent(line: Timeline, limit: Decimal, cheapest: str | None) -> None:
    """The hours before now, within this month, so every page's current month shows
    something: goodwill near the limit again and again, one customer compensated by
    three people, and requests still waiting."""
    month_start = local_midnight(line.today.replace(day=1), line.tz)
    end = line.last.astimezone(line.tz)
    if not 9 <= end.hour < 21:  # at night: the working day that ended last, if this month's
        evening = end.replace(hour=21, minute=0) - timedelta(days=end.hour < 9)
        end = evening if evening >= month_start else end
    span = min(end - month_start, timedelta(hours=12))

    def ago(share: float) -> datetime:
        return (end - span * share).astimezone(UTC)

    for share, part in ((0.95, "0.92"), (0.7, "0.95"), (0.45, "0.97")):
        line.say(ago(share), "bob", f"comp {amount(limit, Decimal(part))}"
                                    f" voucher #A{int(share * 9000)} parcel lost by the courier")
    for share, who in ((0.9, "alice"), (0.6, "lilei"), (0.35, "tom")):
        line.say(ago(share), who, f"comp {amount(limit, WITHIN[2])} gift #A7788 "
                                  "birthday cake order mixed up again")
    line.say(ago(0.85), "wang", "praise @alice Sorted out my order in two minutes, lovely!")
    line.say(ago(0.8), "zhao", "praise @sara 解釋得很清楚，非常有耐心。")
    line.say(ago(0.75), "wang", "praise @bob Found the last one in the back for me")
    line.say(ago(0.5), "emma", "waiver no refunds without receipt")
    line.chain((ago(0.4), "liu", "waiver one discount per order"),
               (ago(0.3), "liu", "waiver report {ref} stacked two discounts / we had "
                                 "advertised both"))
    line.say(ago(0.25), "kevin", "praise A customer wrote to thank me for the fast repair")
    line.say(ago(0.2), "tom", "suggest a water dispenser for customers who wait")
    line.say(ago(0.1), "lilei", f"comp {amount(limit, ABOVE[1])} refund #B512 wedding order "
                                "delivered to the wrong address")
    line.say(ago(0.05), "chen", "waiver staff only in the stockroom")
    if cheapest is not None:
        line.say(ago(0.15), "bob", f"redeem {cheapest}")
    line.events.append(Voice(ago(0.02), tuple(
        {"kind": "nps", "team": store.name, "employee": who, "score": str(score), "text": text,
         "source": "survey", "source_id": f"demo-recent-{n}",
         "received_at": ago(0.9 - n * 0.1).isoformat()}
        for n, (store, who, score, text) in enumerate((
            (HARBOUR, "alice", 10, "Lovely service"), (HARBOUR, "bob", 9, ""),
            (HARBOUR, "chen", 6, "Waited too long in the queue"),
            (RIVERSIDE, "sara", 10, "Sara was wonderful"), (RIVERSIDE, "kevin", 8, ""),
            (RIVERSIDE, "", 3, "Nobody knew if it was in stock")))),
        recovery=True))  # its two detractors open the cases still open


def recovery(line: Timeline, limit: Decimal) -> None:
    """A complaint naming Emma opens a case: she calls the customer back within the
    hour, gives a voucher under the case and closes it recovered; the customer's next
    score is credited to it. (No random draws: the rest of the history stays as it was.)"""
    day, case = line.share(0.75), "{demo-case-1}"
    voice = {"team": RIVERSIDE.name, "employee": "emma", "customer_ref": "A5120",
             "touchpoint": "delivery desk", "source": "survey"}
    line.events.append(Voice(line.clock(day, 14), ({
        **voice, "kind": "complaint", "source_id": "demo-case-1",
        "text": "Waited 40 minutes for a delivery slot, nobody answered on 139 8765 4321",
        "received_at": line.clock(day, 11).isoformat()},), recovery=True))
    line.say(line.clock(day, 15), "emma", f"recover {case} reached apologised and booked "
                                          "a slot for tomorrow morning")
    line.say(line.clock(day, 15, 10), "emma",
             f"comp {amount(limit, WITHIN[1])} voucher #{case} sorry for the wait")
    line.say(line.clock(day + timedelta(days=1), 12), "emma",
             f"recover {case} close recovered delivered on time, she thanked us")
    later = day + timedelta(days=4)
    if line.clock(later, 23) <= line.last:
        line.events.append(Voice(line.clock(later, 23), ({
            **voice, "kind": "nps", "score": "9", "source_id": "demo-case-1-again",
            "text": "Second delivery was perfect",
            "received_at": line.clock(later, 18).isoformat()},), recovery=True))


def scripted(line: Timeline, config: Policy) -> None:
    limit = config.authority("employee").per_incident_limit
    cheapest = min(config.catalog, key=lambda item: item.cost).key if config.catalog else None
    requests(line, limit)
    improvements(line)
    council(line)
    redemptions(line, cheapest)
    recent(line, limit, cheapest)
    recovery(line, limit)
