"""Where every chat command and every kind of decision is declared, once, next to its
handler.

A handler module declares a verb with `@verb("comp", form=True)` on the function that
reads the verb's words into a Command, and the use case with `@handles(Compensate)`.
The words people type come from the message catalogs (`verb.comp` in every language),
the help texts are `usage.comp` and `menu.comp`; the grammar, the dispatcher, the help
overview, the platforms' command menus and form triggers are all derived from here.

A record that waits for someone's decision is declared with `@decides("C", ...)` on
its decide function: its reference letter, its table, the status in which it waits, and
how a waiting one is described (`pending` in chat, the web's team page).
"""

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_args, get_type_hints

if TYPE_CHECKING:
    from handlers.base import Context, Reply


class Command:
    """Base of every platform-neutral command the grammar produces and a handler runs."""


@dataclass(frozen=True)
class Unparsed(Command):
    """Text that is not a valid command: the sender gets the usage of `topic`."""

    topic: str | None  # canonical verb; None when the verb itself is unknown
    problem: str = ""  # message key of the specific problem, e.g. "error.amount"


@dataclass(frozen=True)
class Unlinked(Command):
    """A colleague picked from a chat platform's own @ list who is not linked to anyone
    on that platform: refused, naming them, so the sender knows who HR must link."""

    name: str  # as the platform showed them


@dataclass(frozen=True)
class OpenForm(Command):
    """A verb that starts a form, typed without its fields (`comp`, `waiver report W3`):
    platforms with forms open `form`; elsewhere the sender gets the usage of `topic`."""

    form: str
    topic: str
    waiver: str = ""  # the waiver a report form is for, e.g. "W3", when typed


@dataclass(frozen=True)
class Verb:
    name: str  # canonical, English; the catalogs' `verb.<name>` lists what people type
    parse: Callable[[list[str]], Command]
    module: str  # the use-case module that declares it
    menu: bool = True  # listed in help and in the platforms' command menus


@dataclass(frozen=True)
class Route:
    run: Callable[["Context", Any], "Reply"]
    roles: tuple[str, ...] | None = None  # who may run it; None: everyone registered
    # Only reads: runs in a reading transaction and keeps no receipt (a retry just
    # reads again), so on SQLite it does not wait for the writers
    reads_only: bool = False


@dataclass(frozen=True)
class Decidable:
    """A kind of record that waits for a decision, named by its reference letter (C12)."""

    letter: str
    model: type
    awaiting: str  # the status in which it waits
    decide: Callable[["Context", int, bool, str], "Reply"]
    # what a waiting record asks for, as the parameters of the messages
    # `pending.line.<letter>` (a line in chat) and `pending.what.<letter>` (the web's column)
    describe: Callable[["Context", Any], dict[str, Any]]
    since: str = "created_at"  # the column that says since when it waits
    approver_column: str | None = "approver_id"  # None: any HR colleague decides


@dataclass(frozen=True)
class Followed:
    """A kind of record followed up rather than decided (a recovery case, K3): named by
    its reference letter, shown by `history`, listed by `pending` to whoever holds it."""

    letter: str
    history: Callable[["Context", int], "Reply"]  # the record and what happened to it
    held: Callable[["Context"], "Reply | None"]  # what `pending` adds for the sender
    # which records the sender holds, for `pending` to ask in the one statement it asks
    # of the decided kinds (and call `held` only when there are some)
    model: type
    holder_column: str
    open_status: str
    since: str


VERBS: dict[str, Verb] = {}
ROUTES: dict[type, Route] = {}
DECIDABLE: dict[str, Decidable] = {}
FOLLOWED: dict[str, Followed] = {}

# The use-case modules (or packages), in the order their verbs appear in help and command
# menus (within a module, the order they are declared in).
MODULES = ("compensation", "waivers", "praise", "thanks", "improvements", "approvals", "inquiry",
           "away", "recovery", "signals", "golden_ear", "seasons", "pulse", "council",
           "redemptions", "ledger_review", "corrections", "leavers", "profile", "prefs", "moments",
           "linking", "help")


def verb(name: str, *, menu: bool = True):
    """Declare a verb; the decorated function reads the words after it into a Command,
    raising `words.Usage` when they do not fit (or an `OpenForm` for a form's opener)."""
    def register(parse: Callable[[list[str]], Command]) -> Callable[[list[str]], Command]:
        _add(Verb(name, parse, parse.__module__, menu))
        return parse
    return register


