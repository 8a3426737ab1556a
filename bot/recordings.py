"""What every platform's recording channel needs: a praise recording's bytes, whether
the shared-chat post it goes with has gone out, and a file name that tells its type.

A recording is an outbox channel of its own, delivered after the post it goes with:
a recording that fails to upload is retried without posting the praise again, and
a recording is uploaded only once its post has gone out."""

import mimetypes

from sqlalchemy import Engine
from sqlmodel import select

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
