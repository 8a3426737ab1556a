"""Dialogs (task modules): the long forms (compensation, the waiver report) and the
message extensions "Log as customer praise" (one colleague or several: a team praise)
and "Thank the author", whose people pickers give Entra object ids, the ids people
are known by here. A submitted dialog is read whole; a field that does not read is
shown again with its error under it, and nothing is logged until every field reads
and the command, the one the typed line would run, is accepted."""

import html
import re

from starlette.concurrency import run_in_threadpool

from bot.kit import Event, Inbound, people_form_problems
from bot.platforms.teams import cards
from handlers import compensation
from handlers.base import Context, Message
from handlers.forms import FORMS, Form, read_all
from handlers.i18n import render_message, render_reply
from handlers.praise import LOGGERS, PraiseLog
from handlers.registry import Command
from handlers.thanks import Thank

PRAISE, THANKS = "praise", "thanks"
# the message extensions' command ids (teams-app-manifest.json) -> their forms
EXTENSIONS = {"logPraise": PRAISE, "thankAuthor": THANKS}
EXTENSION_FIELDS = {  # (name, label key, optional); the first names who is meant
    PRAISE: [("employee", "label.employee", False), ("text", "label.praise_text", False),
             ("attachment", "label.attachment", True)],
    THANKS: [("colleague", "label.thanks_colleague", False), ("why", "label.thanks_why", False),
             ("team", "label.thanks_team", True)],
}
TAGS = re.compile(r"<[^>]*>")


def fields(form: Form) -> list[tuple[str, str, bool]]:
    return [(field.name, field.label, field.optional) for field in form.fields]


def plain_text(content: str) -> str:
    """A Teams message body (HTML) as the text it shows."""
    return " ".join(html.unescape(TAGS.sub(" ", content.replace("<br>", "\n"))).split())


def message(text: str) -> dict:
    """A dialog's answer that closes it with a line of text."""
    return {"task": {"type": "message", "value": text}}


class Dialogs:
    def __init__(self, inbound: Inbound) -> None:
        self.inbound = inbound

    async def _locale(self, user: str) -> str:
        return await run_in_threadpool(self.inbound.locale, user)

    def _title(self, name: str, locale: str) -> str:
        return render_message(Message(f"modal.{name}"), locale)

    async def note(self, user: str, form: str) -> str:
        """What a form shows on top: for compensation, the sender's authority."""
        if form != "comp":
            return ""

        def authority(ctx: Context) -> str:
            used = compensation.authority_summary(ctx, ctx.actor)
            return render_message(Message("modal.authority", used), ctx.actor.locale)
        return await run_in_threadpool(self.inbound.view, user, authority) or ""

    # --- the long forms ---------------------------------------------------------
    async def fetch(self, user: str, data: dict) -> dict:
        locale = await self._locale(user)
        form = FORMS.get(str(data.get("form")))
        if form is None or not await run_in_threadpool(self.inbound.registered, user):
            return message(render_message(Message("not_registered"), locale))
        initial = {"waiver": str(data.get("waiver") or "")}
        return cards.dialog(self._title(form.name, locale), cards.form_card(
            fields(form), locale, {"form": form.name}, initial,
            note=await self.note(user, form.name)))

    async def submit(self, user: str, data: dict, event: Event) -> tuple[dict, str | None]:
        """The dialog's answer, and the reply to post in the chat once it is logged."""
        locale = await self._locale(user)
        form = FORMS.get(str(data.get("form")))
        if form is None:
            return message(render_message(Message("not_registered"), locale)), None
        answers = {name: str(data.get(name) or "") for name, _label, _opt in fields(form)}
        command, problems = read_all(form, answers)
        if problems:
            errors = {name: render_message(Message(key), locale)
                      for name, key in problems.items()}
            return self._again(form, locale, answers, errors), None
        reply, locale = await run_in_threadpool(self.inbound.run, user, command, event)
        if not reply.ok:  # e.g. over the daily budget, W9 not yours: on the first field
            return self._again(form, locale, answers,
                               {form.fields[0].name: render_reply(reply, locale)}), None
        return message(render_reply(reply, locale)), render_reply(reply, locale)

    def _again(self, form: Form, locale: str, answers: dict, errors: dict) -> dict:
        return cards.dialog(self._title(form.name, locale), cards.form_card(
            fields(form), locale, {"form": form.name}, answers, errors))

    # --- the message extensions -----------------------------------------------------
    async def extension_fetch(self, user: str, value: dict) -> dict:
        """The extension's form, the message's author picked (and, for praise, its text
        and first file filled in)."""
        form = EXTENSIONS[str(value.get("commandId"))]
        locale = await self._locale(user)
        role = await run_in_threadpool(self.inbound.view, user, lambda ctx: ctx.actor.role)
        if role is None:
            return message(render_message(Message("not_registered"), locale))
        if form == PRAISE and role not in LOGGERS:
            return message(render_message(
                Message("refuse.praise_for_others", {"praise_word": "verb.praise"}), locale))
        payload = value.get("messagePayload") if isinstance(value.get("messagePayload"),
                                                            dict) else {}
        author = str(((payload.get("from") or {}).get("user") or {}).get("aadObjectId") or "")
        if form == THANKS:
            return self._extension(form, locale, {"colleague": author})
        body = payload.get("body") if isinstance(payload.get("body"), dict) else {}
        files = [a.get("contentUrl") or a.get("name") or ""
                 for a in payload.get("attachments") or [] if isinstance(a, dict)]
        return self._extension(form, locale, {
            "employee": author, "text": plain_text(str(body.get("content") or "")),
            "attachment": next(filter(None, files), "")})

    async def extension_submit(self, user: str, value: dict, event: Event) -> dict:
        form = EXTENSIONS[str(value.get("commandId"))]
        data = value.get("data") if isinstance(value.get("data"), dict) else {}
        answers = {name: str(data.get(name) or "") for name, _l, _o in EXTENSION_FIELDS[form]}
        locale = await self._locale(user)
        command, problems = await run_in_threadpool(self._command, form, answers)
        errors = {name: render_message(Message(key), locale) for name, key in problems.items()}
        if command is not None:
            reply, locale = await run_in_threadpool(self.inbound.run, user, command, event)
            if reply.ok:
                return {"composeExtension": {"type": "message",
                                             "text": render_reply(reply, locale)}}
            errors[EXTENSION_FIELDS[form][0][0]] = render_reply(reply, locale)
        return self._extension(form, locale, answers, errors)

    def _command(self, form: str, answers: dict[str, str]) -> tuple[Command | None, dict]:
        """The command an extension's answers make, or each field's problem (a message
        key). Blocking: it reads who the people picked are."""
        picker, text_field = ("employee", "text") if form == PRAISE else ("colleague", "why")
        handles = self.inbound.picked(
            [aad.strip() for aad in answers[picker].split(",") if aad.strip()])
        text = " ".join(answers[text_field].split())
        if problems := people_form_problems(picker, handles, text_field, text):
            return None, problems
        if form == THANKS:
            return Thank(handles[0], text, public=answers["team"] == "true"), {}
        return PraiseLog(text, handles[0], answers["attachment"].strip(),
                         also=tuple(handles[1:])), {}

    def _extension(self, form: str, locale: str, answers: dict,
                   errors: dict | None = None) -> dict:
        return cards.dialog(self._title(form, locale), cards.form_card(
            EXTENSION_FIELDS[form], locale, {"form": form}, answers, errors))
