"""What `frontline doctor` reports: one finding per thing an installer must get right,
in the installer's language (message keys `doctor.*` in the catalogs), and for each
that does not hold, the console step that fixes it."""

from dataclasses import dataclass

from handlers.base import Message


@dataclass(frozen=True)
class Finding:
    ok: bool
    said: Message  # what was checked, as found
    fix: Message | None = None  # where it does not hold: the step that fixes it


def holds(key: str, **params: object) -> Finding:
    return Finding(True, Message(key, params))


def fails(key: str, fix: str, **params: object) -> Finding:
    """A finding that does not hold; `fix` is the key of the step that fixes it, given
    the same parameters."""
    return Finding(False, Message(key, params), Message(fix, params))
