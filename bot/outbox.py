"""The outbox dispatcher: delivers queued notifications through each channel, once.

Rows are claimed with a lease (a conditional update), so several workers share
the queue without sending a row twice; each (notification, channel) delivery is
recorded under a unique key, so a retry after a partial failure resends only
what did not go out.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, or_, update
from sqlmodel import select

from handlers.base import Action, Message, Reply
from handlers.i18n import render_message, render_reply
from storage.engine import transaction
from storage.models import ChatIdentity, ChatPost, Employee, Outbox, OutboxDelivery, Team

LEASE = timedelta(minutes=2)
RETRY_FIRST, RETRY_MAX = timedelta(seconds=5), timedelta(minutes=10)


@dataclass(frozen=True)
class Notification:
    outbox_id: int
    audience: str  # person | team | all
    recipient: Employee | None
    team: Team | None
    message: Message
    actions: tuple[Action, ...]
    identities: dict[str, str]  # the recipient's user id on each platform

    def text(self, locale: str) -> str:
        return render_reply(Reply([self.message], list(self.actions)), locale)

    def bilingual(self) -> str:
        """For shared channels, where readers of both languages meet."""
        return render_message(self.message, "zh") + "\n" + render_message(self.message, "en")


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


def _claim(engine: Engine, now: datetime, batch: int) -> list[int]:
    with transaction(engine) as session:
        candidates = session.exec(
            select(Outbox.id).where(
                Outbox.delivered_at.is_(None),
                or_(Outbox.claimed_until.is_(None), Outbox.claimed_until < now))
            .order_by(Outbox.id).limit(batch)).all()
        claimed = []
        for outbox_id in candidates:
            won = session.execute(
                update(Outbox).where(
                    Outbox.id == outbox_id, Outbox.delivered_at.is_(None),
                    or_(Outbox.claimed_until.is_(None), Outbox.claimed_until < now))
                .values(claimed_until=now + LEASE, attempts=Outbox.attempts + 1)).rowcount
            if won:
                claimed.append(outbox_id)
        return claimed


def _load(engine: Engine, outbox_id: int) -> tuple[Notification, set[str]]:
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
            tuple(Action(**a) for a in row.actions), identities)
        return notification, done


def dispatch_pending(engine: Engine, channels: Sequence[Channel],
                     now: Callable[[], datetime] = lambda: datetime.now(UTC),
                     batch: int = 100) -> int:
    """Deliver what is due; returns how many notifications were completed."""
    completed = 0
    for outbox_id in _claim(engine, now(), batch):
        notification, done = _load(engine, outbox_id)
        failed = ""
        for channel in channels:
            if channel.name in done or not channel.wants(notification):
                continue
            try:
                channel.deliver(notification)
            except Exception as error:
                failed = f"{channel.name}: {error}"[:500]
                continue
            with transaction(engine) as session:
                session.add(OutboxDelivery(outbox_id=outbox_id, channel=channel.name,
                                           delivered_at=now()))
        with transaction(engine) as session:
            row = session.get(Outbox, outbox_id)
            if failed:  # try again after a back-off that grows with each attempt
                row.last_error = failed
                row.claimed_until = now() + min(RETRY_FIRST * 2 ** (row.attempts - 1), RETRY_MAX)
            else:
                row.delivered_at = now()
        completed += not failed
    return completed


class ConsoleChannel:
    """The local console: shows every notification as the people receiving it would."""

    name = "console"

    def __init__(self, write: Callable[[str], None] = print) -> None:
        self.write = write

    def wants(self, notification: Notification) -> bool:
        return True

    def deliver(self, notification: Notification) -> None:
        if notification.team is not None:
            self.write(f"📣 [team {notification.team.name}]\n{notification.bilingual()}")
        elif notification.recipient is None:
            self.write(f"📣 [all staff]\n{notification.bilingual()}")
        else:
            person = notification.recipient
            self.write(f"✉️  [to {person.name} @{person.handle}]\n"
                       f"{notification.text(person.locale)}")
