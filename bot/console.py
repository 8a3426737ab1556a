"""The local console chat: the bot with no chat-platform account.

Type commands as the current person; `/as NAME` switches person, `/people`
lists the directory, `/quit` leaves. After each command the outbox is delivered
to the console, so you see what the others would receive: through the dispatcher
`frontline run` uses, so a notification outside its reader's working hours waits
for them, and one they muted is not shown.
"""

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy import Engine
from sqlmodel import select

from bot.kit.config import Config
from bot.kit.escaping import terminal_text
from bot.kit.inbound import Inbound
from bot.kit.outbox import ConsoleChannel, drain
from handlers.base import Reply
from handlers.dispatch import find_sender
from handlers.grammar import parse
from handlers.i18n import render_reply
from handlers.linking import SignIn
from storage.engine import transaction
from storage.models import Employee

HINT = "(/as NAME to switch person, /people to list them, /quit to leave; `help` for commands)"


class Console:
    def __init__(self, engine: Engine, config: Config, handle: str,
                 write: Callable[[str], None] = print, *, web_console: bool = True,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine, self.config, self.handle = engine, config, handle.lower()
        self.now = now  # the dispatcher's clock, which quiet hours are kept by
        # a terminal: what people typed (names, praise) must not reach it as ESC sequences
        self.write: Callable[[str], None] = lambda text: write(terminal_text(text))
        self.web_console = web_console  # whether a sign-in link can be opened while it runs
        self.channel = ConsoleChannel(write)
        self.inbound = Inbound(engine, config, "console")  # people by their handle

    def handle_line(self, line: str) -> bool:
        """Process one line; returns False when the user wants to leave."""
        line = line.strip()
        if not line:
            return True
        if line in ("/quit", "/exit"):
            return False
        if line.startswith("/as ") or line == "/as":
            self.switch(line[3:].strip().lstrip("@"))
        elif line == "/people":
            self.people()
        else:
            command = parse(line)
            reply, locale = self.inbound.run(self.handle, command)
            self.write(render_reply(reply, locale))
            if isinstance(command, SignIn) and not self.web_console:
                self.write(render_reply(Reply.of("console.no_web_console",
                                                 url=self.config.web.public_url), locale))
            drain(self.engine, [self.channel], now=self.now, policy=self.config,
                  languages=self.config.organisation.shared_languages)
        return True

    def switch(self, handle: str) -> None:
        with transaction(self.engine) as session:
            found = find_sender(session, "console", handle)
        if found is None:
            self.write(f"No active person @{handle}; /people lists them.")
        else:
            self.handle = found.handle
            self.write(f"You are now {found.name} (@{found.handle}, {found.role}).")

    def people(self) -> None:
        with transaction(self.engine) as session:
            staff = session.exec(select(Employee).where(Employee.active)
                                 .order_by(Employee.handle)).all()
            for person in staff:
                marker = "*" if person.handle == self.handle else " "
                self.write(f"{marker} @{person.handle:<12} {person.name} ({person.role}, "
                           f"{person.locale})")

    def run(self, stream: TextIO | None = None) -> None:
        stream = stream or sys.stdin  # the one in place now, not at import
        interactive = stream.isatty()
        if interactive:
            self.write(HINT)
        while True:
            if interactive:
                try:
                    line = input(terminal_text(f"[{self.handle}] > "))
                except EOFError:
                    break
            else:
                line = stream.readline()
                if not line:
                    break
                if line.strip():
                    self.write(f"[{self.handle}] > {line.strip()}")
            if not self.handle_line(line):
                break
