"""Teams in, replies out, on the Agents SDK: `/api/messages` checks the request's
Bot Framework token before anything else, then hands the activity to the SDK's
CloudAdapter, which runs `FrontlineAgent` and answers through the Bot Connector at
the activity's serviceUrl.

An activity whose HTTP answer carries nothing (a message, a reaction) is stored in
the durable inbox (bot/kit/inbox.py) under its id, with the token's claims, and answered
200 at once; a bounded pool then runs its turn through the SDK on the web app's event
loop. A worker that dies leaves it to another, and a redelivery is not stored again.
With the pool full nothing is stored: a message is answered, through the Connector,
asking to send it again; anything else is refused with a 503. An invoke (card
action, dialog, message extension) runs within the request: its answer is the
response.

People are known by their Entra object id (`from.aadObjectId`). A message in
personal chat, or one that @mentions the bot elsewhere, is a command; a colleague
@mentioned in it (Teams' `<at>Name</at>` with a mention entity) reads as that person,
through their Entra object id (the entity's, or the Connector's member lookup); a card button
(`adaptiveCard/action`) runs its command as the clicker; dialogs and message
extensions are dialogs.py's. Effects are keyed by the activity id, so a redelivered
activity changes nothing. Every conversation the bot hears from is remembered
(references.py), for proactive posts.
"""

import asyncio
import functools
import logging
from contextvars import ContextVar
from dataclasses import replace

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from microsoft_agents.activity import Activity, ActivityTypes, DeliveryModes, InvokeResponse
from microsoft_agents.hosting.core import ActivityHandler, ClaimsIdentity, TurnContext
from microsoft_agents.hosting.fastapi import CloudAdapter
from microsoft_agents.hosting.teams import TeamsInfo
from pydantic import ValidationError
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from bot.kit import Config, Event, Inbound, inbox_for
from bot.platforms.teams import cards, files, references
from bot.platforms.teams.auth import BotTokenValidator, TokenRefused
from bot.platforms.teams.dialogs import EXTENSIONS, Dialogs
from bot.platforms.teams.settings import PLATFORM
from handlers.approvals import Decide
from handlers.base import Message, Reply
from handlers.grammar import parse
from handlers.i18n import render_message, render_reply
from handlers.praise import PraiseLog
from handlers.registry import OpenForm

log = logging.getLogger(__name__)
CARD = "application/vnd.microsoft.card.adaptive"
NOTE = "application/vnd.microsoft.activity.message"  # shown on the card, which stays
TOUCHING = "heart"  # the Teams reaction that marks a praise post as touching
# The errors of the turn being run from the inbox (None: a turn within its request).
_RUN: ContextVar[list[BaseException] | None] = ContextVar("teams_run", default=None)


def sender(activity: Activity) -> str:
    account = activity.from_property
    return (account.aad_object_id or "") if account else ""


def sent_by(_kind: str, stored: dict) -> str | None:
    """Who sent a stored activity: one person's activities run in the order they came."""
    person = stored["activity"].get("from") or {}
    return person.get("aadObjectId") or person.get("id") or None


def command_text(activity: Activity) -> str | None:
    """The command typed: the whole text in personal chat; elsewhere the text with the
    bot's @mention taken out, or None when the bot was not mentioned."""
    text = activity.text or ""
    if (activity.conversation.conversation_type or "personal") == "personal":
        return text.strip()
    bot_id = activity.recipient.id if activity.recipient else None
    mentioned = False
    for entity in activity.entities or []:
        data = entity.model_dump(by_alias=True)
        if data.get("type") == "mention" and (data.get("mentioned") or {}).get("id") == bot_id:
            mentioned = True
            text = text.replace(data.get("text") or "", " ")
    return " ".join(text.split()) if mentioned else None


