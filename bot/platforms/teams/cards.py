"""Adaptive Cards for Frontline's replies and requests. Every button is a Universal
Action (`Action.Execute`, verb "frontline") that carries its command and the text
the card shows, so the card can be redrawn after a decision; Decline opens a reason
field in the card itself."""

from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes

from bot.kit import markdown_text
from bot.kit import pieces as cut
from bot.platforms.teams import limits
from handlers import limits as fields
from handlers.base import Action, Message, Reply
from handlers.grammar import parse
from handlers.i18n import render_message, render_reply
from handlers.registry import OpenForm
from storage.enums import CompensationKind

VERB = "frontline"
SHOWN_LIMIT = 4000  # characters of the card's text carried in each button
MULTILINE = {"reason", "why", "done_instead", "text"}
Card = dict[str, Any]


def text_block(text: str, **style: Any) -> dict:
    """Text shown as typed: a TextBlock reads Markdown (links, emphasis), so it is
    escaped; a card's titles, labels and inputs are plain text."""
    return {"type": "TextBlock", "text": markdown_text(text), "wrap": True, **style}


def plain_text(text: str) -> Activity:
    """A message of plain text: Teams reads a message's text as Markdown (and some
    HTML) unless it is told it is plain."""
    return Activity(type=ActivityTypes.message, text=text, text_format="plain")


def card(body: list[dict], actions: list[dict] | None = None) -> Card:
    shown: Card = {"type": "AdaptiveCard", "$schema":
                   "http://adaptivecards.io/schemas/adaptive-card.json",
                   "version": "1.4", "body": body}
    if actions:
        shown["actions"] = actions
    return shown


def attachment(content: Card) -> dict:
    return {"contentType": "application/vnd.microsoft.card.adaptive", "content": content}


def execute(title: str, data: dict, style: str | None = None) -> dict:
    action = {"type": "Action.Execute", "verb": VERB, "title": title, "data": data}
    if style:
        action["style"] = style
    return action


def buttons(actions: list[Action], shown: str, locale: str) -> list[dict]:
    made = []
    for action in actions:
        title = render_message(Message(action.label), locale)
        data = {"command": action.command, "shown": shown[:SHOWN_LIMIT]}
        form = parse(action.command)
        if isinstance(form, OpenForm):  # "Report" on an open waiver: its dialog
            made.append(open_form(title, {"form": form.form, "waiver": form.waiver}))
        elif action.label == "action.decline":  # the reason is asked in the card
            made.append({"type": "Action.ShowCard", "title": title, "card": card(
                [{"type": "Input.Text", "id": "reason", "isMultiline": True,
                  "maxLength": fields.limit("comment"),
                  "label": render_message(Message("label.decline_reason"), locale)}],
                [execute(title, data, "destructive")])})
        else:
            made.append(execute(title, data,
                                "positive" if action.label == "action.approve" else None))
    return made


def reply_card(reply: Reply, locale: str) -> Card:
    text = "\n\n".join(render_message(m, locale) for m in reply.messages)
    return card([text_block(text)], buttons(reply.actions, text, locale))


def reply_activity(reply: Reply, locale: str) -> Activity:
    """A reply as one message: plain text, or a card when it has buttons."""
    return reply_activities(reply, locale)[0]


def reply_activities(reply: Reply, locale: str) -> list[Activity]:
    """A reply as the messages Teams takes: plain text in pieces within its size limit
    (limits.TEXT_BYTES), or a card when it has buttons."""
    if not reply.actions:
        return [plain_text(piece) for piece in pieces(render_reply(reply, locale))]
    return [Activity(type=ActivityTypes.message,
                     attachments=[attachment(reply_card(reply, locale))])]


def size(text: str) -> int:
    """Bytes as Teams counts a message: UTF-16."""
    return len(text.encode("utf-16-le"))


def pieces(text: str, limit: int = limits.TEXT_BYTES) -> list[str]:
    """`text` cut at line breaks into pieces of at most `limit` bytes (a line longer than
    that is cut where it must); all of it, in order."""
    return [part.removesuffix("\n") for part in cut(text, lambda part: size(part) <= limit)]


def decided_card(shown: str, outcome: str, decided_by: str) -> Card:
    """The request after its decision: no buttons, who decided and when."""
    return card([text_block(shown), text_block(outcome, weight="bolder"),
                 text_block(decided_by, isSubtle=True, spacing="small")])


# --- dialogs (task modules) ---------------------------------------------------
def open_form(title: str, data: dict) -> dict:
    """A button that opens a dialog (`task/fetch`); Universal Actions cannot."""
    return {"type": "Action.Submit", "title": title,
            "data": {**data, "msteams": {"type": "task/fetch"}}}


def dialog(title: str, content: Card) -> dict:
    return {"task": {"type": "continue", "value": {
        "title": title[:100], "card": attachment(content)}}}


PICKERS = {"employee": True, "colleague": False}  # a people picker's field -> several?
PEOPLE = "graph.microsoft.com/users"  # the whole organisation's directory


def people_picker(name: str, label: str, value: str, several: bool) -> dict:
    """Teams' people picker: its value, and what it submits, are Entra object ids,
    comma-separated when several may be picked; searching the organisation works in
    dialogs (and 1:1 chats with a bot, tabs).
    https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/people-picker"""
    return {"type": "Input.ChoiceSet", "id": name, "label": label, "value": value,
            "isRequired": True, "isMultiSelect": several, "choices": [],
            "choices.data": {"type": "Data.Query", "dataset": PEOPLE}}


def _input(name: str, label: str, value: str, locale: str, optional: bool) -> dict:
    if name in PICKERS:
        return people_picker(name, label, value, PICKERS[name])
    if name == "team":  # thanks told to the colleague's team too
        return {"type": "Input.Toggle", "id": name, "label": label, "valueOn": "true",
                "valueOff": "false", "value": "true" if value == "true" else "false",
                "title": render_message(Message("label.thanks_team_post"), locale)}
    if name == "kind":
        return {"type": "Input.ChoiceSet", "id": name, "label": label, "value": value,
                "isRequired": not optional, "choices": [
                    {"title": render_message(Message(f"kind.{kind}"), locale), "value": kind}
                    for kind in sorted(CompensationKind)]}
    return {"type": "Input.Text", "id": name, "label": label, "value": value[:3000],
            "isRequired": not optional, "isMultiline": name in MULTILINE,
            "maxLength": fields.limit(name)}


def form_card(fields: list[tuple[str, str, bool]], locale: str, data: dict,
              answers: dict[str, str] | None = None, errors: dict[str, str] | None = None,
              note: str = "") -> Card:
    """One input per (name, label key, optional) field, each followed by its error, if
    any; the answers given so far are kept."""
    answers, errors = answers or {}, errors or {}
    body = [text_block(note, isSubtle=True)] if note else []
    for name, label, optional in fields:
        body.append(_input(name, render_message(Message(label), locale),
                           str(answers.get(name) or ""), locale, optional))
        if name in errors:
            body.append(text_block(errors[name], color="attention", spacing="none"))
    return card(body, [{"type": "Action.Submit", "data": data,
                        "title": render_message(Message("modal.submit"), locale)}])
