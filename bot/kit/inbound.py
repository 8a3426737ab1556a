"""What every platform does with what arrives: run a command as one of its users,
once per platform event, and the small reads adapters need around it (the user's
language, whether they are registered, a read-only view as them).

Idempotency keys have one format, `<platform>:<kind>:<event id>` (e.g.
`telegram:update:7001`, `slack:view:V42`): a platform event that arrives again
finds the reply stored under its key and changes nothing.
"""

import re
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from bot.kit import metrics
from bot.kit.config import Config
from bot.kit.outbox import posted_ref
from handlers import directory, dispatch
from handlers.base import Context, Reply
from handlers.grammar import parse
from handlers.praise import Touching
from handlers.registry import Command, Unlinked
from storage.engine import transaction

T = TypeVar("T")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class Event(NamedTuple):
    """A platform event: its kind (update, command, view, msg, …) and the platform's
    id for it, unique within that kind."""

    kind: str
    id: str | int


def idempotency_key(platform: str, event: Event) -> str:
    """`<platform>:<kind>:<id>`. Neither the platform nor the kind may hold a colon,
    so two different events never share a key."""
    for name in (platform, event.kind):
        if not _NAME.match(name):
            raise ValueError(f"not a platform or event kind: {name!r}")
    return f"{platform}:{event.kind}:{event.id}"


class Inbound:
    """One platform's way into the handlers. Blocking (database work): async
    adapters call it from a worker thread."""

    def __init__(self, engine: Engine, config: Config, platform: str) -> None:
        self.engine, self.config, self.platform = engine, config, platform

    def run(self, user_id: str, command: Command, event: Event | None = None, *,
            check_only: bool = False) -> tuple[Reply, str]:
        """Run `command` as the platform user; returns the reply and the language to
        render it in. With `event`, a repeat of that event gets the first reply and
        has no effect; `check_only` runs it and rolls it back (would it be allowed?)."""
        key = None if event is None else idempotency_key(self.platform, event)
        started = time.perf_counter()
        reply, locale = dispatch.execute(self.engine, self.config, self.platform, user_id,
                                         command, key, check_only=check_only)
        if not check_only:  # a rehearsal is not a command run
            metrics.command_ran(self.engine, self.platform, command, reply,
                                time.perf_counter() - started)
        return reply, locale

    def read(self, text: str, mentioned: Mapping[str, tuple[str, str]] | None = None,
             ) -> Command:
        """The command a message says. `mentioned`: each colleague picked from the
        platform's own @ list, by the word that stands for them in `text` -> (their user
        id on this platform, the name the platform shows). A linked colleague reads as
        their @handle; one not linked makes the command a refusal that names them."""
        words = []
        for word in text.split():
            if mentioned and word in mentioned:
                user_id, shown = mentioned[word]
                handle = self.view(user_id, lambda ctx: ctx.actor.handle)
                if handle is None:
                    return Unlinked(shown[:100])
                word = f"@{handle}"
            words.append(word)
        return parse(" ".join(words))

    def first(self, event: Event) -> bool:
        """Records an event that runs no command under its key: True the first time
        it arrives, False when it is a repeat (to be acknowledged and ignored)."""
        return dispatch.claim(self.engine, idempotency_key(self.platform, event))

    def touching(self, user_id: str, chat_id: str, message_id: str, event: Event,
                 ) -> Reply | None:
        """A touching reaction on a shared-chat post: marks the praise the post shows
        (None if the post is not one of the bot's praise posts)."""
        ref = posted_ref(self.engine, self.platform, chat_id, message_id)
        if not ref or not ref.startswith("P"):
            return None
        reply, _locale = self.run(user_id, Touching(int(ref[1:])), event)
        return reply

    def view(self, user_id: str, read: Callable[[Context], T]) -> T | None:
        """`read` run as the user, read-only (None if they are not registered)."""
        return dispatch.view(self.engine, self.config, self.platform, user_id, read)

    def picked(self, user_ids: list[str]) -> list[str] | str:
        """The handles of the colleagues picked in a form's people picker, in one
        transaction; or what is wrong with the pick (a message key)."""
        if not user_ids:
            return "error.pick_colleague"
        with transaction(self.engine, reads_only=True) as session:
            found = [dispatch.find_sender(session, self.platform, user_id)
                     for user_id in user_ids]
        return "error.not_on_frontline" if None in found else [e.handle for e in found]

    def registered(self, user_id: str) -> bool:
        return self.view(user_id, lambda ctx: True) is not None

    def locale(self, user_id: str) -> str:
        """The user's language, or the organisation's for someone not registered."""
        return dispatch.locale_of(self.engine, self.config, self.platform, user_id)

    def recognise(self, user_id: str, union_id: str) -> bool:
        """Keeps the person's id across the platform's apps beside their user id, and
        knows a person by it whose user id is new (`directory.recognise`). True when
        both are stored."""
        try:
            with transaction(self.engine) as session:
                return directory.recognise(session, self.platform, user_id, union_id)
        except IntegrityError:  # the person's other event, at the same moment, stored it
            return False

    def readers(self, locales: list[str]) -> list[tuple[str, str]]:
        """(user id, locale) of the people linked on this platform who read `locales`."""
        with transaction(self.engine) as session:
            return directory.readers(session, self.platform, locales)

    def decided_by(self, user_id: str, locale: str) -> str:
        """"— name, time", for a request redrawn after its decision."""
        return dispatch.decided_by(self.engine, self.config, self.platform, user_id, locale)


def people_form_problems(picker: str, handles: list[str] | str, field: str, text: str,
                         ) -> dict[str, str]:
    """A people form's field errors (praise, thanks): the picker's, when `handles` is
    `Inbound.picked`'s refusal, and an empty text's."""
    problems = {picker: handles} if isinstance(handles, str) else {}
    if not text:
        problems[field] = "error.text"
    return problems
