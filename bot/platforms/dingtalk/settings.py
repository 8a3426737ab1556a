"""`[platforms.dingtalk]`: an enterprise internal app with its robot. Every *_env
names an environment variable."""

from typing import ClassVar, Literal

from pydantic import Field

from bot.kit import PlatformSettings
from handlers.policy import StrictModel

PLATFORM = "dingtalk"


class CustomRobot(StrictModel):
    """A group's custom robot (自定义机器人) with 加签 security: its webhook URL and
    its SEC… secret, each in an environment variable."""

    url_env: str
    secret_env: str


class Settings(PlatformSettings):
    section: ClassVar[str] = PLATFORM

    mode: Literal["stream", "http"] = "stream"  # Stream: no public URL (DingTalk's advice)
    app_key_env: str = "DINGTALK_APP_KEY"  # Client ID (AppKey)
    app_secret_env: str = "DINGTALK_APP_SECRET"  # Client Secret (AppSecret)
    robot_code: str = ""  # the robot's code; empty: the app key, as for an app's own robot
    api_base: str = "https://api.dingtalk.com"
    oapi_base: str = "https://oapi.dingtalk.com"  # the older API, for media upload
    # The interactive card template (卡片平台) for approvals and praise posts; empty:
    # plain messages with the commands to type. Its buttons call back over Stream, or
    # in HTTP mode to web.public_url's /dingtalk/card/…, registered at start under
    # this callbackRouteKey (https://open.dingtalk.com/document/orgapp/register-card-callback-address).
    card_template_id: str = ""
    card_callback_route_key: str = "frontline"
    # HTTP mode: how far from now a robot callback's timestamp may be. DingTalk refuses
    # more than an hour ("timestamp 与系统当前时间戳如果相差1小时以上，则认为是非法的请求",
    # https://open.dingtalk.com/document/orgapp/receive-message), the most allowed here;
    # but its sign covers the timestamp only, not the body, so a captured one carries any
    # body until it goes stale. DingTalk signs as it sends, so real deliveries arrive
    # within seconds: 5 minutes leaves room for clock drift (as WeCom and Feishu here).
    replay_window_seconds: int = Field(default=300, ge=60, le=3600)
    # HTTP mode, event subscriptions (事件订阅): the encrypted callback's key and token.
    corp_id: str = ""
    event_token_env: str = "DINGTALK_EVENT_TOKEN"
    event_aes_key_env: str = "DINGTALK_EVENT_AES_KEY"
    # Group chats (openConversationId) the app robot posts to: all staff's, each team's.
    all_staff_chat: str = ""
    team_chats: dict[str, str] = Field(default_factory=dict)
    # Custom robots with signed webhooks, for groups the app robot is not in.
    all_staff_robots: list[CustomRobot] = Field(default_factory=list)
    team_robots: dict[str, list[CustomRobot]] = Field(default_factory=dict)
