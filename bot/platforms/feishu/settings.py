"""`[platforms.feishu]`: a Feishu or Lark custom app (自建应用). Every *_env names an
environment variable."""

from typing import ClassVar

from pydantic import Field

from bot.kit import PlatformSettings

PLATFORM = "feishu"
DOMAINS = {"feishu": "https://open.feishu.cn", "lark": "https://open.larksuite.com"}


class Settings(PlatformSettings):
    section: ClassVar[str] = PLATFORM

    app_id: str = ""  # cli_…, from 凭证与基础信息
    app_secret_env: str = "FEISHU_APP_SECRET"
    encrypt_key_env: str = "FEISHU_ENCRYPT_KEY"  # HTTP mode: 事件与回调 → 加密策略
    verification_token_env: str = "FEISHU_VERIFICATION_TOKEN"  # HTTP mode
    # "feishu" (open.feishu.cn), "lark" (open.larksuite.com), or an https origin.
    domain: str = Field(default="feishu", pattern=r"^(feishu|lark|https?://[^/?#]+)$")
    mode: str = Field(default="long_connection", pattern=r"^(long_connection|http)$")
    replay_window_seconds: int = Field(default=300, ge=30)
    # Group chats (chat ids, oc_…) that receive broadcasts: all-staff posts, and each
    # team's posts.
    all_staff_chats: list[str] = Field(default_factory=list)
    team_chats: dict[str, list[str]] = Field(default_factory=dict)

    def base_url(self) -> str:
        return DOMAINS.get(self.domain, self.domain)
