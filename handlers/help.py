"""`help`: the overview of the commands the sender may use, derived from the registry,
or one command's usage."""

from dataclasses import dataclass

from handlers.base import Context, Reply
from handlers.registry import Command, handles, menu_verbs, verb
from handlers.words import verbs


@dataclass(frozen=True)
class Help(Command):
    """The overview of the sender's commands, or one command's usage (any command's)."""

    topic: str | None = None  # a canonical verb; None: the overview
    unknown: str = ""  # a word asked about that is no command: said so, before the overview


@verb("help")
def parse_help(rest: list[str]) -> Help:
    """`help` alone, or `help <any word of a verb>` (an unknown one: the overview)."""
    if not rest:
        return Help()
    asked = rest[0].lstrip("/")
    topic = verbs().get(asked.lower())
    return Help(topic, "" if topic else asked[:40])


@handles(Help, reads_only=True)
def show(ctx: Context, command: Help) -> Reply:
    if command.topic is not None:
        return Reply.of(f"usage.{command.topic}")
    reply = Reply.of("help.unknown", word=command.unknown) if command.unknown else Reply([])
    reply.messages.extend(Reply.of("help.header").messages)
    for name in menu_verbs(ctx.actor.role):
        reply.messages.extend(Reply.of("help.line", verb_word=f"verb.{name}",
                                       menu_key=f"menu.{name}").messages)
    reply.messages.extend(Reply.of("help.footer").messages)
    return reply
