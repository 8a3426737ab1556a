"""The web console's words: the chat's catalog (handlers/i18n.py) holds them too; the
console's own phrases have keys of their own (`nav.*`, `col.*`, `web.*`, …)."""

from typing import Any

from handlers.base import Message
from handlers.i18n import render_message


def text(key: str, locale: str, **params: Any) -> str:
    """A console phrase in the reader's language (KeyError: a missing phrase)."""
    return render_message(Message(key, params), locale)
