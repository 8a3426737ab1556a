"""A praise recording, uploaded to the Slack channel that shows the praise, so the
channel plays the voice note. Slack's SDK runs the external upload flow
(files.getUploadURLExternal, the bytes to its upload URL, then
files.completeUploadExternal into the channel).

It is an outbox channel of its own, delivered after the post it goes with: a
recording that fails to upload is retried without posting the praise again, and
a recording is uploaded only once its post has gone out."""

import mimetypes
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import select

from bot.outbox import Notification, for_shared_chat
from storage.engine import transaction
from storage.models import OutboxDelivery, Recording

if TYPE_CHECKING:  # for annotations only: bot.slack.channels imports this module
    from bot.slack.channels import SlackChatChannel

# Slack tells a file's type by its name: the extensions it plays for what comes in.
EXTENSIONS = {"audio/ogg": ".ogg", "audio/opus": ".opus", "audio/mpeg": ".mp3",
              "audio/mp4": ".m4a", "audio/x-m4a": ".m4a", "audio/aac": ".aac",
              "audio/amr": ".amr", "audio/wav": ".wav", "audio/x-wav": ".wav",
              "audio/webm": ".webm"}


def filename(name: str, content_type: str) -> str:
    kind = content_type.split(";", 1)[0].strip().lower()
    return name + (EXTENSIONS.get(kind) or mimetypes.guess_extension(kind) or "")


class SlackRecordingChannel:
    """The recordings of the notifications posted by one shared channel (`post`)."""

    def __init__(self, client: WebClient, engine: Engine, post: "SlackChatChannel") -> None:
        self.client, self.engine = client, engine
        self.channel, self.team, self.after = post.channel, post.team, post.name
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
        self.client.files_upload_v2(channel=self.channel, file=data, title=f"🎧 {ref}",
                                    filename=filename(ref, content_type),
                                    initial_comment=f"🎧 {ref}")

    def _posted(self, outbox_id: int) -> bool:
        with transaction(self.engine) as session:
            return session.exec(select(OutboxDelivery.outbox_id).where(
                OutboxDelivery.outbox_id == outbox_id,
                OutboxDelivery.channel == self.after)).first() is not None

    def _recording(self, recording_id: int) -> tuple[bytes, str] | None:
        with transaction(self.engine) as session:
            row = session.get(Recording, recording_id)
            return (row.data, row.content_type) if row else None
