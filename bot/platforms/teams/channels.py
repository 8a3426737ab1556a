"""The outbox through Teams, proactively: a person in their personal chat with the
bot (a card with Approve / Decline when there is a decision to make), each
configured channel as its own outbox channel (praise with a "❤️ Touching" button).

Each post continues a conversation whose reference was stored when Teams told the
bot about it (references.py). A 429 means nothing was posted: its Retry-After is
waited out (up to a cap) and the post tried again; a longer wait, or any other
failure, is raised, and the outbox retries later.
"""

import asyncio
import time
from collections.abc import Callable

from aiohttp import ClientResponseError
from microsoft_agents.activity import Activity, ActivityTypes, ConversationReference
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.fastapi import CloudAdapter
from sqlalchemy import Engine

from bot.kit import Config, Notification, for_shared_chat, remember_post
from bot.platforms.teams import cards, references
from bot.platforms.teams.settings import PLATFORM
from handlers.base import Reply
from storage.errors import FrontlineError

ATTEMPTS = 3


class RateLimited(FrontlineError):
    """Teams asked to wait longer than we wait in place: the outbox retries later."""


def retry_after(error: ClientResponseError) -> float | None:
    try:
        return float((error.headers or {}).get("Retry-After", ""))
    except ValueError:
        return None


class Sender:
    """Posts an activity into a stored conversation through the SDK."""

    def __init__(self, cloud: CloudAdapter, config: Config,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.cloud, self.settings, self.sleep = cloud, config.platforms.teams, sleep

    def post(self, reference: ConversationReference, activity: Activity) -> str:
        """Send it (from the outbox's thread); returns the posted message's id."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return asyncio.run(self._post(reference, activity))
            except ClientResponseError as error:
                wait = retry_after(error) if error.status == 429 else None
                if error.status != 429:
                    raise
                if wait is None or wait > self.settings.retry_after_cap_seconds \
                        or attempt == ATTEMPTS:
                    raise RateLimited(f"Teams answered 429, Retry-After {wait}") from None
                self.sleep(wait)
        raise AssertionError("unreachable")

    async def _post(self, reference: ConversationReference, activity: Activity) -> str:
        outcome: dict = {}

        async def send(turn_context: TurnContext) -> None:
            turn_context.activity.id = None  # a new post, not a reply to the continuation
            try:
                outcome["id"] = (await turn_context.send_activity(activity)).id or ""
            except Exception as error:  # raised below: the SDK would only log it
                outcome["error"] = error

        await self.cloud.continue_conversation(self.settings.app_id,
                                               reference.get_continuation_activity(), send)
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("id", "")


class TeamsChannel:
    """People, in their personal chat with the bot (once they have one)."""

    name = PLATFORM

    def __init__(self, engine: Engine, sender: Sender) -> None:
        self.engine, self.sender = engine, sender

    def wants(self, notification: Notification) -> bool:
        return (notification.recipient is not None and PLATFORM in notification.identities
                and references.of_person(self.engine,
                                         notification.identities[PLATFORM]) is not None)

    def deliver(self, notification: Notification) -> None:
        reference = references.of_person(self.engine, notification.identities[PLATFORM])
        reply = Reply([notification.message], list(notification.actions))
        self.sender.post(reference, cards.reply_activity(reply, notification.recipient.locale))


class TeamsChatChannel:
    """All-staff posts (team None) or one team's posts, in one Teams channel."""

    def __init__(self, engine: Engine, sender: Sender, conversation_id: str,
                 team: str | None) -> None:
        self.engine, self.sender = engine, sender
        self.conversation_id, self.team = conversation_id, team
        self.name = f"{PLATFORM}:{conversation_id}"

    def wants(self, notification: Notification) -> bool:
        return for_shared_chat(notification, self.team)

    def deliver(self, notification: Notification) -> None:
        reference = references.of_conversation(self.engine, self.conversation_id)
        if reference is None:
            raise FrontlineError(f"the bot has not been added to {self.conversation_id} yet")
        text = notification.shared()
        ref = notification.message.params.get("ref")
        if notification.message.key == "broadcast.praise" and ref:
            content = cards.card([cards.text_block(text)], [cards.execute(
                notification.shared_label("action.touching"), {"command": f"touching {ref}"})])
            activity = Activity(type=ActivityTypes.message,
                                attachments=[cards.attachment(content)])
        else:
            activity = Activity(type=ActivityTypes.message, text=text)
        posted = self.sender.post(reference, activity)
        if ref and posted:
            remember_post(self.engine, PLATFORM, self.conversation_id, posted, ref)


def channels(engine: Engine, cloud: CloudAdapter, config: Config) -> list:
    settings = config.platforms.teams
    sender = Sender(cloud, config)
    found: list = [TeamsChannel(engine, sender)]
    if settings.all_staff_channel:
        found.append(TeamsChatChannel(engine, sender, settings.all_staff_channel, None))
    for team, conversation_id in settings.team_channels.items():
        found.append(TeamsChatChannel(engine, sender, conversation_id, team))
    return found
