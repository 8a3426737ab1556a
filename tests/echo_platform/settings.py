"""`[platforms.echo]`."""

from typing import ClassVar

from bot.kit import PlatformSettings

PLATFORM = "echo"


class Settings(PlatformSettings):
    section: ClassVar[str] = PLATFORM

    token_env: str = "ECHO_TOKEN"  # callers must send it
    all_staff_room: str = ""
