"""What every platform's recording channel shares (`RecordingChannel`): a praise
recording's bytes, whether the shared-chat post it goes with has gone out, and a file
name that tells its type.

A recording is an outbox channel of its own, delivered after the post it goes with:
a recording that fails to upload is retried without posting the praise again, and
a recording is uploaded only once its post has gone out."""

import mimetypes
from typing import Protocol

from sqlalchemy import Engine
from sqlmodel import select

from bot.kit.outbox import Notification, for_shared_chat
from storage.engine import transaction
from storage.models import OutboxDelivery, Recording

# Chats tell a file's type by its name: the extensions they play for what comes in.
EXTENSIONS = {"audio/ogg": ".ogg", "audio/opus": ".opus", "audio/mpeg": ".mp3",
              "audio/mp4": ".m4a", "audio/x-m4a": ".m4a", "audio/aac": ".aac",
              "audio/amr": ".amr", "audio/wav": ".wav", "audio/x-wav": ".wav",
              "audio/webm": ".webm"}


def filename(name: str, content_type: str) -> str:
    kind = content_type.split(";", 1)[0].strip().lower()
    return name + (EXTENSIONS.get(kind) or mimetypes.guess_extension(kind) or "")


def posted(engine: Engine, outbox_id: int, channel: str) -> bool:
    """Whether `channel` has delivered the notification."""
    with transaction(engine) as session:
        return session.exec(select(OutboxDelivery.outbox_id).where(
            OutboxDelivery.outbox_id == outbox_id,
            OutboxDelivery.channel == channel)).first() is not None


def recording(engine: Engine, recording_id: int) -> tuple[bytes, str] | None:
    """A kept recording's bytes and content type (None: no longer kept)."""
    with transaction(engine) as session:
        row = session.get(Recording, recording_id)
        return (row.data, row.content_type) if row else None


class SharedChatChannel(Protocol):
    name: str
    team: str | None


class RecordingChannel:
    """The recordings of the notifications one shared chat's channel (`post`) posts.
    A platform's subclass says how to `send` one into that chat."""

    def __init__(self, engine: Engine, post: SharedChatChannel) -> None:
        self.engine, self.team, self.after = engine, post.team, post.name
        self.name = f"{post.name}:recording"

    def wants(self, notification: Notification) -> bool:
        return (for_shared_chat(notification, self.team)
                and notification.message.params.get("recording_id") is not None)

    def deliver(self, notification: Notification) -> None:
        if not posted(self.engine, notification.outbox_id, self.after):
            raise RuntimeError("the post this recording goes with has not gone out yet")
        kept = recording(self.engine, int(notification.message.params["recording_id"]))
        if kept is None:  # no longer kept: nothing to play
            return
        data, content_type = kept
        self.send(notification, data, content_type,
                  str(notification.message.params.get("ref") or "recording"))

    def send(self, notification: Notification, data: bytes, content_type: str,
             ref: str) -> None:
        raise NotImplementedError
