"""The outbox through DingTalk: a person through the robot's one-to-one chat (an
interactive card with buttons when there is a decision to make), each configured
group chat through the app robot (a praise post as a card with a "❤️ 感动" button,
its recording as a file after it),
and each custom robot through its signed webhook. Each group and robot is an outbox
channel of its own, so a retry resends only where a post did not go out."""

import hashlib

from sqlalchemy import Engine

from bot.kit import (
    Notification,
    RecordingChannel,
    filename,
    for_shared_chat,
    markdown_text,
)
from bot.platforms.dingtalk.api import DingTalkApi
from bot.platforms.dingtalk.limits import pieces
from bot.platforms.dingtalk.settings import PLATFORM, CustomRobot
from handlers.base import Message
from handlers.i18n import render_message

TITLE = "Frontline"
MAX_BUTTONS = 3  # the card template's button slots: action1 … action3


def card_params(text: str, buttons: list[tuple[str, str]]) -> dict[str, str]:
    """The card template's variables: the text (shown as Markdown, so escaped), then
    each button's label and the command its click sends back (the button's callback
    parameter `command`)."""
    params = {"title": TITLE, "markdown": markdown_text(text), "decided": "",
              "buttons": "show"}
    for n in range(1, MAX_BUTTONS + 1):
        label, command = buttons[n - 1] if n <= len(buttons) else ("", "")
        params[f"action{n}_label"], params[f"action{n}_command"] = label, command
    return params


class DingTalkPersonChannel:
    name = PLATFORM

    def __init__(self, api: DingTalkApi, card_template: str, route_key: str = "") -> None:
        self.api, self.card_template, self.route_key = api, card_template, route_key

    def wants(self, notification: Notification) -> bool:
        return notification.recipient is not None and PLATFORM in notification.identities

    def deliver(self, notification: Notification) -> None:
        userid = notification.identities[PLATFORM]
        locale = notification.recipient.locale
        if notification.actions and self.card_template:
            buttons = [(render_message(Message(a.label), locale), a.command)
                       for a in notification.actions[:MAX_BUTTONS]]
            self.api.create_card(f"frontline-{notification.outbox_id}", self.card_template,
                                 card_params(render_message(notification.message, locale),
                                             buttons), user=userid,
                                 route_key=self.route_key)
            return
        for piece in pieces(markdown_text(notification.text(locale))):
            self.api.send_to_user(userid, "sampleMarkdown", {"title": TITLE, "text": piece})


def _touching(notification: Notification) -> tuple[str, str] | None:
    """A praise post's "❤️ 感动" button (in Chinese, the first language of a shared post)."""
    ref = str(notification.message.params.get("ref") or "")
    if notification.message.key == "broadcast.praise" and ref.startswith("P"):
        return render_message(Message("action.touching"), "zh"), f"touching {ref}"
    return None


class DingTalkGroupChannel:
    """All-staff posts (team None) or one team's, in a group the app robot is in."""

    def __init__(self, api: DingTalkApi, card_template: str, conversation_id: str,
                 team: str | None, route_key: str = "") -> None:
        self.api, self.card_template, self.route_key = api, card_template, route_key
        self.conversation_id, self.team = conversation_id, team
        self.name = f"{PLATFORM}:{conversation_id}"

    def wants(self, notification: Notification) -> bool:
        return for_shared_chat(notification, self.team)

    def deliver(self, notification: Notification) -> None:
        text = notification.shared()
        touching = _touching(notification)
        if touching and self.card_template:
            chat = hashlib.sha1(self.conversation_id.encode()).hexdigest()[:12]
            self.api.create_card(f"frontline-{notification.outbox_id}-{chat}",
                                 self.card_template,
                                 card_params(text, [touching]),
                                 group=self.conversation_id, route_key=self.route_key)
            return
        for piece in pieces(markdown_text(text)):
            self.api.send_to_group(self.conversation_id, "sampleMarkdown",
                                   {"title": TITLE, "text": piece})


class DingTalkRobotChannel:
    """A group's custom robot: markdown through its signed webhook (a custom robot's
    buttons can only open links, so its posts carry no ❤️ button)."""

    def __init__(self, api: DingTalkApi, robot: CustomRobot, webhook: str, secret: str,
                 team: str | None) -> None:
        self.api, self.webhook, self.secret, self.team = api, webhook, secret, team
        self.name = f"{PLATFORM}:robot:{robot.url_env}"

    def wants(self, notification: Notification) -> bool:
        return for_shared_chat(notification, self.team)

    def deliver(self, notification: Notification) -> None:
        for piece in pieces(markdown_text(notification.shared())):
            self.api.robot_send(self.webhook, self.secret, {
                "msgtype": "markdown", "markdown": {"title": TITLE, "text": piece}})


class DingTalkRecordingChannel(RecordingChannel):
    """Uploaded and sent as a file into the group once the post has gone out."""

    def __init__(self, api: DingTalkApi, engine: Engine, post: DingTalkGroupChannel) -> None:
        super().__init__(engine, post)
        self.api, self.conversation_id = api, post.conversation_id

    def send(self, notification: Notification, data: bytes, content_type: str,
             ref: str) -> None:
        name = filename(ref, content_type)
        media_id = self.api.upload(data, name, content_type)
        self.api.send_to_group(self.conversation_id, "sampleFile", {
            "mediaId": media_id, "fileName": name,
            "fileType": name.rsplit(".", 1)[-1] if "." in name else "file"})
