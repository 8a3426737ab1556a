"""Slack in, replies out, on slack-bolt: the slash command (and its alias), modals
for the long forms, approval buttons, the "Log as customer praise" message
shortcut, reactions on praise posts, and the App Home tab.

Every listener acks first and works after, so Slack always has its answer within
3 s; modal submissions are the exception, since a field error must be the ack.
Bolt verifies each request's signature and age. Effects are keyed by Slack's own
ids (trigger, view, action time, event id), so a retried request changes nothing.
"""

import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from bot.config import Config
from bot.grammar import parse
from bot.outbox import posted_ref
from bot.slack import blocks
from handlers import approvals, compensation, profile, redemptions, waivers
from handlers.approvals import Decide
from handlers.base import Context, Message, Reply
from handlers.dispatch import decided_by, execute, find_sender, locale_of, view
from handlers.forms import FORMS, read_all
from handlers.i18n import render_message, render_reply
from handlers.praise import PraiseLog, Touching
from handlers.registry import Command, OpenForm
from storage.engine import transaction

log = logging.getLogger(__name__)
PLATFORM = "slack"


def web_client(token: str, base_url: str) -> WebClient:
    """Slack's own client, retrying rate limits (after Retry-After), 5xx and resets."""
    return WebClient(token=token, base_url=base_url, retry_handlers=[
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2)])


