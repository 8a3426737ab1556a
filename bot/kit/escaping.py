"""Stored text made safe for where it is shown. Names, praise, reasons and theme names
are typed by people (or come from a platform's profile or a directory import), so they
may carry markup or control characters; each medium gets them as plain text.

- `terminal_text`: a terminal runs ESC sequences and reorders text around bidi controls, so
  every control character but a line break or tab, and every bidi control, is shown as
  its escape (`\\x1b`, `\\u202e`) instead
- `markdown_text`: Markdown flavours (DingTalk, WeCom's group robots, Teams' card text) read
  `*`, `_`, backticks, `[link](...)`, `<tags>` and line-leading `#`; CommonMark lets any
  ASCII punctuation be escaped with a backslash, which shows it as itself
Slack's mrkdwn has its own escaping (bot/platforms/slack/blocks.py), and HTML pages are
escaped by their templates.
"""

import re

_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_CONTROLS = (*range(0x00, 0x20), *range(0x7F, 0xA0))
_SHOWN = {code: f"\\x{code:02x}" for code in _CONTROLS if chr(code) not in "\n\t"} | {
    code: f"\\u{code:04x}" for code in _BIDI}
_MARKUP = re.compile(r"([\\`*_~\[\]<>|])|^([ \t]*(?:[#+=-]|\d+(?=[.)]\s)))", re.MULTILINE)


def terminal_text(text: str) -> str:
    """`text` with nothing a terminal would act on: control and bidi characters are
    written as their escapes; line breaks and tabs stay."""
    return text.translate(_SHOWN)


def markdown_text(text: str) -> str:
    """`text` as Markdown that shows it as typed: the characters that start emphasis,
    code, links, tags or tables escaped, and a line-leading heading, quote or list
    marker too."""
    return _MARKUP.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    lead = match.group(2)  # a heading, rule or list marker: escape its mark
    if lead[-1].isdigit():  # `1.`: the dot or parenthesis after the number
        return lead + "\\"
    return f"{lead[:-1]}\\{lead[-1]}"
