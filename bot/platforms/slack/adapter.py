"""Slack in, replies out, on slack-bolt: the slash command (and its alias), commands
typed in the bot's Messages tab (message.im), approval buttons, reactions on praise
posts and the App Home tab; the modals (the long forms, the praise and thanks message
shortcuts) are modals.py's.

Every listener acks within 3 s (limits.ACK_SECONDS) and works after: the ack is the
listener's return, in the thread that answers HTTP, and the work is stored in the
durable inbox (bot/kit/inbox.py) and runs on a bounded pool (bot/kit/work_pool.py)
that answers through the response_url or chat.postMessage; a worker that dies leaves
what it had acknowledged to another. When that pool is full, nothing is stored: a
slash command's ack asks the user to send it again, a button's answer says so, and
an event is worked on at once rather than lost. Modals, opened in the listener and
checked before their ack, are modals.py's. Colleagues picked from Slack's @ list
read as those people (mentions.py, Inbound.read); a long reply goes in the pieces
Slack takes (blocks.pieces), at most 5 at a response_url, the rest by direct message.
Bolt verifies each request's signature and age. Effects are keyed by Slack's own
ids (trigger, view, action time, event id), so a retried request changes nothing; every
event id is recorded once, so a retried event (an App Home opened) is acknowledged and
dropped, and an event with no listener is acknowledged rather than answered 404.
"""

import functools
import logging
import re
from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from slack_bolt import App, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from bot.kit import Config, Event, Inbound, inbox_for
from bot.platforms.slack import blocks, mentions, modals
from bot.platforms.slack.limits import RESPONSE_URL_USES
from bot.platforms.slack.respond import Answers
from bot.platforms.slack.settings import PLATFORM
from handlers import approvals, profile, redemptions, waivers
from handlers.approvals import Decide
from handlers.base import Context, Message, Reply
from handlers.grammar import parse
from handlers.i18n import render_message, render_reply
from handlers.registry import Command, OpenForm

log = logging.getLogger(__name__)

def web_client(token: str, base_url: str) -> WebClient:
    """Slack's own client, retrying rate limits (after Retry-After), 5xx and resets."""
    return WebClient(token=token, base_url=base_url, retry_handlers=[
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2)])


def _stored_part(request: dict) -> dict:
    """A request as the inbox keeps it: without Slack's legacy verification token."""
    return {name: value for name, value in request.items() if name != "token"}


def sent_by(kind: str, stored: dict) -> str | None:
    """Who sent a stored request: one person's requests run in the order they came."""
    if kind == "command":
        return stored.get("user_id") or None
    if kind == "button":
        return (stored.get("user") or {}).get("id") or None
    if kind in ("reaction", "message"):
        return (stored.get("event") or {}).get("user") or None
    return stored.get("user") or None  # a modal's submission: its user id


