"""The theme vocabulary customers' and staff's voices share (IT systems, refund policy,
staffing, …): a text is tagged with every theme one of whose keywords it contains. A
Latin keyword matches whole words ("app" is not in "happy"); a CJK one anywhere."""

import re
from functools import cache

from handlers.policy import Policy, Theme


@cache
def _pattern(keyword: str) -> re.Pattern:
    escaped = re.escape(keyword.lower())
    if keyword.isascii():
        return re.compile(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])")
    return re.compile(escaped)


def themes_of(text: str, themes: list[Theme]) -> list[str]:
    """The keys of the themes the text speaks of, in vocabulary order."""
    lowered = text.lower()
    return [theme.key for theme in themes
            if any(_pattern(word).search(lowered) for word in theme.keywords)]


def tally(texts: list[str], config: Policy) -> dict[str, int]:
    """Theme key -> how many of the texts speak of it."""
    counts = dict.fromkeys((theme.key for theme in config.themes), 0)
    for text in texts:
        for key in themes_of(text, config.themes):
            counts[key] += 1
    return counts
