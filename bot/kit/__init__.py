"""The platform kit: everything a platform package (bot/platforms/<name>/) may import,
through this public face only (`from bot.kit import Inbound, inbox_for, ...`).

- `Platform`, `PlatformSettings`: the contract a platform keeps and its settings' base;
  `Config`, `ConfigError`: the whole configuration, built from every platform's section
- `Inbound`, `Event`: the one way in for a platform's events (`people_form_problems`:
  a praise or thanks form's field errors); `inbox_for`: requests
  stored before the ack and run after on a work pool, one person's in order
- `Channel`, `Notification`, `for_shared_chat`, `remember_post`: notifications out,
  through a platform's channels
- `ReceiverRole`: the role only one worker may hold (a Telegram poller, a long connection)
- `shared_state`: what workers share through the database (forms, rate windows,
  tokens); `RecordingChannel`, `filename`: voice notes kept with praise; `MsgCrypt`,
  `CallbackError`, `BLOCK`: the callback encryption WeCom and DingTalk share
- `pieces`: a long text as the messages a platform takes, cut at line breaks
- `markdown_text`, `terminal_text`: stored text made safe for Markdown, for a terminal
- `Finding`, `holds`, `fails`: what a platform tells `frontline doctor` (`Platform.findings`)

Names load on first use (PEP 562), so importing one kit module never pays for all of
them: the command line starts without the web stack. Platforms import this face and
nothing else of bot/, and never each other (import-linter contracts in pyproject.toml).
"""

from importlib import import_module

_HOME = {  # public name -> the kit module that defines it
    "Platform": "platform", "PlatformSettings": "platform",
    "ConfigError": "platform", "Config": "config",
    "Event": "inbound", "Inbound": "inbound", "people_form_problems": "inbound",
    "inbox_for": "inbox",
    "Channel": "outbox", "Notification": "outbox", "for_shared_chat": "outbox",
    "remember_post": "outbox",
    "ReceiverRole": "receiver_role",
    "RecordingChannel": "recordings", "filename": "recordings",
    "Finding": "doctor", "holds": "doctor", "fails": "doctor",
    "pieces": "cutting",
    "markdown_text": "escaping", "terminal_text": "escaping",
    "BLOCK": "msgcrypt", "CallbackError": "msgcrypt", "MsgCrypt": "msgcrypt",
}
_MODULES = {"shared_state"}  # offered whole: `shared_state.spend(...)` says what it is
__all__ = [*_HOME, *_MODULES]


def __getattr__(name: str) -> object:
    if name in _MODULES:
        return import_module(f".{name}", __name__)
    if name not in _HOME:
        raise AttributeError(f"module 'bot.kit' has no attribute {name!r}")
    return getattr(import_module(f".{_HOME[name]}", __name__), name)