class SlackAdapter:
    def __init__(self, engine: Engine, config: Config, bot_token: str,
                 signing_secret: str = "") -> None:
        self.engine, self.config = engine, config
        self.settings = settings = config.platforms.slack
        self.client = web_client(bot_token, settings.api_base)
        self.app = App(client=self.client, signing_secret=signing_secret,
                       listener_executor=ThreadPoolExecutor(max_workers=32))
        for name in filter(None, (settings.command, settings.alias)):
            self.app.command(name)(self.on_command)
        self.app.action(re.compile(f"^{blocks.ACTION_PREFIX}"))(self.on_button)
        self.app.view(re.compile("^form:"))(self.on_form)
        self.app.view("decline_reason")(self.on_decline_reason)
        self.app.view("log_praise")(self.on_praise_form)
        self.app.shortcut("log_praise")(self.on_praise_shortcut)
        self.app.event("reaction_added")(self.on_reaction)
        self.app.event("app_home_opened")(self.on_home)
        for ignored in ("message", "reaction_removed"):
            self.app.event(ignored)(lambda ack: ack())

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
    def _run(self, user: str, command: Command, key: str | None,
             check_only: bool = False) -> tuple[Reply, str]:
        return execute(self.engine, self.config, PLATFORM, user, command, key,
                       datetime.now(UTC), check_only=check_only)

    def _locale(self, user: str) -> str:
        return locale_of(self.engine, self.config, PLATFORM, user)

    def _open_form(self, client: WebClient, trigger_id: str, user: str, name: str,
                   initial: dict | None = None) -> None:
        def note(ctx: Context) -> str:
            if name != "comp":
                return ""
            used = compensation.authority_summary(ctx, ctx.actor)
            return render_message(Message("modal.authority", used), ctx.actor.locale)

        locale = self._locale(user)
        client.views_open(trigger_id=trigger_id, view=blocks.form_modal(
            FORMS[name], locale, view(self.engine, self.config, PLATFORM, user, note) or "",
            initial))

    # --- slash command ---------------------------------------------------
    def on_command(self, ack, command: dict, respond, client: WebClient) -> None:
        ack()
        text, user = command.get("text", "").strip(), command["user_id"]
        parsed = parse(text or "help")
        if isinstance(parsed, OpenForm) and self._registered(user):
            # `comp` or `waiver report [W3]` with nothing else opens the modal.
            self._open_form(client, command["trigger_id"], user, parsed.form,
                            {"waiver": parsed.waiver} if parsed.waiver else None)
            return
        reply, locale = self._run(user, parsed,
                                  f"slack:command:{command['trigger_id']}")
        respond(text=render_reply(reply, locale), blocks=blocks.reply_blocks(reply, locale),
                response_type="ephemeral")

    def _registered(self, user: str) -> bool:
        return view(self.engine, self.config, PLATFORM, user, lambda ctx: True) is not None

    # --- buttons ---------------------------------------------------------
    def on_button(self, ack, body: dict, respond, client: WebClient) -> None:
        ack()
        action, user = body["actions"][0], body["user"]["id"]
        command = parse(action["value"])
        in_message = body.get("container", {}).get("type") == "message"
        if isinstance(command, OpenForm):  # "Report" on an open waiver
            self._open_form(client, body["trigger_id"], user, command.form,
                            {"waiver": command.waiver} if command.waiver else None)
            return
        if isinstance(command, Decide) and not command.approve and not command.comment:
            # Ask for the reason only if this person may decide at all.
            reply, locale = self._run(user, Decide(command.kind, command.record_id, False,
                                                     "-"), None, check_only=True)
            if not reply.ok:
                self._tell(respond, client, user, reply, locale, in_message)
                return
            channel = body.get("channel", {}).get("id", "")
            ts = body.get("container", {}).get("message_ts", "")
            shown = [b for b in body.get("message", {}).get("blocks", [])
                     if b.get("type") != "actions"]
            client.views_open(trigger_id=body["trigger_id"], view=blocks.decline_modal(
                action["value"], f"{command.kind}{command.record_id}", channel, ts, shown,
                locale))
            return
        container = body.get("container", {})
        key = (f"slack:action:{container.get('message_ts') or container.get('view_id')}:"
               f"{action['action_ts']}:{user}")
        reply, locale = self._run(user, command, key)
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
        text = render_reply(reply, locale)
        if in_message:
            respond(text=text, response_type="ephemeral", replace_original=False)
        else:
            client.chat_postMessage(channel=user, text=text)

    def _mark_decided(self, client: WebClient, channel: str, ts: str, message: dict,
                      reply: Reply, user: str, locale: str) -> None:
        """Rewrite the request in place: the buttons go, who decided and when appear."""
        decided = decided_by(self.engine, self.config, PLATFORM, user, locale)
        kept = [b for b in message.get("blocks", []) if b.get("type") != "actions"]
        outcome = render_reply(reply, locale)
        client.chat_update(channel=channel, ts=ts, text=f"{outcome} {decided}", blocks=[
            *kept, blocks.section(outcome), blocks.context(decided)])

    def on_decline_reason(self, ack, body: dict, view: dict, client: WebClient) -> None:
        user = body["user"]["id"]
        meta = json.loads(view["private_metadata"])
        reason = blocks.submitted(view).get("reason", "").strip()
        if not reason:
            ack(response_action="errors", errors={"reason": render_message(
                Message("error.decline_reason"), self._locale(user))})
            return
        command = parse(f"{meta['command']} {reason}")
        reply, locale = self._run(user, command, f"slack:view:{view['id']}")
        if not reply.ok:
            ack(response_action="errors", errors={"reason": render_reply(reply, locale)})
            return
        ack()
        if meta.get("channel") and meta.get("ts"):
            self._mark_decided(client, meta["channel"], meta["ts"],
                               {"blocks": meta.get("shown", [])}, reply, user, locale)
        else:
            client.chat_postMessage(channel=user, text=render_reply(reply, locale))

    # --- modals ----------------------------------------------------------
    def on_form(self, ack, body: dict, view: dict, client: WebClient) -> None:
        user = body["user"]["id"]
        form = FORMS[view["callback_id"].split(":", 1)[1]]
        command, problems = read_all(form, blocks.submitted(view))
        if problems:
            locale = self._locale(user)
            ack(response_action="errors", errors={
                name: render_message(Message(key), locale) for name, key in problems.items()})
            return
        reply, locale = self._run(user, command, f"slack:view:{view['id']}")
        if not reply.ok:  # e.g. over the daily budget, W9 not yours: shown on the first field
            ack(response_action="errors", errors={form.fields[0].name: render_reply(reply,
                                                                                   locale)})
            return
        ack()
        client.chat_postMessage(channel=user, text=render_reply(reply, locale),
                                blocks=blocks.reply_blocks(reply, locale))

    def on_praise_shortcut(self, ack, shortcut: dict, client: WebClient) -> None:
        ack()
        message = shortcut.get("message", {})
        files = [f.get("permalink", "") for f in message.get("files", [])]
        client.views_open(trigger_id=shortcut["trigger_id"], view=blocks.praise_modal(
            message.get("text", ""), message.get("user", ""), next(filter(None, files), ""),
            self._locale(shortcut["user"]["id"])))

    def on_praise_form(self, ack, body: dict, view: dict, client: WebClient) -> None:
        user = body["user"]["id"]
        answers = blocks.submitted(view)
        locale = self._locale(user)
        with transaction(self.engine) as session:
            praised = find_sender(session, PLATFORM, answers.get("employee", ""))
            handle = praised.handle if praised else None
        if handle is None:
            ack(response_action="errors", errors={"employee": render_message(
                Message("error.not_on_frontline"), locale)})
            return
        text = " ".join(answers.get("text", "").split())
        if not text:
            ack(response_action="errors", errors={"text": render_message(
                Message("error.text"), locale)})
            return
        reply, locale = self._run(user, PraiseLog(text, handle, answers.get("attachment", "")),
                                  f"slack:view:{view['id']}")
        if not reply.ok:
            ack(response_action="errors", errors={"employee": render_reply(reply, locale)})
            return
        ack()
        client.chat_postMessage(channel=user, text=render_reply(reply, locale))

    # --- events ----------------------------------------------------------
    def on_reaction(self, ack, body: dict, event: dict) -> None:
        ack()
        item = event.get("item", {})
        if event.get("reaction") != self.settings.touching_reaction or \
                item.get("type") != "message":
            return
        ref = posted_ref(self.engine, PLATFORM, item.get("channel", ""), item.get("ts", ""))
        if ref and ref.startswith("P"):
            reply, _ = self._run(event["user"], Touching(int(ref[1:])),
                                 f"slack:event:{body.get('event_id')}")
            log.info("reaction on %s: %s", ref, reply.messages[0].key)

    def on_home(self, ack, event: dict, client: WebClient) -> None:
        ack()
        if event.get("tab", "home") == "home":
            self._publish_home(client, event["user"])

    def _publish_home(self, client: WebClient, user: str) -> None:
        def screens(ctx: Context) -> dict:
            shown = [profile.me(ctx), waivers.list_waivers(ctx), redemptions.mine(ctx)]
            if ctx.actor.role != "employee" or approvals.waiting_for(ctx):
                shown.append(approvals.pending(ctx))
            return blocks.home_view(shown, ctx.actor.locale)

        home = view(self.engine, self.config, PLATFORM, user, screens) or blocks.home_view(
            [Reply.of("not_registered")], self.config.organisation.default_locale)
        client.views_publish(user_id=user, view=home)
