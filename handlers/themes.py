"""The theme vocabulary customers' and staff's voices share (IT systems, refund policy,
staffing, …): a text is tagged with every theme one of whose keywords it contains. A
Latin keyword matches whole words ("app" is not in "happy"); a CJK one anywhere."""

import re
from functools import cache

from handlers.policy import Policy, Theme


def _keyword(keyword: str) -> str:
    escaped = re.escape(keyword.lower())
    return rf"(?<![a-z0-9]){escaped}(?![a-z0-9])" if keyword.isascii() else escaped


@cache
def _pattern(keywords: tuple[str, ...]) -> re.Pattern:
    """One search for all of a theme's keywords."""
    return re.compile("|".join(_keyword(word) for word in keywords) or r"(?!)")


def themes_of(text: str, themes: list[Theme]) -> list[str]:
    """The keys of the themes the text speaks of, in vocabulary order."""
    lowered = text.lower()
    return [theme.key for theme in themes if _pattern(tuple(theme.keywords)).search(lowered)]


def tally(texts: list[str], config: Policy) -> dict[str, int]:
    """Theme key -> how many of the texts speak of it."""
    counts = dict.fromkeys((theme.key for theme in config.themes), 0)
    for text in texts:
        for key in themes_of(text, config.themes):
            counts[key] += 1
    return counts