class SlackAdapter:
    def __init__(self, engine: Engine, config: Config, bot_token: str,
                 signing_secret: str = "") -> None:
        self.engine, self.config = engine, config
        self.settings = settings = config.platforms.slack
        self.inbound = Inbound(engine, config, PLATFORM)
        self.client = web_client(bot_token, settings.api_base)
        self.answers = Answers()
        # process_before_response: the listener runs in the request's thread and its
        # return is the response, so an ack never waits for a free listener thread
        # token_verification_enabled=False: Bolt would call auth.test here and raise on
        # a refused token; SlackPlatform.start() checks it instead, and `frontline
        # doctor` can still build the platform and name what is wrong (findings()).
        self.app = App(client=self.client, signing_secret=signing_secret,
                       process_before_response=True, token_verification_enabled=False)
        self.inbox = inbox_for(engine, settings, self._stored, order=sent_by)
        for name in filter(None, (settings.command, settings.alias)):
            self.app.command(name)(self.on_command)
        self.modals = modals.Modals(self.inbound, self.inbox.accept, self.client, self._busy,
                                    functools.partial(self._mark_decided, self.client))
        self.modals.listen(self.app)
        self.app.action(re.compile(f"^{blocks.ACTION_PREFIX}"))(self.on_button)
        self.app.middleware(self.once_per_event)
        self.app.event("reaction_added")(self.on_reaction)
        self.app.event("app_home_opened")(self.on_home)
        self.app.event("message")(self.on_message)  # message.im: typed in the Messages tab
        # Every other event (reaction_removed, one subscribed later) is
        # acknowledged: an unanswered one would make Slack retry it.
        self.app.event(re.compile(".*"))(lambda ack: ack())

    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/slack/events", self.http, methods=["POST"])
        return router

    async def http(self, request: Request) -> Response:
        # Bolt's App is synchronous: dispatch it off the event loop, so that many
        # requests at once do not queue behind each other.
        bolt_request = to_bolt_request(request, await request.body())
        return to_starlette_response(await run_in_threadpool(self.app.dispatch, bolt_request))

    # --- helpers ---------------------------------------------------------
    def _stored(self, kind: str, p: dict) -> None:
        """Run a request from the inbox, rebuilt from what was stored of it."""
        client = self.client
        if kind == "command":
            self._command(p, self.answers.at(p.get("response_url")), client)
        elif kind == "button":
            self._button(p, self.answers.at(p.get("response_url")), client)
        elif kind in modals.KINDS:
            self.modals.run(kind, p)
        elif kind == "reaction":
            self._reaction(p["body"], p["event"])
        elif kind == "message":
            self._message(p["event"], client)

    def _busy(self) -> str:
        """Said without touching the database, which is what is overloaded."""
        return render_message(Message("busy.retry"),
                              self.config.organisation.default_locale)

    def _later(self, work: Callable[[], None], *, must_run: bool = False) -> bool:
        """Run `work` on the pool; when it is full, False, or (`must_run`: an event
        Slack would not send again once acknowledged) run it now."""
        if self.inbox.pool.submit(work):
            return True
        if must_run:
            work()
            return True
        return False

    def _read(self, text: str) -> Command:
        """A command as typed, each colleague picked from the @ list that person."""
        typed, mentioned = mentions.read(text, self._name_of)
        return self.inbound.read(typed.strip() or "help", mentioned)

    def _name_of(self, user_id: str) -> str:
        """The name Slack shows for a member (users.info, scope users:read); only an
        unlinked colleague's is shown (in the refusal), so a linked one is not asked."""
        if self.inbound.registered(user_id):
            return user_id
        try:
            user = self.client.users_info(user=user_id)["user"]
        except SlackApiError:
            return user_id
        return (user.get("profile") or {}).get("display_name") or user.get("real_name") \
            or user.get("name") or user_id

    def _answer(self, respond, client: WebClient, user: str, reply: Reply, locale: str,
                ) -> None:
        """A reply at the request's response_url, in the pieces Slack takes: at most 5
        there (limits.RESPONSE_URL_USES); the rest, or all once it has expired, by
        direct message."""
        pieces = blocks.pieces(reply, locale)
        if getattr(respond, "response_url", None) is None:
            respond = None
        for n, (text, shown) in enumerate(pieces):
            if n < RESPONSE_URL_USES and respond is not None:
                answered = respond(text=text, blocks=shown, response_type="ephemeral")
                if answered.status_code == 200:
                    continue
                log.warning("response_url refused: %s %s", answered.status_code, answered.body)
                respond = None  # expired or used up: the rest by direct message
            client.chat_postMessage(channel=user, text=text, blocks=shown)

    # --- slash command ---------------------------------------------------
    def on_command(self, ack, command: dict, respond, client: WebClient) -> None:
        user = command["user_id"]
        parsed = parse(mentions.unescape(command.get("text", "")).strip() or "help")
        if isinstance(parsed, OpenForm) and self.inbound.registered(user):
            # `comp` or `waiver report [W3]` with nothing else opens the modal, now:
            # the trigger would not outlive a wait for the pool
            error = self.modals.open_form(command["trigger_id"], user, parsed.form,
                                          {"waiver": parsed.waiver} if parsed.waiver else None)
            if error is None:
                ack()
            else:
                ack(text=blocks.escape(self.modals.not_opened(user, error)),
                    response_type="ephemeral")
            return
        if self.inbox.accept(Event("command", command["trigger_id"]), "command",
                             _stored_part(command)):
            ack()
        else:
            ack(text=self._busy(), response_type="ephemeral")

    def _command(self, command: dict, respond, client: WebClient) -> None:
        user = command["user_id"]
        parsed = self._read(command.get("text", ""))
        reply, locale = self.inbound.run(user, parsed,
                                         Event("command", command["trigger_id"]))
        self._answer(respond, client, user, reply, locale)

    # --- typed in the bot's Messages tab (message.im) --------------------------
    def on_message(self, ack, body: dict, event: dict, client: WebClient) -> None:
        ack()
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id") \
                or not event.get("user"):
            return  # an edit, a join, a bot's own message, a channel's message
        key = Event("message", f"{event.get('channel')}:{event.get('ts')}")
        stored = {"event": {name: event.get(name) for name in ("user", "text", "channel", "ts")}}
        if not self.inbox.accept(key, "message", stored):
            self._message(stored["event"], client)  # Slack would not send it again: now

    def _message(self, event: dict, client: WebClient) -> None:
        user = event["user"]
        # (a form's verb alone gets its usage: a message brings no trigger for a modal)
        parsed = self._read(event.get("text") or "")
        reply, locale = self.inbound.run(user, parsed, Event(
            "message", f"{event.get('channel')}:{event.get('ts')}"))
        for text, shown in blocks.pieces(reply, locale):
            client.chat_postMessage(channel=event.get("channel") or user, text=text,
                                    blocks=shown)

    # --- buttons ---------------------------------------------------------
    def on_button(self, ack, body: dict, respond, client: WebClient) -> None:
        if self._opens_modal(body, respond, client):  # now: its trigger lives 3 s
            ack()
            return
        ack()
        if not self.inbox.accept(self._button_event(body), "button", _stored_part(body)):
            respond(text=self._busy(), response_type="ephemeral", replace_original=False)

    def _opens_modal(self, body: dict, respond, client: WebClient) -> bool:
        """A click that opens a modal (Report on a waiver, Decline asking its reason)
        opens it in the listener; True if it was such a click."""
        action, user = body["actions"][0], body["user"]["id"]
        command = parse(action["value"])
        in_message = body.get("container", {}).get("type") == "message"
        if isinstance(command, OpenForm):  # "Report" on an open waiver
            error = self.modals.open_form(body["trigger_id"], user, command.form,
                                          {"waiver": command.waiver} if command.waiver else None)
        elif isinstance(command, Decide) and not command.approve and not command.comment:
            # Ask for the reason only if this person may decide at all.
            reply, locale = self.inbound.run(
                user, Decide(command.kind, command.record_id, False, "-"), check_only=True)
            if not reply.ok:
                return False  # refused on the pool, as any click
            channel = body.get("channel", {}).get("id", "")
            ts = body.get("container", {}).get("message_ts", "")
            shown = [b for b in body.get("message", {}).get("blocks", [])
                     if b.get("type") != "actions"]
            error = self.modals.open(body["trigger_id"], blocks.decline_modal(
                action["value"], f"{command.kind}{command.record_id}", channel, ts, shown,
                locale))
        else:
            return False
        if error is not None:
            self._tell(respond, client, user, Reply.of("slack.form_failed", error=error),
                       self.inbound.locale(user), in_message)
        return True

    @staticmethod
    def _button_event(body: dict) -> Event:
        """A click, once: where the button was shown, when, by whom."""
        container = body.get("container", {})
        shown_in = container.get("message_ts") or container.get("view_id")
        return Event("action", f"{shown_in}:{body['actions'][0]['action_ts']}:"
                               f"{body['user']['id']}")

    def _button(self, body: dict, respond, client: WebClient) -> None:
        action, user = body["actions"][0], body["user"]["id"]
        command = parse(action["value"])
        in_message = body.get("container", {}).get("type") == "message"
        if isinstance(command, Decide) and not command.approve and not command.comment:
            # a Decline this person may not take (one they may opened its modal)
            reply, locale = self.inbound.run(
                user, Decide(command.kind, command.record_id, False, "-"), check_only=True)
            self._tell(respond, client, user, reply, locale, in_message)
            return
        container = body.get("container", {})
        reply, locale = self.inbound.run(user, command, self._button_event(body))
        if reply.ok and isinstance(command, Decide) and in_message:
            self._mark_decided(client, body["channel"]["id"], container["message_ts"],
                               body["message"], reply, user, locale)
        else:
            self._tell(respond, client, user, reply, locale, in_message)
        if container.get("type") == "view":  # App Home: show the new state
            self._publish_home(client, user)

    def _tell(self, respond, client: WebClient, user: str, reply: Reply, locale: str,
              in_message: bool) -> None:
        """An answer only the clicker sees."""
        text = blocks.escape(render_reply(reply, locale))
        if in_message:
            respond(text=text, response_type="ephemeral", replace_original=False)
        else:
            client.chat_postMessage(channel=user, text=text)

    def _mark_decided(self, client: WebClient, channel: str, ts: str, message: dict,
                      reply: Reply, user: str, locale: str) -> None:
        """Rewrite the request in place: the buttons go, who decided and when appear."""
        decided = self.inbound.decided_by(user, locale)
        kept = [b for b in message.get("blocks", []) if b.get("type") != "actions"]
        outcome = render_reply(reply, locale)
        client.chat_update(channel=channel, ts=ts, text=blocks.escape(f"{outcome} {decided}"),
                           blocks=[*kept, blocks.section(outcome), blocks.context(decided)])

    # --- events ----------------------------------------------------------
    def once_per_event(self, body: dict, next) -> BoltResponse | None:
        """Global middleware, after Bolt's signature check: each event id is recorded
        once; a retried delivery is acknowledged and goes no further."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not self.inbound.first(Event("event", event_id)):
            return BoltResponse(status=200, body="")
        next()
        return None

    def on_reaction(self, ack, body: dict, event: dict) -> None:
        ack()
        if not self.inbox.accept(Event("reaction", body.get("event_id")), "reaction",
                                 dict(body={"event_id": body.get("event_id")}, event=event)):
            self._reaction(body, event)  # Slack would not send it again: now, then

    def _reaction(self, body: dict, event: dict) -> None:
        item = event.get("item", {})
        if event.get("reaction") != self.settings.touching_reaction or \
                item.get("type") != "message":
            return
        reply = self.inbound.touching(event["user"], item.get("channel", ""),
                                      item.get("ts", ""), Event("reaction", body.get("event_id")))
        if reply is not None:
            log.info("reaction on %s: %s", item.get("ts"), reply.messages[0].key)

    def on_home(self, ack, event: dict, client: WebClient) -> None:
        ack()
        if event.get("tab", "home") == "home":
            self._later(lambda: self._publish_home(client, event["user"]), must_run=True)

    def _publish_home(self, client: WebClient, user: str) -> None:
        def screens(ctx: Context) -> dict:
            shown = [profile.me(ctx), waivers.list_waivers(ctx), redemptions.mine(ctx)]
            if ctx.actor.role != "employee" or approvals.waiting_for(ctx):
                shown.append(approvals.pending(ctx))
            return blocks.home_view(shown, ctx.actor.locale)

        home = self.inbound.view(user, screens) or blocks.home_view(
            [Reply.of("not_registered")], self.config.organisation.default_locale)
        client.views_publish(user_id=user, view=home)
