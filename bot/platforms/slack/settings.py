"""`[platforms.slack]`: a Slack app. Every *_env names an environment variable."""

from typing import ClassVar

from pydantic import Field

from bot.kit import PlatformSettings

PLATFORM = "slack"


class Settings(PlatformSettings):
    section: ClassVar[str] = PLATFORM

    mode: str = Field(default="http", pattern=r"^(http|socket)$")
    bot_token_env: str = "SLACK_BOT_TOKEN"  # xoxb-…
    signing_secret_env: str = "SLACK_SIGNING_SECRET"  # HTTP mode: verifies every request
    app_token_env: str = "SLACK_APP_TOKEN"  # Socket Mode: xapp-… with connections:write
    api_base: str = "https://slack.com/api/"
    command: str = Field(default="/frontline", pattern=r"^/[a-z0-9_-]{1,31}$")
    alias: str = Field(default="/fl", pattern=r"^(/[a-z0-9_-]{1,31})?$")
    # Channel ids that receive broadcasts: all-staff posts, and each team's posts.
    all_staff_channel: str = ""
    team_channels: dict[str, str] = Field(default_factory=dict)
    touching_reaction: str = "heart"  # the reaction's name, without colons
