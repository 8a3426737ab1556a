"""The outbox through Teams, proactively: a person in their personal chat with the
bot (a card with Approve / Decline when there is a decision to make), each
configured channel as its own outbox channel (praise with a "❤️ Touching" button).

Each post continues a conversation whose reference was stored when Teams told the
bot about it (references.py). Someone who never wrote to the bot gets a personal
chat created from the tenant and their Entra object id (createConversation), which
Teams allows once the app is installed for them (by an admin's app setup policy, say);
where it is not, HR is told who cannot be reached and why, instead of silence. A
configured channel the bot was not told of is posted to through its team's reference.
A 429 means nothing was posted: its Retry-After is waited out (up to a cap) and the
post tried again; a longer wait, or any other failure, is raised, and the outbox
retries later.
"""

import asyncio
import logging
import time
from collections.abc import Callable

from aiohttp import ClientResponseError
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.fastapi import CloudAdapter
from sqlalchemy import Engine

from bot.kit import Config, Notification, for_shared_chat, remember_post
from bot.platforms.teams import cards, references
from bot.platforms.teams.settings import PLATFORM
from handlers.base import Message, Reply
from handlers.i18n import render_message
from storage.errors import FrontlineError

ATTEMPTS = 3
GONE = (403, 404)  # the conversation is not the bot's (any more), or the app not installed
log = logging.getLogger(__name__)


class RateLimited(FrontlineError):
    """Teams asked to wait longer than we wait in place: the outbox retries later."""


class Unreachable(FrontlineError):
    """Teams will not let the bot write to this person: `reason` is the message key of
    why, for whoever is told."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
        return self._retried(lambda: self._post(reference, activity))

    def personal(self, engine: Engine, aad_object_id: str) -> ConversationReference:
        """Create the person's personal chat with the bot (createConversation, from the
        tenant and their Entra object id) and store its reference. Teams refuses it
        unless the app is installed for them.
        https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/send-proactive-messages#create-the-conversation"""
        where = references.service_url(engine)
        if where is None:  # Teams has not told the bot where this tenant is served yet
            raise Unreachable("teams.unreachable.no_service")
        url, tenant = where
        tenant = self.settings.tenant_id or tenant
        try:
            reference = self._retried(lambda: self._create(url, tenant, aad_object_id))
        except ClientResponseError as error:
            if error.status in GONE:
                raise Unreachable("teams.unreachable.not_installed") from None
            raise
        references.keep_personal(engine, aad_object_id, reference)
        return reference

    async def _create(self, service_url: str, tenant: str,
                      aad_object_id: str) -> ConversationReference:
        app_id = self.settings.app_id
        parameters = ConversationParameters(
            is_group=False, agent=ChannelAccount(id=f"28:{app_id}"), tenant_id=tenant,
            members=[ChannelAccount(id=aad_object_id, aad_object_id=aad_object_id)],
            channel_data={"tenant": {"id": tenant}})
        created: dict = {}

        async def keep(turn_context: TurnContext) -> None:
            created["reference"] = turn_context.activity.get_conversation_reference()

        audience = self.cloud.create_claims_identity(app_id).get_token_audience()
        await self.cloud.create_conversation(app_id, "msteams", service_url, audience,
                                             parameters, keep)
        reference = created["reference"]
        reference.activity_id = None
        reference.user = reference.user or ChannelAccount(id=aad_object_id,
                                                          aad_object_id=aad_object_id)
        reference.agent = reference.agent or parameters.agent
        reference.conversation = reference.conversation.model_copy(
            update={"conversation_type": "personal", "tenant_id": tenant})
        return reference

    def _retried(self, attempt_once: Callable):
        """Runs `attempt_once()` (a coroutine) here; a 429 is waited out in place when
        its Retry-After is short, then tried again."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return asyncio.run(attempt_once())
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
    """People, in their personal chat with the bot: the one stored, or one created."""

    name = PLATFORM

    def __init__(self, engine: Engine, sender: Sender) -> None:
        self.engine, self.sender = engine, sender

    def wants(self, notification: Notification) -> bool:
        return notification.recipient is not None and PLATFORM in notification.identities

    def deliver(self, notification: Notification) -> None:
        aad = notification.identities[PLATFORM]
        reply = Reply([notification.message], list(notification.actions))
        try:
            self.write(aad, cards.reply_activities(reply, notification.recipient.locale))
        except Unreachable as why:
            self.tell_hr(notification.recipient.name, aad, why.reason)

    def write(self, aad: str, activities: list[Activity]) -> None:
        """Post into the person's personal chat, creating it if there is none (or the one
        stored is gone: the app was removed and installed again)."""
        reference = references.of_person(self.engine, aad)
        if reference is None:
            reference = self.sender.personal(self.engine, aad)
        for index, activity in enumerate(activities):
            try:
                self.sender.post(reference, activity)
            except ClientResponseError as error:
                if error.status not in GONE or index:
                    raise
                references.forget(self.engine, reference.conversation.id)
                reference = self.sender.personal(self.engine, aad)
                self.sender.post(reference, activity)

    def tell_hr(self, name: str, aad: str, reason: str) -> None:
        """Someone Teams will not let the bot reach: HR is told who and why (and what
        fixes it), instead of the message vanishing. With nobody to tell, it is raised
        and the outbox tries again later."""
        told = 0
        for hr, locale, _hr_name in references.hr_on_teams(self.engine, but=aad):
            text = render_message(Message(reason, {"name": name}), locale)
            try:
                self.write(hr, [cards.plain_text(text)])
            except Unreachable:
                continue
            told += 1
        log.warning("Teams: %s (%s) cannot be reached: %s; %d told", name, aad, reason, told)
        if not told:
            raise FrontlineError(f"{name} cannot be reached on Teams ({reason}), "
                                 "and no HR person could be told")


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
        reference = references.of_channel(self.engine, self.conversation_id)
        if reference is None:
            raise FrontlineError(f"the bot has not been added to a team yet "
                                 f"({self.conversation_id})")
        text = notification.shared()
        ref = notification.message.params.get("ref")
        if notification.message.key == "broadcast.praise" and ref:
            content = cards.card([cards.text_block(text)], [cards.execute(
                notification.shared_label("action.touching"), {"command": f"touching {ref}"})])
            activity = Activity(type=ActivityTypes.message,
                                attachments=[cards.attachment(content)])
        else:
            activity = cards.plain_text(text)
        posted = self.sender.post(reference, activity)
        if ref and posted:
            remember_post(self.engine, PLATFORM, self.conversation_id, posted, ref)


def channels(engine: Engine, cloud: CloudAdapter, config: Config,
             sleep: Callable[[float], None] = time.sleep) -> list:
    settings = config.platforms.teams
    sender = Sender(cloud, config, sleep)
    found: list = [TeamsChannel(engine, sender)]
    if settings.all_staff_channel:
        found.append(TeamsChatChannel(engine, sender, settings.all_staff_channel, None))
    for team, conversation_id in settings.team_channels.items():
        found.append(TeamsChatChannel(engine, sender, conversation_id, team))
    return found
