"""`[platforms.teams]`: a Teams bot (an Azure Bot / Teams Developer Portal app
registration). Every *_env names an environment variable."""

from typing import ClassVar

from pydantic import Field

from bot.kit import PlatformSettings

PLATFORM = "teams"


class Settings(PlatformSettings):
    section: ClassVar[str] = PLATFORM

    app_id: str = ""  # the bot's Microsoft App ID (Entra application / client id)
    tenant_id: str = ""  # the Entra tenant of a single-tenant bot
    secret_env: str = "TEAMS_APP_SECRET"  # the app registration's client secret
    # Or a certificate instead: the variable named here holds the path of a PEM file
    # with the private key and the certificate uploaded to the app registration.
    certificate_env: str = ""
    # Where tokens come from and where their signing keys are published. Defaults
    # are Microsoft's; a test points them at a local fake.
    login_base: str = "https://login.microsoftonline.com"
    openid_metadata_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    issuers: list[str] = Field(default_factory=lambda: ["https://api.botframework.com"])
    clock_skew_seconds: int = Field(default=300, ge=0, le=600)
    # Conversation ids (19:…@thread.tacv2) of the channels that receive broadcasts:
    # all-staff posts, and each team's posts. The bot must be installed there.
    all_staff_channel: str = ""
    team_channels: dict[str, str] = Field(default_factory=dict)
    retry_after_cap_seconds: int = Field(default=10, ge=0, le=60)  # wait out a 429 this long
