"""Audio files sent to the bot with `praise` (or right after it): their bytes, for
the praise's recording. Teams gives a file sent to the bot as a pre-authorised
download URL (a `file.download.info` attachment)."""

import mimetypes

import httpx
from microsoft_agents.activity import Activity

from handlers.praise import AttachRecording
from storage.errors import FrontlineError

FILE = "application/vnd.microsoft.teams.file.download.info"
RECORDING_LIMIT = 20 * 1024 * 1024


class RecordingTooLarge(FrontlineError):
    """An audio file over RECORDING_LIMIT: refused, not downloaded further."""


async def recording(activity: Activity) -> AttachRecording | None:
    """The first audio file of the message, downloaded: Teams gives a file sent to
    the bot as a pre-authorised download URL."""
    for item in activity.attachments or []:
        content = item.content if isinstance(item.content, dict) else {}
        name = item.name or ""
        kind = mimetypes.guess_type(name)[0] or ""
        if item.content_type != FILE or not kind.startswith("audio/") \
                or not content.get("downloadUrl"):
            continue
        data = bytearray()
        async with httpx.AsyncClient(timeout=30) as client, client.stream(
                "GET", content["downloadUrl"]) as response:
            response.raise_for_status()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > RECORDING_LIMIT:
                    raise RecordingTooLarge(name)
        source = f"teams:file:{content.get('uniqueId') or name}"
        return AttachRecording(bytes(data), kind, source)
    return None
