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

from bot.kit import Notification, RecordingChannel, filename

if TYPE_CHECKING:  # for annotations only: bot.platforms.slack.channels imports this module
    from bot.platforms.slack.channels import SlackChatChannel


class SlackRecordingChannel(RecordingChannel):
    def __init__(self, client: WebClient, engine: Engine, post: "SlackChatChannel") -> None:
        super().__init__(engine, post)
        self.client, self.channel = client, post.channel

    def send(self, notification: Notification, data: bytes, content_type: str,
             ref: str) -> None:
        self.client.files_upload_v2(channel=self.channel, file=data, title=f"🎧 {ref}",
                                    filename=filename(ref, content_type),
                                    initial_comment=f"🎧 {ref}")
