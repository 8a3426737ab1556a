"""A long text as the messages a platform takes: each platform measures a message its
own way (characters, UTF-8 bytes, UTF-16 units, an escaped or wrapped body), so it
passes `fits`; where the text is cut is the same everywhere."""

from collections.abc import Callable


def pieces(text: str, fits: Callable[[str], bool]) -> list[str]:
    """`text` in consecutive pieces that each `fits`: cut after a line where it can be,
    inside a line only when that line alone does not fit. Joined, the pieces are `text`
    again (each keeps its line breaks); an empty text is one empty piece."""
    found: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while not fits(line):  # a line longer than a message: cut inside it
            cut = _longest_start(line, fits)
            if current:
                found.append(current)
                current = ""
            found.append(line[:cut])
            line = line[cut:]
        if current and not fits(current + line):
            found.append(current)
            current = ""
        current += line
    return [*found, current] if current or not found else found


def _longest_start(text: str, fits: Callable[[str], bool]) -> int:
    """How many characters of `text` the longest start that fits has (at least one:
    a single character is always sent, so the text always moves on)."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[:middle]):
            low = middle
        else:
            high = middle - 1
    return low
