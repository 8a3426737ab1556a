"""The outbox through Feishu: a person by open_id (a card with 批准 / 拒绝 when there is
a decision to make), and every configured group chat as its own outbox channel, so a
post that reached one chat and failed in another is retried only where it failed.
A praise's recording follows its post as an outbox channel of its own (recordings.py).
Every send carries a uuid made of the notification (and the chat), so a retry after a
lost answer or a rate limit never posts twice."""

from sqlalchemy import Engine

from bot.kit import Config, Notification, for_shared_chat, remember_post
from bot.platforms.feishu import cards
from bot.platforms.feishu.api import FeishuApi
from bot.platforms.feishu.recordings import FeishuRecordingChannel
from bot.platforms.feishu.settings import PLATFORM
from handlers.i18n import render_message


class FeishuChannel:
    """People, in their one-to-one chat with the bot."""

    name = PLATFORM

    def __init__(self, api: FeishuApi) -> None:
        self.api = api

    def wants(self, notification: Notification) -> bool:
        return notification.recipient is not None and PLATFORM in notification.identities

    def deliver(self, notification: Notification) -> None:
        locale = notification.recipient.locale
        text = render_message(notification.message, locale)
        open_id = notification.identities[PLATFORM]
        uuid = f"frontline-{notification.outbox_id}"
        if notification.actions:
            self.api.send_card("open_id", open_id, cards.decision(
                text, list(notification.actions), locale), uuid)
        else:
            self.api.send_text("open_id", open_id, text, uuid)


class FeishuChatChannel:
    """One group chat: all-staff posts (team None), or one team's posts."""

    def __init__(self, api: FeishuApi, engine: Engine, chat_id: str, team: str | None) -> None:
        self.api, self.engine, self.chat_id, self.team = api, engine, chat_id, team
        self.name = f"{PLATFORM}:{chat_id}"

    def wants(self, notification: Notification) -> bool:
        return for_shared_chat(notification, self.team)

    def deliver(self, notification: Notification) -> None:
        ref = notification.message.params.get("ref")
        touching = ((notification.shared_label("action.touching"), ref)
                    if notification.message.key == "broadcast.praise" else None)
        message_id = self.api.send_card(
            "chat_id", self.chat_id, cards.post(notification.shared(), touching),
            f"frontline-{notification.outbox_id}-{self.chat_id}")
        if ref:
            remember_post(self.engine, PLATFORM, self.chat_id, message_id, ref)


def _chat(api: FeishuApi, engine: Engine, chat_id: str, team: str | None) -> list:
    """A group chat's posts, then the recordings that go with them (in this order: a
    recording goes out only after its post)."""
    post = FeishuChatChannel(api, engine, chat_id, team)
    return [post, FeishuRecordingChannel(api, engine, post)]


def channels(api: FeishuApi, engine: Engine, config: Config) -> list:
    settings = config.platforms.feishu
    found: list = [FeishuChannel(api)]
    for chat in settings.all_staff_chats:
        found += _chat(api, engine, chat, None)
    for team, chats in settings.team_chats.items():
        for chat in chats:
            found += _chat(api, engine, chat, team)
    return found
