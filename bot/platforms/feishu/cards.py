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


def post(text: str, touching_ref: str | None = None) -> dict:
    """A shared-chat post; a praise gets the "❤️ 感动 · Touching" button."""
    elements: list[dict] = [{"tag": "div", "text": _text(text)}]
    if touching_ref:
        zh, en = (render_message(Message("action.touching"), loc) for loc in ("zh", "en"))
        elements.append(_buttons([(f"{zh} · {en.removeprefix('❤️ ')}",
                                   {"command": f"touching {touching_ref}"})]))
    return _card("Frontline", "orange" if touching_ref else "blue", elements)
