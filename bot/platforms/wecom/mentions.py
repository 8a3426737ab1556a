"""Colleagues picked from WeCom's @ list, read as the people they are.

A text callback carries no mention entities: WeCom puts the picked member's name in
`Content` as "@name", followed by a space (U+2005 from the picker)
(https://developer.work.weixin.qq.com/document/path/90239, 文本消息: Content only). So
the names are matched against the app's visible range (agent/get, then the members of
its departments and tags: api.members), which is also everyone WeCom lets a member
pick there, and each match becomes the member's userid; a name two members share is
left as typed. The kit then reads a linked colleague as their @handle and refuses an
unlinked one by name (Inbound.read).
"""

import logging
import threading
import time
from collections.abc import Callable

from bot.kit import Inbound
from bot.platforms.wecom.api import WeComApi

log = logging.getLogger(__name__)
ENDS = " \t\r\n\u2005\u00a0"  # what may follow a picked name
NAMES_SECONDS = 300.0  # how long the visible range's names are reused


class Mentions:
    def __init__(self, api: WeComApi, clock: Callable[[], float] = time.monotonic) -> None:
        self.api, self.clock = api, clock
        self._lock = threading.Lock()
        self._names: dict[str, str | None] = {}  # name -> userid (None: two members)
        self._fetched: float | None = None

    def names(self) -> dict[str, str | None]:
        with self._lock:
            if self._fetched is None or self.clock() - self._fetched > NAMES_SECONDS:
                names: dict[str, str | None] = {}
                for userid, name in self.api.members().items():
                    names[name] = None if name in names else userid
                self._names, self._fetched = names, self.clock()
            return self._names

    def read(self, inbound: Inbound, text: str):
        """The command `text` says, each picked colleague standing for their userid."""
        if "@" not in text:
            return inbound.read(text)
        try:
            names = self.names()
        except Exception:  # the directory unreadable: the text as typed
            log.exception("could not read the WeCom app's visible range for mentions")
            return inbound.read(text)
        by_length = sorted((n for n in names if n), key=len, reverse=True)
        mentioned: dict[str, tuple[str, str]] = {}
        out, i = [], 0
        while i < len(text):
            at = text.find("@", i)
            if at < 0:
                break
            picked = None
            if at == 0 or text[at - 1] in ENDS:
                rest = text[at + 1:]
                picked = next((n for n in by_length if rest.startswith(n) and names[n]
                               and (len(rest) == len(n) or rest[len(n)] in ENDS)), None)
            if picked is None:
                out.append(text[i:at + 1])
                i = at + 1
                continue
            word = f"@@mention{len(mentioned)}"
            mentioned[word] = (names[picked], picked)
            out.append(f"{text[i:at]} {word} ")
            i = at + 1 + len(picked)
        out.append(text[i:])
        return inbound.read("".join(out), mentioned)
