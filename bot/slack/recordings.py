"""A praise recording, uploaded to the Slack channel that shows the praise, so the
channel plays the voice note. Slack's SDK runs the external upload flow
(files.getUploadURLExternal, the bytes to its upload URL, then
files.completeUploadExternal into the channel).

It is an outbox channel of its own, delivered after the post it goes with: a
recording that fails to upload is retried without posting the praise again, and
a recording is uploaded only once its post has gone out."""

from typing import TYPE_CHECKING

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.outbox import Notification, for_shared_chat
from bot.recordings import filename, posted, recording

if TYPE_CHECKING:  # for annotations only: bot.slack.channels imports this module
    from bot.slack.channels import SlackChatChannel


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
        if not posted(self.engine, notification.outbox_id, self.after):
            raise RuntimeError("the post this recording goes with has not gone out yet")
        kept = recording(self.engine, int(notification.message.params["recording_id"]))
        if kept is None:  # no longer kept: nothing to play
            return
        data, content_type = kept
        ref = notification.message.params.get("ref") or "recording"
        self.client.files_upload_v2(channel=self.channel, file=data, title=f"🎧 {ref}",
                                    filename=filename(ref, content_type),
                                    initial_comment=f"🎧 {ref}")
