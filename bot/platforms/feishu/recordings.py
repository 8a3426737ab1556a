"""A praise recording, sent to the group chat that shows the praise, so the chat plays
the voice: an Ogg/Opus recording as a voice message (msg_type "audio", the only
format Feishu plays), any other as a file.

It is an outbox channel of its own, delivered after the post it goes with: a
recording that fails to go out is retried without posting the praise again, and it
goes out only once its post has."""

from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bot.kit import Notification, RecordingChannel
from bot.platforms.feishu.api import FeishuApi

if TYPE_CHECKING:  # for annotations only: bot.platforms.feishu.channels imports this module
    from bot.platforms.feishu.channels import FeishuChatChannel

VOICE = {"audio/ogg", "audio/opus"}  # Opus (in Ogg), which Feishu plays as a voice message


class FeishuRecordingChannel(RecordingChannel):
    def __init__(self, api: FeishuApi, engine: Engine, post: "FeishuChatChannel") -> None:
        super().__init__(engine, post)
        self.api, self.chat_id = api, post.chat_id

    def send(self, notification: Notification, data: bytes, content_type: str,
             ref: str) -> None:
        voice = content_type.split(";", 1)[0].strip().lower() in VOICE
        file_key = self.api.upload(data, "opus" if voice else "stream",
                                   ref + (".opus" if voice else ""))
        self.api.send("chat_id", self.chat_id, "audio" if voice else "file",
                      {"file_key": file_key},
                      f"frontline-{notification.outbox_id}-{self.chat_id}-rec")
