"""`history <ref>` on a record of every kind, in every state it can be in: each answers
with what is known, in every language, on both stores (an optional column a state
leaves empty, like an unreported waiver's `reported_at`, never breaks it)."""

from collections.abc import Callable
from datetime import timedelta

import pytest

from handlers.dispatch import execute
from handlers.i18n import render_reply
from handlers.praise import receive
from handlers.redemptions import SettleRedemption
from rituals.reminders import run_reminders
from storage.engine import transaction
from tests.support import credit, employee

Step = tuple[str, str] | Callable  # (handle, chat line), or a function of the chat


def settle(outcome: str) -> Callable:
    """HR settles R1 from the console's queue (approved stays open for fulfilment)."""
    def run(chat) -> None:
        reply, _ = execute(chat.engine, chat.config, "console", "hana",
                           SettleRedemption(1, outcome, "noted"), now=chat.now)
        assert reply.ok, render_reply(reply, "en")
    return run


def redeemed(chat) -> None:
    credit(chat.engine, "alice", 500, "seed:alice")
    chat.ok("alice", "redeem coffee")


def from_a_survey_tool(chat) -> None:
    with transaction(chat.engine) as session:
        receive(session, chat.config, chat.now, employee(chat.engine, "alice"),
                "lovely service", "", "webhook")


def reminded(chat) -> None:
    """Days later: the reminders and escalations have run on whatever waits."""
    with transaction(chat.engine) as session:
        run_reminders(session, chat.config, chat.now + timedelta(days=4))


COMP_PENDING = ("alice", "comp 350 refund #B9 broken vase")
WAIVER = ("alice", "waiver dress code")
WAIVER_REPORTED = ("alice", "waiver report W1 wore trainers / flooded street")
PRAISE_SUBMITTED = ("alice", "praise the customer thanked me")
SUGGESTED = ("alice", "suggest a second till at lunch")
SOLVED = ("alice", "solved the queue at the door")

STATES: dict[str, tuple[str, list[Step]]] = {
    "compensation self-authorised": ("C1", [("alice", "comp 100 refund #B9 broken vase")]),
    "compensation pending": ("C1", [COMP_PENDING]),
    "compensation pending, escalated": ("C1", [COMP_PENDING, reminded]),
    "compensation approved": ("C1", [COMP_PENDING, ("wang", "approve C1")]),
    "compensation declined": ("C1", [COMP_PENDING, ("wang", "decline C1 no receipt")]),
    "waiver open": ("W1", [WAIVER]),
    "waiver open, overdue": ("W1", [WAIVER, reminded]),
    "waiver reported": ("W1", [WAIVER, WAIVER_REPORTED]),
    "waiver reported, escalated": ("W1", [WAIVER, WAIVER_REPORTED, reminded]),
    "waiver ratified": ("W1", [WAIVER, WAIVER_REPORTED, ("wang", "approve W1")]),
    "waiver rejected": ("W1", [WAIVER, WAIVER_REPORTED, ("wang", "decline W1 spare shoes")]),
    "praise submitted": ("P1", [PRAISE_SUBMITTED]),
    "praise credited": ("P1", [PRAISE_SUBMITTED, ("wang", "approve P1")]),
    "praise declined": ("P1", [PRAISE_SUBMITTED, ("wang", "decline P1 not a customer")]),
    "praise logged by the supervisor": ("P1", [("wang", "praise @alice calm with a crowd")]),
    "praise from a survey tool": ("P1", [from_a_survey_tool]),
    "suggestion pending": ("S1", [SUGGESTED]),
    "suggestion accepted": ("S1", [SUGGESTED, ("wang", "approve S1 good one")]),
    "suggestion declined": ("S1", [SUGGESTED, ("wang", "decline S1 done already")]),
    "major issue pending": ("M1", [SOLVED]),
    "major issue claimed by a colleague": ("M1", [("bob", "solved @alice the broken lift")]),
    "major issue claimed by the supervisor": ("M1", [("wang", "solved @alice the broken lift")]),
    "major issue confirmed": ("M1", [SOLVED, ("wang", "approve M1 well done")]),
    "major issue declined": ("M1", [SOLVED, ("wang", "decline M1 still broken")]),
    "redemption pending": ("R1", [redeemed]),
    "redemption approved": ("R1", [redeemed, settle("approved")]),
    "redemption fulfilled": ("R1", [redeemed, ("hana", "approve R1 enjoy")]),
    "redemption rejected": ("R1", [redeemed, ("hana", "decline R1 out of stock")]),
    "redemption cancelled": ("R1", [redeemed, ("alice", "cancel R1")]),
}


@pytest.mark.parametrize("state", STATES)
def test_history_of_every_kind_in_every_state(chat, state):
    ref, steps = STATES[state]
    for step in steps:
        if callable(step):
            step(chat)
        else:
            chat.ok(*step)
    for handle in ("alice", "hana"):  # the requester, and HR who sees everything
        reply = chat.ok(handle, f"history {ref}")
        for locale in ("en", "zh", "zh-Hant"):
            text = render_reply(reply, locale)
            assert text.startswith(ref) and "Alice Chen" in text, text
            assert "{" not in text, text  # every parameter the messages name was given


def test_an_unreported_waiver_says_so(chat):
    chat.ok("alice", "waiver dress code")
    reply = chat.ok("alice", "history W1")
    assert reply.messages[0].key == "history.header_not_reported"
    assert render_reply(reply, "en") == "W1 — Alice Chen, not reported yet:"
    assert "尚未報告" in render_reply(reply, "zh-Hant")
    chat.ok("alice", "waiver report W1 wore trainers / flooded street")
    assert chat.ok("alice", "history W1").messages[0].key == "history.header"
