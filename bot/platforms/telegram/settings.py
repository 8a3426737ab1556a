"""`[platforms.telegram]`: a Telegram bot. Every *_env names an environment variable."""

from typing import ClassVar

from pydantic import Field

from bot.kit import PlatformSettings

PLATFORM = "telegram"


class Settings(PlatformSettings):
    section: ClassVar[str] = PLATFORM

    token_env: str = "TELEGRAM_BOT_TOKEN"  # from @BotFather
    # The bot's username without the @ (it ends in "bot"); when set, `frontline directory
    # link-code` prints the https://t.me/<username>?start=<code> link that links in a tap.
    bot_username: str = Field(default="", pattern=r"^([A-Za-z][A-Za-z0-9_]{3,31})?$")
    mode: str = Field(default="polling", pattern=r"^(polling|webhook)$")
    webhook_url: str = Field(default="", description="public https URL of /telegram/webhook")
    webhook_secret_env: str = "TELEGRAM_WEBHOOK_SECRET"  # checked on every webhook call
    api_base: str = "https://api.telegram.org/bot"
    file_base: str = "https://api.telegram.org/file/bot"
    # Chat ids (groups are negative) that receive broadcasts: all-staff posts go to
    # `all_staff_chats`, a team's posts to the chats listed under its name.
    all_staff_chats: list[int] = Field(default_factory=list)
    team_chats: dict[str, list[int]] = Field(default_factory=dict)
    touching_reaction: str = "❤"  # a reaction with this emoji marks praise as touching
    form_timeout_minutes: float = Field(default=10, gt=0, le=120)
    # In polling mode one worker polls at a time; when it dies, another takes over
    # within about this long.
    poller_lease_seconds: float = Field(default=30, ge=1, le=600)
