"""Block Kit for Frontline's replies, forms and App Home. Text is rendered in the
reader's language; every button carries its command as its value."""

import json
from typing import Any

from bot.kit import pieces as cut
from bot.platforms.slack.limits import (
    BLOCKS_PER_MESSAGE,
    BUTTONS_PER_BLOCK,
    MESSAGE_TEXT,
    MODAL_TITLE,
    OPTION_TEXT,
    PRIVATE_METADATA,
    SECTION_TEXT,
)
from handlers import limits
from handlers.base import Action, Message, Reply
from handlers.forms import Form
from handlers.i18n import render_message
from storage.enums import CompensationKind

ACTION_PREFIX = "frontline:"  # every button's action_id starts with it
Block = dict[str, Any]


def escape(text: str) -> str:
    """Text as mrkdwn that shows it as typed: a stored name cannot become `<!channel>`,
    a mention or a link. Every `text` Slack is sent is mrkdwn, a message's top-level
    one too (its notification), so each goes through here."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(key: str, locale: str, **params: Any) -> dict:
    return {"type": "plain_text", "text": render_message(Message(key, params), locale)[:150]}


def section(text: str) -> Block:
    """One section; the caller keeps `text` within a section (`sections` splits it)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": escape(text)[:SECTION_TEXT]}}


def sections(text: str) -> list[str]:
    """`text` in parts that each fit a section once escaped (Slack counts the escaped
    characters: `&amp;` is five)."""
    return cut(text, lambda part: len(escape(part)) <= SECTION_TEXT)


def pieces(reply: Reply, locale: str) -> list[tuple[str, list[Block]]]:
    """A reply as the messages Slack takes, in order: each one's text within
    chat.postMessage's limit, its blocks within a message's, every section within a
    section's; the buttons come with the last one. Most replies are one piece."""
    text = "\n".join(render_message(m, locale) for m in reply.messages)
    shown = buttons(reply.actions, locale)
    out: list[tuple[str, list[Block]]] = []
    room = BLOCKS_PER_MESSAGE
    for part in cut(text, lambda part: len(escape(part)) <= MESSAGE_TEXT):
        chunks = sections(part)
        for start in range(0, len(chunks), room):
            group = chunks[start:start + room]
            out.append(("".join(group).strip("\n") or part[:1], [section(c) for c in group]))
    last_text, last_blocks = out[-1]
    if len(last_blocks) + len(shown) <= BLOCKS_PER_MESSAGE:
        out[-1] = (last_text, [*last_blocks, *shown])
    elif shown:
        out.append((last_text[-200:], shown))
    return [(escape(text), shown) for text, shown in out]


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(text)[:3000]}]}


def buttons(actions: list[Action], locale: str) -> list[Block]:
    blocks = []
    for start in range(0, len(actions), BUTTONS_PER_BLOCK):
        elements = []
        for n, action in enumerate(actions[start:start + BUTTONS_PER_BLOCK], start):
            button = {"type": "button", "action_id": f"{ACTION_PREFIX}{n}",
                      "text": plain(action.label, locale), "value": action.command}
            if action.label == "action.approve":
                button["style"] = "primary"
            elif action.label == "action.decline":
                button["style"] = "danger"
            elements.append(button)
        blocks.append({"type": "actions", "elements": elements})
    return blocks


def reply_blocks(reply: Reply, locale: str) -> list[Block]:
    """A short reply's blocks (App Home, a card): every section within its limit."""
    text = "\n".join(render_message(m, locale) for m in reply.messages)
    return [*(section(chunk) for chunk in sections(text)), *buttons(reply.actions, locale)]


def _input(block_id: str, label: str, element: dict, locale: str, optional: bool = False,
           ) -> Block:
    return {"type": "input", "block_id": block_id, "optional": optional,
            "label": plain(label, locale), "element": {**element, "action_id": "value"}}


def _text_input(field: str, initial: str = "", multiline: bool = False) -> dict:
    """A text input for the command field `field`, taking no more than it may hold."""
    most = limits.limit(field)
    element: dict = {"type": "plain_text_input", "multiline": multiline, "max_length": most}
    if initial:
        element["initial_value"] = initial[:most]
    return element