def mentions(activity: Activity, text: str) -> tuple[str, list[tuple[str, str, str, str]]]:
    """The colleagues @mentioned in `text` (the bot's own mention already taken out):
    `text` with each mention's `<at>…</at>` replaced by a word of its own, and (word,
    Teams user id, Entra object id or "", name shown) for each.
    https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/channel-and-group-conversations#receive-mentions"""
    bot_id = activity.recipient.id if activity.recipient else None
    found = []
    for index, entity in enumerate(activity.entities or []):
        data = entity.model_dump(by_alias=True)
        who = data.get("mentioned") or {}
        shown = data.get("text") or ""
        if data.get("type") != "mention" or who.get("id") == bot_id or shown not in text \
                or not shown:
            continue
        word = f"<at:{index}>"
        text = text.replace(shown, f" {word} ")
        name = who.get("name") or shown.removeprefix("<at>").removesuffix("</at>")
        found.append((word, str(who.get("id") or ""), str(who.get("aadObjectId") or ""),
                      name))
    return " ".join(text.split()), found


def invoke(body: dict) -> InvokeResponse:
    return InvokeResponse(status=200, body=body)


def note(text: str) -> InvokeResponse:
    """A card action's answer shown on the card, which stays as it was."""
    return invoke({"statusCode": 200, "type": NOTE, "value": text})


