"""The command language: one grammar for every platform and language.

`parse(text)` finds the verb (any language's word for it, with an optional leading
`/` and `@botname` suffix) and lets the verb's own parser, declared beside its
handler, read the rest. An `Unparsed` names the command whose usage the sender
should see. A message longer than `handlers.limits.MESSAGE` is not read at all: it
becomes an `Overlong`, which the dispatcher refuses. It never raises on any input.
"""

from handlers.limits import MESSAGE, Overlong
from handlers.registry import VERBS, Command, Unparsed
from handlers.words import Usage, verbs


def _verb(word: str) -> str | None:
    """The canonical verb a word names (`/comp@frontline_bot`, `補償`), or None."""
    return verbs().get(word.lstrip("/").split("@", 1)[0].lower())


def verb_of(text: str) -> str | None:
    """The canonical verb `text` starts with, or None."""
    first = text.replace("\u3000", " ").split(maxsplit=1)
    return _verb(first[0]) if first else None


def parse(text: str) -> Command:
    if len(text) > MESSAGE:
        return Overlong(len(text))
    words = text.replace("\u3000", " ").split()
    topic = _verb(words[0]) if words else None
    if topic is None:
        return Unparsed(None)
    try:
        return VERBS[topic].parse(words[1:])
    except Usage as usage:
        return Unparsed(topic, usage.problem)
