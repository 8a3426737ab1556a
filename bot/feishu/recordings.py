"""A praise recording, sent to the group chat that shows the praise, so the chat plays
the voice: an Ogg/Opus recording as a voice message (msg_type "audio", the only
format Feishu plays), any other as a file.

It is an outbox channel of its own, delivered after the post it goes with: a
recording that fails to go out is retried without posting the praise again, and it
goes out only once its post has."""

from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import select

from bot.feishu.api import FeishuApi
from bot.outbox import Notification, for_shared_chat
from storage.engine import transaction
from storage.models import OutboxDelivery, Recording

if TYPE_CHECKING:  # for annotations only: bot.feishu.channels imports this module
    from bot.feishu.channels import FeishuChatChannel

VOICE = {"audio/ogg", "audio/opus"}  # Opus (in Ogg), which Feishu plays as a voice message


class FeishuRecordingChannel:
    """The recordings of the notifications posted by one group chat (`post`)."""

    def __init__(self, api: FeishuApi, engine: Engine, post: "FeishuChatChannel") -> None:
        self.api, self.engine = api, engine
        self.chat_id, self.team, self.after = post.chat_id, post.team, post.name
        self.name = f"{post.name}:recording"

    def wants(self, notification: Notification) -> bool:
        return (for_shared_chat(notification, self.team)
                and notification.message.params.get("recording_id") is not None)

    def deliver(self, notification: Notification) -> None:
        if not self._posted(notification.outbox_id):
            raise RuntimeError("the post this recording goes with has not gone out yet")
        recording = self._recording(int(notification.message.params["recording_id"]))
        if recording is None:  # no longer kept: nothing to play
            return
        data, content_type = recording
        ref = notification.message.params.get("ref") or "recording"
        voice = content_type.split(";", 1)[0].strip().lower() in VOICE
        file_key = self.api.upload(data, "opus" if voice else "stream",
                                   ref + (".opus" if voice else ""))
        self.api.send("chat_id", self.chat_id, "audio" if voice else "file",
                      {"file_key": file_key},
                      f"frontline-{notification.outbox_id}-{self.chat_id}-rec")

    def _posted(self, outbox_id: int) -> bool:
        with transaction(self.engine) as session:
            return session.exec(select(OutboxDelivery.outbox_id).where(
                OutboxDelivery.outbox_id == outbox_id,
                OutboxDelivery.channel == self.after)).first() is not None

    def _recording(self, recording_id: int) -> tuple[bytes, str] | None:
        with transaction(self.engine) as session:
            row = session.get(Recording, recording_id)
            return (row.data, row.content_type) if row else None
