"""The outbox dispatcher: delivers queued notifications through each channel.

Each notification is claimed on its own with a lease (a conditional update; see
bot/kit/leases.py) that is renewed while it is sent, so several workers share
the queue without sending a row twice while they live; each (notification,
channel) delivery is recorded under a unique key, so a retry after a partial
failure resends only what did not go out. What this cannot promise: a worker
killed after a platform accepted a message and before it was recorded leaves
that one message to be sent again once its lease runs out.
"""

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, or_, update
from sqlmodel import select

from bot.kit import metrics
from bot.kit.escaping import terminal_text
from bot.kit.leases import Keeper, Lease, Pause, claim
from handlers import quiet
from handlers.base import Action, Message, Reply
from handlers.directory import reading_locales
from handlers.i18n import render_message, render_reply
from handlers.policy import LOCALES, Policy
from storage.engine import transaction
from storage.models import ChatIdentity, ChatPost, Employee, Outbox, OutboxDelivery, Team
from storage.rows import dialect_insert

# Long enough for any one send: the heartbeat renews it every third of it (10 s) while a
# send waits on a platform's rate limit; a dead worker's notification waits this long.
LEASE = timedelta(seconds=30)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notification:
    outbox_id: int
    audience: str  # person | team | all
    recipient: Employee | None
    team: Team | None
    message: Message
    actions: tuple[Action, ...]
    identities: dict[str, str]  # the recipient's user id on each platform
    # the languages of a shared chat, where readers of every language meet
    shared_locales: tuple[str, ...] = LOCALES

    def text(self, locale: str) -> str:
        return render_reply(Reply([self.message], list(self.actions)), locale)

    def shared(self) -> str:
        """For shared chats: the message in each of their languages, one after another."""
        return "\n".join(dict.fromkeys(render_message(self.message, locale)
                                        for locale in self.shared_locales))

    def shared_label(self, key: str) -> str:
        """A button's label in each shared language: "❤️ Touching · 感动 · 感動" (its
        emoji once)."""
        first, *rest = dict.fromkeys(render_message(Message(key), locale)
                                     for locale in self.shared_locales)
        lead = first.split(" ", 1)[0] + " "
        return " · ".join([first, *(label.removeprefix(lead) for label in rest)])


def for_shared_chat(notification: Notification, team: str | None) -> bool:
    """Whether a shared chat (all staff's when `team` is None, else that team's)
    takes this notification."""
    if notification.recipient is not None:
        return False
    if notification.team is None:
        return team is None
    return notification.team.name == team


def remember_post(engine: Engine, platform: str, chat_id: str, message_id: str,
                  ref: str) -> None:
    """Note which record a shared-chat post shows, so a reaction to it can find it."""
    with transaction(engine) as session:
        session.add(ChatPost(platform=platform, chat_id=chat_id, message_id=message_id,
                             ref=ref, created_at=datetime.now(UTC)))


def posted_ref(engine: Engine, platform: str, chat_id: str, message_id: str) -> str | None:
    """The record a shared-chat post shows, if the bot posted it (see remember_post)."""
    with transaction(engine) as session:
        return session.exec(select(ChatPost.ref).where(
            ChatPost.platform == platform, ChatPost.chat_id == chat_id,
            ChatPost.message_id == message_id)).first()


class Channel(Protocol):
    name: str

    def wants(self, notification: Notification) -> bool: ...

    def deliver(self, notification: Notification) -> None:
        """Send it, or raise to have it retried later."""


_DUE = select(Outbox.id, Outbox.audience, Outbox.employee_id, Outbox.message_key,
              Outbox.actions)


def _due(engine: Engine, now: datetime, batch: int, policy: Policy | None = None,
         ) -> list[int]:
    """Notifications nobody holds, oldest first. Each is claimed only when its turn
    comes, so a worker that dies holds back the one it was sending, not a batch. With
    the organisation's `policy`, one outside its reader's working hours is held in the
    table until they begin, and one its reader muted is done without being sent."""
    with transaction(engine) as session:
        while True:
            due = session.exec(_DUE.where(
                Outbox.delivered_at.is_(None),
                or_(Outbox.not_before.is_(None), Outbox.not_before <= now),
                or_(Outbox.claimed_until.is_(None), Outbox.claimed_until < now))
                .order_by(Outbox.id).limit(batch)).all()
            held, muted = quiet.sort_due(session, policy, now, due) if policy else ({}, [])
            by_time: dict[datetime, list[int]] = {}
            for outbox_id, until in held.items():  # a shift's start holds many at once
                by_time.setdefault(until, []).append(outbox_id)
            for until, ids in by_time.items():
                session.execute(update(Outbox).where(Outbox.id.in_(ids))
                                .values(not_before=until))
            if muted:
                session.execute(update(Outbox).where(Outbox.id.in_(muted))
                                .values(delivered_at=now))
            if not (held or muted):  # else the rows held leave room for more
                return [row.id for row in due]


