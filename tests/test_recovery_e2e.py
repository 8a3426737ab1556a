"""The recovery loop end to end through Telegram's local fake, on both stores: a
detractor pushed to the signed /api/feedback (Standard Webhooks, as a survey tool's
stock library signs it) naming alice opens one case, however often it is delivered; the
card reaches her through the Bot API with its buttons, and pressing "Reached" records
the call-back; her later praise through the same endpoint is credited to the case."""

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bot.app import praise_api
from bot.app.web import create_app
from handlers.base import Message
from handlers.i18n import render_message
from storage.enums import RecoveryStatus
from storage.models import RecoveryCase, RequestEvent
from tests.http_servers import serve
from tests.platforms.telegram import USERS, TelegramDriver, driver
from tests.support import rows, wait_until
from tests.test_feedback import WHSEC, push

DETRACTOR = {"kind": "nps", "score": 2, "team": "Harbour Street Store", "employee": "alice",
             "text": "Nobody called me back, ring 138 1234 5678", "customer_ref": "CUST9",
             "touchpoint": "phone", "source": "surveyhub", "source_id": "r-9"}


@contextmanager
def wired(org) -> Iterator[tuple[TelegramDriver, str]]:
    """The bot on Telegram's fake, and the feedback endpoint under the same settings."""
    with driver(org) as chat:
        router = praise_api.router(org, chat.tg.adapter.config, None, feedback_secret=WHSEC)
        with serve(create_app([router])) as api:
            yield chat, api


def card_to(chat: TelegramDriver, handle: str, ref: str) -> dict:
    return next(m for m in chat.fake.sent("sendMessage")
                if int(m["chat_id"]) == USERS[handle] and f"recover {ref}" in
                json.dumps(m.get("reply_markup")))


@pytest.mark.http
def test_a_pushed_detractor_reaches_alice_on_telegram_and_her_call_back_is_recorded(org):
    with wired(org) as (chat, api):
        first = push(api, DETRACTOR, message_id="msg_r9")
        assert first.status_code == 201, first.text
        assert push(api, DETRACTOR, message_id="msg_r9").json()["duplicate"] is True
        assert push(api, DETRACTOR, message_id="msg_r9b").json()["duplicate"] is True
        [case] = rows(org, RecoveryCase)
        assert (case.customer_ref, case.status) == ("CUST9", RecoveryStatus.OPEN)

        chat.dispatch_all()
        card = card_to(chat, "alice", "K1")
        assert "K1" in card["text"] and "NPS 2" in card["text"]
        assert "*** **** **78" in card["text"] and "138 1234" not in card["text"]
        buttons = [b for row in card["reply_markup"]["inline_keyboard"] for b in row]
        assert [b["text"] for b in buttons] == ["📞 Reached", "Could not reach", "The case"]
        assert card_to(chat, "wang", "K1")  # her supervisor sees it too, with the buttons

        before = len(chat.answers("alice"))
        chat.press("alice", "recover K1 reached")
        chat.ran()
        assert "K1" in chat.answered("alice", before)
        [case] = rows(org, RecoveryCase)
        assert case.called_back_at is not None
        assert [e.event for e in rows(org, RequestEvent, ref="K1")] == [
            "case_opened", "case_reached"]

        praise = {"kind": "praise", "employee": "alice", "text": "She rang me back, thanks",
                  "customer_ref": "CUST9", "source": "surveyhub", "source_id": "p-9"}
        assert push(api, praise, message_id="msg_p9").status_code == 201
        assert push(api, praise, message_id="msg_p9").json()["duplicate"] is True
        chat.dispatch_all()
        assert [e.event for e in rows(org, RequestEvent, ref="K1")][-1] == "case_yield"
        assert len(rows(org, RequestEvent, event="case_yield")) == 1
        came_back = render_message(Message("notify.recovery_yield", {
            "ref": "K1", "customer": "CUST9", "detail": "P1 “She rang me back, thanks”"}), "en")
        wait_until(lambda: came_back in chat.answers("alice"), "alice told the customer's back")
