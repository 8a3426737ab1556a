"""Slack's modals: a command's form (`comp`, a waiver's report), Decline's reason, and
the message shortcuts "Log as customer praise" (one colleague or several: a team
praise) and "Thank the author".

A modal is opened in the listener, before the ack: its trigger_id lives 3 s and opens
one view (limits.TRIGGER_SECONDS), so it cannot wait for the pool or be opened again by
another worker. A submission's answers are checked before the ack (their form, who is
meant), since a field error must be the ack; its command, the one the typed line
would run, runs after the ack on the pool, keyed by the view's id (a retried
submission is stored once and runs once), and what it says, a refusal too, comes as a
direct message.
"""

import json
import logging
import re
from collections.abc import Callable

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.kit import Event, Inbound, people_form_problems
from bot.platforms.slack import blocks, mentions
from handlers import compensation
from handlers.base import Context, Message, Reply
from handlers.forms import FORMS, read_all
from handlers.grammar import parse
from handlers.i18n import render_message, render_reply
from handlers.praise import PraiseLog
from handlers.thanks import Thank

log = logging.getLogger(__name__)
KINDS = ("form", "praise_form", "thanks_form", "decline")  # what the inbox keeps of them
Accept = Callable[[Event, str, dict], bool]  # the inbox's: stored to run after the ack?
MarkDecided = Callable[[str, str, dict, Reply, str, str], None]