def _modal(callback_id: str, title: str, locale: str, blocks: list[Block],
           metadata: dict | None = None, **title_params: Any) -> dict:
    return {"type": "modal", "callback_id": callback_id,
            "title": {"type": "plain_text",
                      "text": render_message(Message(title, title_params), locale)[:MODAL_TITLE]},
            "submit": plain("modal.submit", locale), "close": plain("modal.close", locale),
            "private_metadata": json.dumps(metadata or {}), "blocks": blocks}


def form_modal(form: Form, locale: str, note: str = "", initial: dict | None = None) -> dict:
    """One input per field; `note` (e.g. the caller's remaining authority) on top."""
    initial = initial or {}
    blocks = [context(note)] if note else []
    for field in form.fields:
        if field.name == "kind":
            element = {"type": "static_select", "options": [
                option(f"kind.{kind}", kind, locale) for kind in sorted(CompensationKind)]}
        else:
            element = _text_input(field.name, initial.get(field.name, ""),
                                  field.name in ("reason", "why"))
        blocks.append(_input(field.name, field.label, element, locale, field.optional))
    return _modal(f"form:{form.name}", f"modal.{form.name}", locale, blocks)


def decline_modal(command: str, ref: str, channel: str, ts: str, shown: list[Block],
                  locale: str) -> dict:
    """`shown`: the request's blocks, to redraw it once declined (if they fit the
    modal's 3,000-character private metadata)."""
    metadata = {"command": command, "channel": channel, "ts": ts, "shown": shown}
    if len(json.dumps(metadata)) > PRIVATE_METADATA:
        metadata["shown"] = []
    return _modal("decline_reason", "modal.decline", locale, [
        _input("reason", "label.decline_reason", _text_input("comment", multiline=True),
               locale)],
        metadata, ref=ref)


def option(key: str, value: str, locale: str) -> dict:
    text = render_message(Message(key), locale)[:OPTION_TEXT]
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def praise_modal(text: str, author: str, attachment: str, locale: str,
                 most: int | None = None) -> dict:
    """Customer praise for one colleague or several (a team praise, of at most `most`)."""
    people: dict = {"type": "multi_users_select"}
    if most:
        people["max_selected_items"] = most
    if author:
        people["initial_users"] = [author]
    return _modal("log_praise", "modal.praise", locale, [
        _input("employee", "label.employee", people, locale),
        _input("text", "label.praise_text", _text_input("text", text, multiline=True), locale),
        _input("attachment", "label.attachment", _text_input("attachment", attachment), locale,
               optional=True),
    ])


def thanks_modal(author: str, locale: str) -> dict:
    """Thanks for one colleague (the message's author, to begin with), told to their
    team too when the box is ticked."""
    person: dict = {"type": "users_select"}
    if author:
        person["initial_user"] = author
    return _modal("thanks", "modal.thanks", locale, [
        _input("colleague", "label.thanks_colleague", person, locale),
        _input("why", "label.thanks_why", _text_input("why", multiline=True), locale),
        _input("team", "label.thanks_team", {"type": "checkboxes", "options": [
            option("label.thanks_team_post", "team", locale)]}, locale, optional=True),
    ])


def submitted(view: dict) -> dict[str, str]:
    """The answers of a submitted modal, by block id."""
    answers = {}
    for block_id, actions in view["state"]["values"].items():
        value = actions.get("value", {})
        answers[block_id] = (value.get("value") or value.get("selected_user")
                             or (value.get("selected_option") or {}).get("value") or "")
    return answers


def picked(view: dict, block_id: str) -> list[str]:
    """What a submitted modal's multiple choice holds: the users picked, or the values
    of the boxes ticked."""
    value = view["state"]["values"].get(block_id, {}).get("value", {})
    return value.get("selected_users") or [
        chosen["value"] for chosen in value.get("selected_options") or []]


def home_view(replies: list[Reply], locale: str) -> dict:
    blocks: list[Block] = []
    for reply in replies:
        if blocks:
            blocks.append({"type": "divider"})
        blocks.extend(reply_blocks(reply, locale))
    return {"type": "home", "blocks": blocks[:100]}