class FrontlineAgent(ActivityHandler):
    def __init__(self, engine: Engine, config: Config) -> None:
        self.engine, self.config = engine, config
        self.inbound = Inbound(engine, config, PLATFORM)
        self.dialogs = Dialogs(self.inbound)

    async def on_turn(self, turn_context: TurnContext) -> None:
        await run_in_threadpool(references.remember, self.engine, turn_context.activity)
        await super().on_turn(turn_context)

    async def _run(self, user: str, command, event: Event) -> tuple[Reply, str]:
        return await run_in_threadpool(self.inbound.run, user, command, event)

    # --- messages ------------------------------------------------------------
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        text = command_text(activity)
        if text is None:
            return
        user, command = sender(activity), await self.read(turn_context, text or "help")
        try:
            recording = await files.recording(activity)
        except files.RecordingTooLarge:
            locale = await run_in_threadpool(self.inbound.locale, user)
            await turn_context.send_activity(render_message(Message(
                "error.recording_too_large", {"mb": files.RECORDING_LIMIT // 2**20}), locale))
            return
        if isinstance(command, PraiseLog) and recording is not None:
            command = replace(command, recording=recording)
        elif recording is not None and not text:  # a clip alone: the last praise's
            command = recording
        if isinstance(command, OpenForm) and await run_in_threadpool(
                self.inbound.registered, user):  # `comp` alone: a button to its dialog
            await turn_context.send_activity(await self.form_button(user, command))
            return
        reply, locale = await self._run(user, command, Event("activity", activity.id))
        for piece in cards.reply_activities(reply, locale):  # each within Teams' size
            await turn_context.send_activity(piece)

    async def read(self, turn_context: TurnContext, text: str):
        """The command typed, each @mentioned colleague read as that person."""
        text, found = mentions(turn_context.activity, text)
        mentioned = {}
        for word, teams_id, aad, name in found:
            if not aad and teams_id:  # the entity names the Teams id only: ask Teams
                try:
                    member = await TeamsInfo.get_member(turn_context, teams_id)
                    aad = str((member.model_extra or {}).get("aadObjectId") or "")
                except Exception as error:  # not a member Teams knows: not linked
                    log.info("Teams: no member %s: %s", teams_id, error)
            mentioned[word] = (aad, name)
        return await run_in_threadpool(self.inbound.read, text, mentioned)

    async def on_reactions_added(self, message_reactions, turn_context: TurnContext) -> None:
        """A heart on one of the bot's praise posts marks that praise as touching."""
        activity = turn_context.activity
        if not activity.reply_to_id or not any(r.type == TOUCHING for r in message_reactions):
            return
        chat = activity.conversation.id.split(";", 1)[0]  # a channel's thread names its root
        reply = await run_in_threadpool(self.inbound.touching, sender(activity), chat,
                                        activity.reply_to_id, Event("activity", activity.id))
        if reply is not None:
            log.info("reaction on %s: %s", activity.reply_to_id, reply.messages[0].key)

    async def form_button(self, user: str, command: OpenForm) -> Activity:
        locale = await run_in_threadpool(self.inbound.locale, user)
        title = render_message(Message(f"modal.{command.form}"), locale)
        note = await self.dialogs.note(user, command.form)
        content = cards.card([cards.text_block(note or title)], [cards.open_form(
            title, {"form": command.form, "waiver": command.waiver})])
        return Activity(type=ActivityTypes.message, attachments=[cards.attachment(content)])

    # --- invokes -------------------------------------------------------------
    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        user, event = sender(activity), Event("invoke", activity.id)
        data = value.get("data") if isinstance(value.get("data"), dict) else {}
        if activity.name == "adaptiveCard/action":
            return await self.on_card_action(turn_context, value)
        if activity.name == "task/fetch":
            return invoke(await self.dialogs.fetch(user, data))
        if activity.name == "task/submit":
            answer, posted = await self.dialogs.submit(user, data, event)
            if posted:  # the outcome stays in the chat too
                await turn_context.send_activity(posted)
            return invoke(answer)
        extension = value.get("commandId") in EXTENSIONS
        if activity.name == "composeExtension/fetchTask" and extension:
            return invoke(await self.dialogs.extension_fetch(user, value))
        if activity.name == "composeExtension/submitAction" and extension:
            return invoke(await self.dialogs.extension_submit(user, value, event))
        return InvokeResponse(status=501)

    async def on_card_action(self, turn_context: TurnContext, value: dict) -> InvokeResponse:
        activity = turn_context.activity
        user = sender(activity)
        action = value.get("action") if isinstance(value.get("action"), dict) else {}
        data = action.get("data") if isinstance(action.get("data"), dict) else {}
        if action.get("verb") != cards.VERB or not isinstance(data.get("command"), str):
            return invoke({"statusCode": 400, "type": "application/vnd.microsoft.error",
                           "value": {"code": "BadRequest", "message": "not a Frontline action"}})
        command = parse(data["command"])
        if isinstance(command, Decide) and not command.approve:
            reason = " ".join(str(data.get("reason") or "").split())
            if not reason:  # only someone who may decline is asked for a reason
                check, locale = await run_in_threadpool(functools.partial(
                    self.inbound.run, user, replace(command, comment="-"), check_only=True))
                asked = Reply.of("error.decline_reason") if check.ok else check
                return note(render_reply(asked, locale))
            command = parse(f"{data['command']} {reason}")
        reply, locale = await self._run(user, command, Event("invoke", activity.id))
        outcome = render_reply(reply, locale)
        if not (reply.ok and isinstance(command, Decide)):
            return note(outcome)
        decided = await run_in_threadpool(self.inbound.decided_by, user, locale)
        redrawn = cards.decided_card(str(data.get("shown") or ""), outcome, decided)
        if activity.reply_to_id:  # everyone else who sees the card sees it decided too
            try:
                await turn_context.update_activity(Activity(
                    type=ActivityTypes.message, id=activity.reply_to_id,
                    attachments=[cards.attachment(redrawn)]))
            except Exception:  # the decision stands; the card is only its picture
                log.exception("could not redraw the Teams card %s", activity.reply_to_id)
        return invoke({"statusCode": 200, "type": CARD, "value": redrawn})


class TeamsAdapter:
    def __init__(self, engine: Engine, config: Config, cloud: CloudAdapter,
                 validator: BotTokenValidator) -> None:
        self.engine, self.config, self.cloud, self.validator = engine, config, cloud, validator
        self.agent = FrontlineAgent(engine, config)
        self.cloud.on_turn_error = self.on_turn_error
        settings = config.platforms.teams
        self.inbox = inbox_for(engine, settings, self._stored, order=sent_by)
        self.loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.inbox.start()  # what a dead worker left runs here

    async def stop(self) -> None:
        # What was stored here is worked on, while the loop it runs on still runs.
        await asyncio.to_thread(self.inbox.stop)

    @staticmethod
    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        # The SDK's default would send the exception's text to the user. A turn run
        # from the inbox fails there, so that it is tried again.
        errors = _RUN.get()
        if errors is not None:
            errors.append(error)
        else:
            log.error("Teams turn failed: %s", error, exc_info=error)

    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/api/messages", self.messages, methods=["POST"])
        return router

    async def messages(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return JSONResponse({"error": "a Bot Framework token is required"}, status_code=401)
        try:
            body = await request.json()
            activity = Activity.model_validate(body)
        except (ValueError, ValidationError):
            activity = None
        try:  # the token first: nobody learns anything about a body they may not send
            claims = await self.validator.validate_token(
                token.strip(), activity.channel_id if activity else None)
        except TokenRefused as error:
            log.warning("Teams request refused: %s", error)
            return JSONResponse({"error": "invalid token"}, status_code=401)
        if activity is None or not (activity.type and activity.id and activity.conversation
                                    and activity.conversation.id and activity.service_url):
            return JSONResponse({"error": "not an activity"}, status_code=400)
        # Every token the Bot Connector sends carries a serviceurl claim equal to the
        # activity's serviceUrl; one without it is not the Connector's to this bot.
        # https://learn.microsoft.com/en-us/azure/bot-service/rest-api/bot-framework-rest-connector-authentication#step-4-verify-the-jwt-token
        claimed = claims.get_claim_value("serviceurl")
        if not isinstance(claimed, str) or not claimed \
                or claimed.rstrip("/") != activity.service_url.rstrip("/"):
            log.warning("Teams request refused: serviceUrl is not the token's")
            return JSONResponse({"error": "invalid token"}, status_code=401)
        if activity.type == ActivityTypes.invoke \
                or activity.delivery_mode == DeliveryModes.expect_replies:
            request.state.claims_identity = claims  # its answer is the response
            return await self.cloud.process(request, self.agent)
        if await run_in_threadpool(self.inbox.accept, Event("activity", activity.id),
                                   "activity", {"activity": body, "claims": claims.claims}):
            return Response(status_code=200)  # stored: its turn runs after
        return await self._busy(claims, activity)

    async def _busy(self, claims: ClaimsIdentity, activity: Activity) -> Response:
        """The pool is full, nothing was stored: a command is answered, asking to send
        it again. Anything else, or a message that cannot be answered, is refused, so
        that Teams may deliver it again."""
        if activity.type != ActivityTypes.message or command_text(activity) is None:
            return JSONResponse({"error": "busy"}, status_code=503)
        text = render_message(Message("busy.retry"), self.config.organisation.default_locale)

        async def tell(turn_context: TurnContext) -> None:
            await turn_context.send_activity(text)

        errors: list[BaseException] = []
        _RUN.set(errors)
        await self.cloud.process_activity(claims, activity, tell)
        if errors:
            log.error("Teams: could not ask to send %s again", activity.id,
                      exc_info=errors[0])
            return JSONResponse({"error": "busy"}, status_code=503)
        return Response(status_code=200)

    def _stored(self, kind: str, payload: dict) -> None:
        """Run an activity from the inbox (in a pool thread) through the SDK on the web
        app's loop; a turn's error is raised here, so that the inbox tries it again."""
        if self.loop is None:
            raise RuntimeError("the Teams adapter is not started")
        asyncio.run_coroutine_threadsafe(self._turn(payload), self.loop).result()

    async def _turn(self, payload: dict) -> None:
        errors: list[BaseException] = []
        _RUN.set(errors)  # this task's own: the turn's error handler sees it
        await self.cloud.process_activity(ClaimsIdentity(payload["claims"], True),
                                          Activity.model_validate(payload["activity"]),
                                          self.agent.on_turn)
        if errors:
            raise errors[0]