def verb_alone(name: str, command: type[Command], *, menu: bool = True) -> None:
    """Declare a verb that takes no words (any typed after it are ignored)."""
    def parse(rest: list[str]) -> Command:
        return command()
    parse.__annotations__["return"] = command  # the one use case it leads to
    _add(Verb(name, parse, command.__module__, menu))


def _add(declared: Verb) -> None:
    if declared.name in VERBS:
        raise ValueError(f"verb {declared.name!r} declared twice")
    VERBS[declared.name] = declared


def handles(command_type: type, *, roles: tuple[str, ...] | None = None,
            reads_only: bool = False):
    """Declare the use case that runs `command_type`, who may run it, and whether it
    only reads (a write from one that says so fails loudly)."""
    def register(run: Callable) -> Callable:
        if command_type in ROUTES:
            raise ValueError(f"{command_type.__name__} handled twice")
        ROUTES[command_type] = Route(run, roles, reads_only)
        return run
    return register


def decides(letter: str, model: type, *, describe: Callable[["Context", Any], dict[str, Any]],
            awaiting: str = "pending", since: str = "created_at",
            approver_column: str | None = "approver_id"):
    """Declare the function that approves or declines a `letter` record by its id, and
    `describe`, the parameters that say what a waiting one asks for."""
    def register(decide: Callable) -> Callable:
        if letter in DECIDABLE or letter in FOLLOWED:
            raise ValueError(f"reference letter {letter!r} declared twice")
        DECIDABLE[letter] = Decidable(letter, model, awaiting, decide, describe, since,
                                      approver_column)
        return decide
    return register


def follows(letter: str, *, held: Callable[["Context"], "Reply | None"], model: type,
            holder_column: str, open_status: str, since: str):
    """Declare the function that shows a `letter` record and its history by its id, and
    `held`, what `pending` lists for the sender (None: nothing) when they hold a `model`
    record (its `holder_column` is them) in `open_status`, oldest `since` first."""
    def register(history: Callable) -> Callable:
        if letter in DECIDABLE or letter in FOLLOWED:
            raise ValueError(f"reference letter {letter!r} declared twice")
        FOLLOWED[letter] = Followed(letter, history, held, model, holder_column, open_status,
                                    since)
        return history
    return register


def letters() -> str:
    """Every reference letter `history` reads: the decided kinds' and the followed ones'."""
    return "".join(DECIDABLE) + "".join(FOLLOWED)


def load() -> None:
    """Import every use-case module, so that their declarations are registered."""
    for module in MODULES:
        importlib.import_module(f".{module}", __package__)


def with_approver() -> list[Decidable]:
    """The kinds that wait for one named approver (reminded, escalated, counted as
    pending in team digests); the others wait for any HR colleague."""
    load()
    return [kind for kind in DECIDABLE.values() if kind.approver_column is not None]


def _use_cases(declared: Verb) -> list[Route]:
    """The use cases a verb leads to: those of the command types its parse function says
    it returns or, when it says any `Command`, every one its module declares."""
    returns = get_type_hints(declared.parse).get("return")
    routes = [ROUTES[kind] for kind in get_args(returns) or (returns,) if kind in ROUTES]
    if routes:
        return routes
    module = declared.module.split(".")[1]
    return [route for route in ROUTES.values() if route.run.__module__.split(".")[1] == module]


def open_to(declared: Verb, role: str) -> bool:
    """Whether someone with `role` may run at least one of the verb's use cases."""
    return any(route.roles is None or role in route.roles for route in _use_cases(declared))


def menu_verbs(role: str | None = None) -> list[str]:
    """The verbs for help and command menus, module by module in `MODULES` order: those
    someone with `role` may use, or (None: one menu for everyone) all of them."""
    load()
    listed = [declared for declared in VERBS.values()
              if declared.menu and (role is None or open_to(declared, role))]
    order = {name: n for n, name in enumerate(VERBS)}  # declaration order in a module
    return [declared.name for declared in sorted(listed, key=lambda v: (
        MODULES.index(v.module.split(".")[1]), order[v.name]))]
