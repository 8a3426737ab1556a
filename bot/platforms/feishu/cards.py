"""Interactive message cards (消息卡片, JSON 1.0). Every button carries its command in
its value; an approval's buttons also carry the card's text, so the card can be
redrawn after the decision without keeping it anywhere. `update_multi` makes a
redrawn card change for everyone who sees it."""

from handlers.base import Action, Message
from handlers.i18n import render_message

TEXT_LIMIT = 4000  # characters of a card's text kept in its buttons' value


def _text(content: str) -> dict:
    return {"tag": "plain_text", "content": content}


def _card(title: str, template: str, elements: list[dict]) -> dict:
    return {"config": {"wide_screen_mode": True, "update_multi": True},
            "header": {"title": _text(title), "template": template},
            "elements": elements}


def _buttons(actions: list[tuple[str, dict]]) -> dict:
    return {"tag": "action", "actions": [
        {"tag": "button", "text": _text(label), "value": value,
         "type": "primary" if n == 0 else "default"} for n, (label, value) in enumerate(actions)]}


def decision(text: str, actions: list[Action], locale: str) -> dict:
    """A notification with buttons (an approval to decide): its text and the buttons."""
    shown = text[:TEXT_LIMIT]
    return _card("Frontline", "blue", [
        {"tag": "div", "text": _text(text)},
        _buttons([(render_message(Message(a.label), locale),
                   {"command": a.command, "text": shown}) for a in actions])])


def decided(text: str, outcome: str, decided_by: str, ok: bool = True) -> dict:
    """The card after the decision: the buttons gone, the outcome and who decided when."""
    return _card("Frontline", "green" if ok else "grey", [
        {"tag": "div", "text": _text(text)},
        {"tag": "hr"},
        {"tag": "div", "text": _text(outcome)},
        {"tag": "note", "elements": [_text(decided_by)]}])


def post(text: str, touching: tuple[str, str] | None = None) -> dict:
    """A shared-chat post; a praise gets the "❤️ Touching · 感动" button (its label in the
    chat's languages, and the record it marks)."""
    elements: list[dict] = [{"tag": "div", "text": _text(text)}]
    if touching:
        label, ref = touching
        elements.append(_buttons([(label, {"command": f"touching {ref}"})]))
    return _card("Frontline", "orange" if touching else "blue", elements)
