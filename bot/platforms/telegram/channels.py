"""The outbox through the Telegram bot: a person in their private chat with the bot
(buttons when there is a decision to make), every shared chat as its own channel,
so a broadcast that reached one group and failed in another is retried only where
it failed. Sending goes through the application's rate limiter, which keeps to
Telegram's limits and waits out a RetryAfter."""

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden

from bot.kit import Notification, for_shared_chat, remember_post, shared_state
from bot.platforms.telegram import limits
from bot.platforms.telegram.adapter import TelegramAdapter, chunks, keyboard
from bot.platforms.telegram.reach import tell_hr
from bot.platforms.telegram.settings import PLATFORM
from handlers.i18n import render_message
from storage.engine import transaction
from storage.errors import FrontlineError
from storage.models import Recording

SEND_TIMEOUT = 120  # seconds; the rate limiter may hold a message back this long
GROUP_LIMIT, GROUP_WINDOW = limits.GROUP_PER_MINUTE, limits.GROUP_WINDOW  # in one group


class GroupBudgetSpent(FrontlineError):
    """Not sent: the group's budget, shared by every worker, is spent for now; the
    outbox tries again later."""


class _Sender:
    def __init__(self, adapter: TelegramAdapter) -> None:
        self.adapter = adapter
        self.bot = adapter.application.bot

    def _run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """The outbox runs in a worker thread; the bot lives on the web app's loop."""
        if self.adapter.loop is None:
            coroutine.close()
            raise RuntimeError("the Telegram bot is not started")
        return asyncio.run_coroutine_threadsafe(coroutine, self.adapter.loop).result(
            SEND_TIMEOUT)

    async def _send(self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None):
        parts = chunks(text)
        sent = None
        for n, part in enumerate(parts):
            sent = await self.bot.send_message(
                chat_id, part, reply_markup=markup if n == len(parts) - 1 else None)
        return sent

    async def _send_recording(self, chat_id: int, recording_id: int, reply_to: int) -> None:
        recording = await asyncio.to_thread(self._recording, recording_id)
        if recording is None:
            return
        data, content_type = recording
        if content_type == "audio/ogg":
            await self.bot.send_voice(chat_id, data, reply_to_message_id=reply_to)
        else:
            await self.bot.send_audio(chat_id, data, reply_to_message_id=reply_to)

    def _recording(self, recording_id: int) -> tuple[bytes, str] | None:
        with transaction(self.adapter.engine) as session:
            row = session.get(Recording, recording_id)
            return (row.data, row.content_type) if row else None


class TelegramChannel(_Sender):
    """People, in their private chat with the bot (their user id is that chat's id)."""

    name = PLATFORM

    def wants(self, notification: Notification) -> bool:
        return notification.recipient is not None and PLATFORM in notification.identities

    def deliver(self, notification: Notification) -> None:
        locale = notification.recipient.locale
        text = render_message(notification.message, locale)
        chat_id = int(notification.identities[PLATFORM])
        try:
            self._run(self._send(chat_id, text, keyboard(list(notification.actions), locale)))
        except Forbidden as refused:
            # They never pressed Start (or blocked the bot): no retry reaches them
            # until they act, so HR is told who must press Start, and this one is
            # done. (Their requests still wait in `pending` and its reminders.)
            tell_hr(self.adapter.engine, notification.recipient,
                    self.adapter.application.bot.username or "", refused.message)


class TelegramChatChannel(_Sender):
    """One shared chat: all-staff posts, or one team's posts."""

    def __init__(self, adapter: TelegramAdapter, chat_id: int, team: str | None) -> None:
        super().__init__(adapter)
        self.chat_id, self.team = chat_id, team
        self.name = f"{PLATFORM}:{chat_id}"

    def wants(self, notification: Notification) -> bool:
        return for_shared_chat(notification, self.team)

    def deliver(self, notification: Notification) -> None:
        # Each worker's rate limiter knows only its own sends: the group's minute is
        # counted in the database. A recording is a second message.
        cost = 2 if notification.message.params.get("recording_id") else 1
        if not shared_state.spend(self.adapter.engine, f"{PLATFORM}:chat:{self.chat_id}",
                                  GROUP_LIMIT, GROUP_WINDOW, time.time(), cost):
            raise GroupBudgetSpent(f"{GROUP_LIMIT} messages a minute in this group")
        self._run(self._post(notification))

    async def _post(self, notification: Notification) -> None:
        params = notification.message.params
        markup = None
        if notification.message.key == "broadcast.praise":
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(
                notification.shared_label("action.touching"),
                callback_data=f"touching {params['ref']}")]])
        sent = await self._send(self.chat_id, notification.shared(), markup)
        if params.get("ref"):
            await asyncio.to_thread(remember_post, self.adapter.engine, PLATFORM,
                                    str(self.chat_id), str(sent.message_id), params["ref"])
        if params.get("recording_id"):
            await self._send_recording(self.chat_id, params["recording_id"], sent.message_id)


def channels(adapter: TelegramAdapter) -> list[_Sender]:
    settings = adapter.settings
    chats: list[_Sender] = [TelegramChannel(adapter)]
    chats += [TelegramChatChannel(adapter, chat, None) for chat in settings.all_staff_chats]
    chats += [TelegramChatChannel(adapter, chat, team)
              for team, ids in settings.team_chats.items() for chat in ids]
    return chats
