"""Adaptive Cards for Frontline's replies and requests. Every button is a Universal
Action (`Action.Execute`, verb "frontline") that carries its command and the text
the card shows, so the card can be redrawn after a decision; Decline opens a reason
field in the card itself."""

from typing import Any

from handlers.base import Action, Message, Reply
from handlers.i18n import render_message

VERB = "frontline"
SHOWN_LIMIT = 4000  # characters of the card's text carried in each button
Card = dict[str, Any]


def text_block(text: str, **style: Any) -> dict:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


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
        if action.label == "action.decline":  # the reason is asked in the card
            made.append({"type": "Action.ShowCard", "title": title, "card": card(
                [{"type": "Input.Text", "id": "reason", "isMultiline": True,
                  "label": render_message(Message("label.decline_reason"), locale)}],
                [execute(title, data, "destructive")])})
        else:
            made.append(execute(title, data,
                                "positive" if action.label == "action.approve" else None))
    return made


def reply_card(reply: Reply, locale: str) -> Card:
    text = "\n\n".join(render_message(m, locale) for m in reply.messages)
    return card([text_block(text)], buttons(reply.actions, text, locale))


def decided_card(shown: str, outcome: str, decided_by: str) -> Card:
    """The request after its decision: no buttons, who decided and when."""
    return card([text_block(shown), text_block(outcome, weight="bolder"),
                 text_block(decided_by, isSubtle=True, spacing="small")])
