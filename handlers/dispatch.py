"""Run one command as one transaction: resolve the sender, route to the use case,
commit its changes together with its queued notifications, remember the reply
under the command's idempotency key so that a platform retry changes nothing."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Engine, bindparam, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from handlers import limits, registry
from handlers.base import ACTIVE_BY_HANDLE, Context, Message, Refusal, Reply
from handlers.i18n import render_message
from handlers.linking import LinkAccount, link_account
from handlers.policy import Policy
from handlers.registry import Command, OpenForm, Unlinked, Unparsed
from storage.engine import transaction
from storage.errors import FrontlineError
from storage.models import ChatIdentity, CommandReceipt, Employee
from storage.rows import connection

T = TypeVar("T")
registry.load()


# Built once: composing a statement costs more than running it on every command.
_BY_IDENTITY = select(Employee).join(ChatIdentity).where(
    ChatIdentity.platform == bindparam("platform"),
    ChatIdentity.platform_user_id == bindparam("user_id"), Employee.active)
# The sender and the receipt of an earlier run of the command, in one round trip.
_RECEIPT = select(CommandReceipt.reply).where(
    CommandReceipt.key == bindparam("key")).scalar_subquery()
_SENDER_AND_RECEIPT = {
    "handle": ACTIVE_BY_HANDLE.add_columns(_RECEIPT),
    "identity": _BY_IDENTITY.add_columns(_RECEIPT)}
_INSERT_RECEIPT = insert(CommandReceipt.__table__)


def find_sender(session: Session, platform: str, user_id: str) -> Employee | None:
    """The active employee behind a chat user id (the local console and the web console
    name people by their directory handle). An id no store could hold names nobody."""
    return _sender_and_receipt(session, platform, user_id, None)[0]


def _sender_and_receipt(session: Session, platform: str, user_id: str, key: str | None,
                        ) -> tuple[Employee | None, dict | None]:
    """The sender (as `find_sender`) and the stored reply of the command's earlier run
    under `key`, if there was one."""
    if not limits.storable(user_id) or len(user_id) > limits.ID:
        return None, _receipt(session, key)
    if platform in ("console", "web"):
        query, params = _SENDER_AND_RECEIPT["handle"], {"handle": user_id.lower()}
    else:
        query, params = _SENDER_AND_RECEIPT["identity"], {"platform": platform,
                                                          "user_id": user_id}
    found = session.execute(query, {**params, "key": key}).first()
    if found is None:  # nobody registered (e.g. `link`): the receipt on its own
        return None, _receipt(session, key)
    return found[0], found[1]


def _receipt(session: Session, key: str | None) -> dict | None:
    if key is None:
        return None
    receipt = session.get(CommandReceipt, key)
    return None if receipt is None else receipt.reply


def _left(session: Session, platform: str, user_id: str) -> Employee | None:
    """The person behind the id if they are in the directory but have left (or were
    made inactive): told so, rather than that they are unknown."""
    if not limits.storable(user_id) or len(user_id) > limits.ID:
        return None
    query = select(Employee).where(~Employee.active)
    if platform in ("console", "web"):
        query = query.where(Employee.handle == user_id.lower())
    else:
        query = query.join(ChatIdentity).where(ChatIdentity.platform == platform,
                                               ChatIdentity.platform_user_id == user_id)
    return session.exec(query).first()


class _RolledBack(FrontlineError):
    """Leaves the transaction without committing, carrying what would have been said."""

    def __init__(self, reply: Reply, locale: str) -> None:
        self.reply, self.locale = reply, locale


def view(engine: Engine, config: Policy, platform: str, user_id: str,
         read: Callable[[Context], T]) -> T | None:
    """Run a read-only function as the sender (None if they are not registered):
    for screens such as Slack's App Home that show several replies at once."""
    with transaction(engine) as session:
        actor = find_sender(session, platform, user_id)
        return None if actor is None else read(Context(session, config, actor,
                                                       datetime.now(UTC)))


def locale_of(engine: Engine, config: Policy, platform: str, user_id: str) -> str:
    """The sender's language, or the organisation's for someone not registered."""
    return view(engine, config, platform, user_id, lambda ctx: ctx.actor.locale) \
        or config.organisation.default_locale