def _load(engine: Engine, outbox_id: int, shared: tuple[str, ...],
          ) -> tuple[Notification, set[str]]:
    with transaction(engine) as session:
        row = session.get(Outbox, outbox_id)
        recipient = session.get(Employee, row.employee_id) if row.employee_id else None
        team = session.get(Team, row.team_id) if row.team_id else None
        identities = dict(session.exec(select(
            ChatIdentity.platform, ChatIdentity.platform_user_id).where(
            ChatIdentity.employee_id == row.employee_id)).all()) if row.employee_id else {}
        done = set(session.exec(select(OutboxDelivery.channel).where(
            OutboxDelivery.outbox_id == outbox_id)).all())
        notification = Notification(
            row.id, row.audience, recipient, team, Message(row.message_key, dict(row.params)),
            tuple(Action(**a) for a in row.actions), identities, shared)
        return notification, done


def _record(engine: Engine, outbox_id: int, channel: str, when: datetime) -> None:
    table = OutboxDelivery.__table__
    with transaction(engine) as session:
        recorded = session.execute(dialect_insert(engine.dialect.name)(table).values(
            outbox_id=outbox_id, channel=channel, delivered_at=when)
            .on_conflict_do_nothing(index_elements=["outbox_id", "channel"])
            .returning(table.c.outbox_id)).scalar_one_or_none()
    if recorded is None:
        log.warning("notification %s went out through %s twice: another worker sent it too",
                    outbox_id, channel)


def _deliver(engine: Engine, channels: Sequence[Channel], lease: Lease,
             shared: tuple[str, ...]) -> bool:
    """Send one claimed notification through every channel that has not had it yet;
    True when it is complete."""
    notification, done = _load(engine, lease.key, shared)
    failed = ""
    for channel in channels:
        if channel.name in done or not channel.wants(notification):
            continue
        if not lease.renew():  # checked before every send, not only by the heartbeat
            break
        try:
            channel.deliver(notification)
        except Exception as error:
            failed = f"{channel.name}: {error}"[:500]
            metrics.delivery_failed(engine, channel.name)
            continue
        _record(engine, lease.key, channel.name, lease.now())
    if lease.lost or not lease.finish(failed):
        log.warning("lost the lease on notification %s to another worker", lease.key)
        return False
    return not failed


def dispatch_pending(engine: Engine, channels: Sequence[Channel],
                     now: Callable[[], datetime] = lambda: datetime.now(UTC),
                     batch: int = 100, stop: threading.Event | None = None,
                     languages: Sequence[str] = (),
                     pause: Pause = threading.Event.wait, policy: Policy | None = None) -> int:
    """Deliver what is due; returns how many notifications this call completed.

    Each notification is claimed, sent and recorded on its own, under a lease that
    is renewed while it is being sent. A worker killed mid-send holds back only that
    notification, until its lease runs out; it is then sent again (see README,
    "Outbox"). Losing a race to another worker is logged, never raised. Once `stop`
    is set, the notification being sent is finished and no other is claimed; one
    whose sending is cut short by an error or an interrupt is released, due again at
    once (a worker that dies outright releases nothing: its lease runs out). Shared
    chats get each notification in `languages`, by default in every language the
    organisation's people read. `pause` paces the lease's heartbeat (a test drives it).
    The `policy`'s quiet hours and people's muted broadcasts apply (see `_due`)."""
    completed, shared = 0, tuple(languages)
    keeper = Keeper("outbox", LEASE, pause)
    try:
        for outbox_id in _due(engine, now(), batch, policy):
            if not shared:
                with transaction(engine) as session:
                    shared = reading_locales(session)
            if stop is not None and stop.is_set():
                break
            lease = claim(engine, outbox_id, now, LEASE)
            if lease is None:  # another worker took it first
                continue
            with keeper.kept(lease):
                try:
                    completed += _deliver(engine, channels, lease, shared)
                except (Exception, KeyboardInterrupt, SystemExit):
                    _release(lease)
                    raise
    finally:
        keeper.stop()
    return completed


def drain(engine: Engine, channels: Sequence[Channel], batch: int = 100,
          stop: threading.Event | None = None, **options) -> int:
    """`dispatch_pending` until a batch comes back short: a pulse to thousands goes out
    batch after batch at the platforms' pace, not one batch per turn of the schedule.
    A batch held back by a rate limit or a failing channel ends it (the next turn
    retries)."""
    total = 0
    while stop is None or not stop.is_set():
        completed = dispatch_pending(engine, channels, batch=batch, stop=stop, **options)
        total += completed
        if completed < batch:
            break
    return total


def _release(lease: Lease) -> None:
    try:
        lease.release()
    except Exception:  # the lease runs out on its own: the notification waits for that
        log.exception("could not release notification %s", lease.key)


class ConsoleChannel:
    """The local console: shows every notification as the people receiving it would,
    on a terminal, so no stored text may carry a control sequence to it."""

    name = "console"

    def __init__(self, write: Callable[[str], None] = print) -> None:
        self.write = lambda text: write(terminal_text(text))

    def wants(self, notification: Notification) -> bool:
        return True

    def deliver(self, notification: Notification) -> None:
        if notification.team is not None:
            self.write(f"📣 [team {notification.team.name}]\n{notification.shared()}")
        elif notification.recipient is None:
            self.write(f"📣 [all staff]\n{notification.shared()}")
        else:
            person = notification.recipient
            self.write(f"✉️  [to {person.name} @{person.handle}]\n"
                       f"{notification.text(person.locale)}")
