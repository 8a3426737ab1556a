"""The outbox through the Slack Web API: a person by direct message (Approve /
Decline buttons when there is a decision to make), each broadcast channel as its
own outbox channel, and a praise recording uploaded to that channel as an outbox
channel of its own, so a post and its recording each go out once. A message goes in
the pieces Slack takes (blocks.pieces, limits.py). The WebClient waits out 429
Retry-After (chat.postMessage: about one a second per channel) and retries 5xx.
A person is addressed by their member id: Slack opens the bot's DM with them,
whether or not they ever wrote to it
(https://docs.slack.dev/reference/methods/chat.postMessage, "channel")."""

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.kit import Config, Notification, for_shared_chat, remember_post
from bot.platforms.slack import blocks
from bot.platforms.slack.recordings import SlackRecordingChannel
from bot.platforms.slack.settings import PLATFORM
from handlers.base import Message, Reply
from handlers.i18n import render_message


class SlackChannel:
    name = PLATFORM

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def wants(self, notification: Notification) -> bool:
        return notification.recipient is not None and PLATFORM in notification.identities

    def deliver(self, notification: Notification) -> None:
        locale = notification.recipient.locale
        reply = Reply([notification.message], list(notification.actions))
        for text, shown in blocks.pieces(reply, locale):
            self.client.chat_postMessage(channel=notification.identities[PLATFORM],
                                         text=text, blocks=shown)


class SlackChatChannel:
    """All-staff posts (team None) or one team's posts, in one Slack channel."""

    def __init__(self, client: WebClient, engine: Engine, config: Config, channel: str,
                 team: str | None) -> None:
        self.client, self.engine, self.channel, self.team = client, engine, channel, team
        self.reaction = config.platforms.slack.touching_reaction
        self.name = f"{PLATFORM}:{channel}"

    def wants(self, notification: Notification) -> bool:
        return for_shared_chat(notification, self.team)

    def deliver(self, notification: Notification) -> None:
        text = notification.shared()  # every shared language: may outgrow a section
        shown = [blocks.section(part) for part in blocks.sections(text)]
        ref = notification.message.params.get("ref")
        if notification.message.key == "broadcast.praise":
            shown.append(blocks.context(render_message(
                Message("broadcast.react_hint", {"reaction": self.reaction}), "en")))
        posted = self.client.chat_postMessage(channel=self.channel, text=blocks.escape(text),
                                              blocks=shown)
        if ref:
            remember_post(self.engine, PLATFORM, posted["channel"], posted["ts"], ref)


def _chat(client: WebClient, engine: Engine, config: Config, channel: str,
          team: str | None) -> list:
    """A shared channel's posts, then the recordings that go with them (in this order:
    a recording goes out only after its post)."""
    post = SlackChatChannel(client, engine, config, channel, team)
    return [post, SlackRecordingChannel(client, engine, post)]


def channels(client: WebClient, engine: Engine, config: Config) -> list:
    settings = config.platforms.slack
    found: list = [SlackChannel(client)]
    if settings.all_staff_channel:
        found += _chat(client, engine, config, settings.all_staff_channel, None)
    for team, channel in settings.team_channels.items():
        found += _chat(client, engine, config, channel, team)
    return found