def decided_by(engine: Engine, config: Policy, platform: str, user_id: str, locale: str,
               ) -> str:
    """"— name, time" for a request redrawn after its decision."""
    name = view(engine, config, platform, user_id, lambda ctx: ctx.actor.name) or user_id
    when = datetime.now(UTC).astimezone(config.organisation.tz)
    return render_message(Message("decided_by", {"name": name,
                                                "when": f"{when:%Y-%m-%d %H:%M}"}), locale)


def execute(engine: Engine, config: Policy, platform: str, user_id: str, command: Command,
            idempotency_key: str | None = None, now: datetime | None = None,
            check_only: bool = False) -> tuple[Reply, str]:
    """Returns the reply and the language to render it in. With `check_only` the
    command runs and is rolled back: would it be allowed (e.g. before asking a
    decliner for their reason)?

    Before any handler runs, every string the command carries is checked against the
    limits of `handlers.limits`; a field too long or holding a character no store
    keeps is refused and nothing changes."""
    now = now or datetime.now(UTC)
    locale = config.organisation.default_locale
    try:
        limits.check_id(user_id)
        limits.check_id(idempotency_key)
        route = registry.ROUTES.get(type(command))
        reads_only = route is not None and route.reads_only and not check_only
        with transaction(engine, reads_only) as session:
            actor, receipt = _sender_and_receipt(session, platform, user_id, idempotency_key)
            locale = actor.locale if actor is not None else locale
            limits.check(command)
            if receipt is not None:
                return Reply.from_dict(receipt), locale
            if isinstance(command, LinkAccount):  # the one command for strangers
                reply = link_account(session, platform, user_id, command.code, now)
            elif actor is None:
                gone = _left(session, platform, user_id)
                return Reply.of("refuse.left" if gone else "not_registered").failed(), \
                    gone.locale if gone else locale
            elif isinstance(command, Unparsed | OpenForm):
                return usage(command), locale
            elif isinstance(command, Unlinked):
                return Reply.of("error.mention_unlinked", name=command.name).failed(), locale
            else:
                reply = _run(Context(session, config, actor, now), command)
            locale = actor.locale if actor is not None else locale  # `lang` changes it
            if check_only:
                raise _RolledBack(reply, locale)
            if idempotency_key is not None and not reads_only:
                connection(session).execute(_INSERT_RECEIPT, {"key": idempotency_key,
                                                  "reply": reply.to_dict(), "created_at": now})
            return reply, locale
    except _RolledBack as checked:
        return checked.reply, checked.locale
    except Refusal as refusal:
        return Reply.of(refusal.key, **refusal.params).failed(), locale
    except IntegrityError:
        # Two identical requests raced and the database kept one: answer like a retry.
        if idempotency_key is not None:
            with transaction(engine) as session:
                receipt = session.get(CommandReceipt, idempotency_key)
                if receipt is not None:
                    return Reply.from_dict(receipt.reply), locale
        return Reply.of("refuse.conflict").failed(), locale


def claim(engine: Engine, idempotency_key: str, now: datetime | None = None) -> bool:
    """Records a platform event that runs no command (a screen to redraw, an event to
    ignore) under its key: True the first time, False for a repeat."""
    limits.check_id(idempotency_key)
    try:
        with transaction(engine) as session:
            if session.get(CommandReceipt, idempotency_key) is not None:
                return False
            session.add(CommandReceipt(key=idempotency_key, reply=Reply([]).to_dict(),
                                       created_at=now or datetime.now(UTC)))
        return True
    except IntegrityError:  # the same event twice at once: the other one recorded it
        return False


def _run(ctx: Context, command: Command) -> Reply:
    route = registry.ROUTES[type(command)]
    if route.roles is not None:
        ctx.require_role(*route.roles)
    return route.run(ctx, command)


def usage(command: Unparsed | OpenForm) -> Reply:
    """The verb's usage (after the specific problem, if one was found)."""
    if command.topic is None:
        return Reply.of("unknown_command").failed()
    problem = command.problem if isinstance(command, Unparsed) else ""
    found = Reply.of(problem).messages if problem else []
    return Reply([*found, *Reply.of(f"usage.{command.topic}").messages], ok=False)
