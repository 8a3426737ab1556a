"""`[platforms.wecom]`: a WeCom self-built app. Every *_env names an environment
variable."""

from typing import ClassVar

from pydantic import Field

from bot.kit import PlatformSettings

PLATFORM = "wecom"


class Settings(PlatformSettings):
    section: ClassVar[str] = PLATFORM

    corp_id: str = ""
    agent_id: int = 0
    secret_env: str = "WECOM_SECRET"  # the app's Secret, for gettoken
    token_env: str = "WECOM_TOKEN"  # the callback Token
    aes_key_env: str = "WECOM_AES_KEY"  # the callback EncodingAESKey
    api_base: str = "https://qyapi.weixin.qq.com"
    replay_window_seconds: int = Field(default=300, ge=30)
    # Group robots (webhook keys, from the environment) that receive broadcasts:
    # all-staff posts go to `all_staff_robot_envs`, a team's posts to its own.
    all_staff_robot_envs: list[str] = Field(default_factory=list)
    team_robot_envs: dict[str, list[str]] = Field(default_factory=dict)