class Modals:
    def __init__(self, inbound: Inbound, accept: Accept, client: WebClient,
                 busy: Callable[[], str], mark_decided: MarkDecided) -> None:
        self.inbound, self.accept, self.client = inbound, accept, client
        self.busy, self.mark_decided = busy, mark_decided

    def listen(self, app: App) -> None:
        app.view(re.compile("^form:"))(self.on_form)
        app.view("decline_reason")(self.on_decline_reason)
        app.view("log_praise")(self.on_praise_form)
        app.view("thanks")(self.on_thanks_form)
        app.shortcut("log_praise")(self.on_praise_shortcut)
        app.shortcut("thanks")(self.on_thanks_shortcut)

    def run(self, kind: str, p: dict) -> None:
        """A stored submission's command, run after its ack."""
        if kind == "form":
            command, _problems = read_all(FORMS[p["form"]], p["answers"])
        elif kind == "praise_form":
            named = p.get("handles") or [p["handle"]]  # kept with one handle before team praise
            command = PraiseLog(p["text"], named[0], p["attachment"], also=tuple(named[1:]))
        elif kind == "thanks_form":
            command = Thank(p["handle"], p["why"], public=p["public"])
        else:
            self._decline(p["user"], p["meta"], p["reason"], p["view_id"])
            return
        reply, locale = self.inbound.run(p["user"], command, Event("view", p["view_id"]))
        self.client.chat_postMessage(channel=p["user"], blocks=blocks.reply_blocks(reply, locale),
                                     text=blocks.escape(render_reply(reply, locale)))

    # --- opening ---------------------------------------------------------------
    def open(self, trigger_id: str, view: dict) -> str | None:
        """Open a modal now; Slack's error if it would not."""
        try:
            self.client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as refused:
            log.warning("views.open refused: %s", refused.response.get("error"))
            return str(refused.response.get("error") or "error")
        return None

    def not_opened(self, user: str, error: str) -> str:
        return render_message(Message("slack.form_failed", {"error": error}),
                              self.inbound.locale(user))

    def open_form(self, trigger_id: str, user: str, name: str, initial: dict | None = None,
                  ) -> str | None:
        def note(ctx: Context) -> str:
            if name != "comp":
                return ""
            used = compensation.authority_summary(ctx, ctx.actor)
            return render_message(Message("modal.authority", used), ctx.actor.locale)

        locale = self.inbound.locale(user)
        return self.open(trigger_id, blocks.form_modal(
            FORMS[name], locale, self.inbound.view(user, note) or "", initial))

    def on_praise_shortcut(self, ack, shortcut: dict) -> None:
        message = shortcut.get("message", {})
        files = [f.get("permalink", "") for f in message.get("files", [])]
        self.open(shortcut["trigger_id"], blocks.praise_modal(
            mentions.unescape(message.get("text", "")), message.get("user", ""),
            next(filter(None, files), ""), self.inbound.locale(shortcut["user"]["id"]),
            self.inbound.config.points.team_praise_max))
        ack()

    def on_thanks_shortcut(self, ack, shortcut: dict) -> None:
        author = shortcut.get("message", {}).get("user", "")
        self.open(shortcut["trigger_id"], blocks.thanks_modal(
            author, self.inbound.locale(shortcut["user"]["id"])))
        ack()

    # --- submissions -------------------------------------------------------------
    def on_form(self, ack, body: dict, view: dict) -> None:
        user = body["user"]["id"]
        name = view["callback_id"].split(":", 1)[1]
        form = FORMS[name]
        _command, problems = read_all(form, blocks.submitted(view))
        if problems:
            self._refuse(ack, user, problems)
            return
        self._ack(ack, form.fields[0].name, view["id"], "form", dict(
            user=user, form=name, answers=blocks.submitted(view), view_id=view["id"]))

    def on_praise_form(self, ack, body: dict, view: dict) -> None:
        user, answers = body["user"]["id"], blocks.submitted(view)
        handles = self.inbound.picked(blocks.picked(view, "employee"))
        text = " ".join(answers.get("text", "").split())
        if problems := people_form_problems("employee", handles, "text", text):
            self._refuse(ack, user, problems)
            return
        self._ack(ack, "employee", view["id"], "praise_form", dict(
            user=user, text=text, handles=handles, attachment=answers.get("attachment", ""),
            view_id=view["id"]))

    def on_thanks_form(self, ack, body: dict, view: dict) -> None:
        user, answers = body["user"]["id"], blocks.submitted(view)
        handles = self.inbound.picked([answers["colleague"]] if answers.get("colleague") else [])
        why = " ".join(answers.get("why", "").split())
        if problems := people_form_problems("colleague", handles, "why", why):
            self._refuse(ack, user, problems)
            return
        self._ack(ack, "colleague", view["id"], "thanks_form", dict(
            user=user, handle=handles[0], why=why, public="team" in blocks.picked(view, "team"),
            view_id=view["id"]))

    def _refuse(self, ack, user: str, problems: dict[str, str]) -> None:
        """Keep the modal open, each field's problem under it in the sender's language."""
        locale = self.inbound.locale(user)
        ack(response_action="errors", errors={
            field: render_message(Message(key), locale) for field, key in problems.items()})

    def _ack(self, ack, field: str, view_id: str, kind: str, payload: dict) -> None:
        """Close the modal and work after; when the pool is full, keep it open with a
        request to submit it again."""
        if self.accept(Event("view", view_id), kind, payload):
            ack()
        else:
            ack(response_action="errors", errors={field: self.busy()})

    # --- Decline's reason ----------------------------------------------------------
    def on_decline_reason(self, ack, body: dict, view: dict) -> None:
        user = body["user"]["id"]
        reason = blocks.submitted(view).get("reason", "").strip()
        if not reason:
            self._refuse(ack, user, {"reason": "error.decline_reason"})
            return
        self._ack(ack, "reason", view["id"], "decline", dict(
            user=user, meta=json.loads(view["private_metadata"]), reason=reason,
            view_id=view["id"]))

    def _decline(self, user: str, meta: dict, reason: str, view_id: str) -> None:
        command = parse(f"{meta['command']} {reason}")
        reply, locale = self.inbound.run(user, command, Event("view", view_id))
        if reply.ok and meta.get("channel") and meta.get("ts"):
            self.mark_decided(meta["channel"], meta["ts"], {"blocks": meta.get("shown", [])},
                              reply, user, locale)
        else:
            self.client.chat_postMessage(channel=user,
                                         text=blocks.escape(render_reply(reply, locale)))
