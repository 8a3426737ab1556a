"""What people type, as Slack sends it, back to plain words and the colleagues they
picked from Slack's @ list.

Slack escapes typed text: `&`, `<`, `>` arrive as `&amp;`, `&lt;`, `&gt;`, and a
mention, a channel or a link arrives between angle brackets (`<@U123|alice>` from a
slash command registered with `should_escape: true`, `<@U123>` in a message event,
`<#C123|general>`, `<https://…|label>`):
https://docs.slack.dev/messaging/formatting-message-text#escaping
https://docs.slack.dev/interactivity/implementing-slash-commands#app_command_handling
"""

import re
from collections.abc import Callable

# <@U123>, <@U123|alice>; W… ids are Enterprise Grid members
_MARKUP = re.compile(r"<([@#!])?([^<>|]*)(?:\|([^<>]*))?>")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def unescape(text: str) -> str:
    for entity, character in _ENTITIES:
        text = text.replace(entity, character)
    return text


def read(text: str, name_of: Callable[[str], str]) -> tuple[str, dict[str, tuple[str, str]]]:
    """`text` as the person typed it, with each mention a word of its own, and the
    mentions by that word -> (user id, the name Slack shows). `name_of(user_id)` gives
    the name of a mention that came without one (users.info)."""
    mentioned: dict[str, tuple[str, str]] = {}

    def plain(match: re.Match) -> str:
        sigil, target, label = match[1], match[2], match[3]
        if sigil == "@" and re.fullmatch(r"[UW][A-Z0-9]+", target):
            word = f"<@{target}>"
            mentioned[word] = (target, unescape(label) if label else name_of(target))
            return f" {word} "
        if sigil == "#":  # a channel: its name
            return f"#{unescape(label or target)}"
        if sigil == "!":  # @here, @channel, a user group
            return f"@{unescape(label or target.split('^')[0])}"
        return unescape(target)  # a link: its address

    out, at = [], 0
    for match in _MARKUP.finditer(text):
        out += [unescape(text[at:match.start()]), plain(match)]
        at = match.end()
    out.append(unescape(text[at:]))
    return "".join(out), mentioned
