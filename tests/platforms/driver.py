"""What the conformance suite needs of a platform, and what it may take for granted.

A driver sends events the way its platform sends them (signed, over HTTP or its
long connection, to the bot's web app on 127.0.0.1) and reads what the bot sent
back from the platform's local fake. The people are the demo organisation's
(wang supervises alice, bob and lilei; hana is HR), each linked to an id on the
platform; "stranger" is nobody Frontline knows."""

import re
from abc import ABC, abstractmethod
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from bot.kit import Platform
from bot.kit.config import Config
from bot.kit.inbox import Inbox
from bot.kit.outbox import Channel, dispatch_pending
from handlers.policy import Policy
from storage.models import InboxItem, Outbox
from tests.support import rows, settled, wait_until

MENTION = re.compile(r"\{@(\w+)\}")  # {@bob}: bob picked from the platform's @ list


class Driver(ABC):
    name: str  # the platform's registry name
    engine: Engine

    @property
    @abstractmethod
    def inbox(self) -> Inbox:
        """The adapter's inbox (the suite replaces its pool to make it busy)."""

    @property
    @abstractmethod
    def channels(self) -> list[Channel]:
        """The platform's outbox channels."""

    @property
    @abstractmethod
    def config(self) -> Config:
        """The configuration the platform was built with."""

    # --- in ---------------------------------------------------------------------
    @abstractmethod
    def event(self, handle: str, text: str) -> Any:
        """A new message from `handle` as the platform would deliver it (not yet sent):
        typed in a one-to-one chat with the bot, or the platform's command form. Each
        `{@bob}` in `text` is bob picked from the platform's own @ list: the platform's
        native mention of bob's id (MENTION finds them)."""

    @abstractmethod
    def deliver(self, event: Any) -> Any:
        """Delivers `event` once (a platform's retry is another call with the same event)
        and returns what the platform got back: its acknowledgement."""

    def forge(self, event: Any) -> Any | None:
        """Delivers `event` with a signature or token the platform did not make; None
        where the transport is authenticated as a whole (a long connection)."""
        return None

    @abstractmethod
    def acked(self, ack: Any) -> bool:
        """The platform counts the event as received and will not send it again."""

    @abstractmethod
    def asked_again(self, ack: Any) -> bool:
        """The platform (or, where it cannot retry, the person) was asked to send it
        again: a busy bot stores nothing it cannot run."""

    @abstractmethod
    def refused(self, ack: Any) -> bool:
        """The event was refused as not the platform's."""

    @abstractmethod
    def stored(self, event: Any) -> tuple[str, str, dict]:
        """The inbox key, kind and payload the adapter stores for `event`."""

    # --- out --------------------------------------------------------------------
    @abstractmethod
    def answers(self, handle: str) -> list[str]:
        """Every text the bot has shown `handle` so far, oldest first: answers to
        commands, direct messages and cards, and the replies to their button presses."""

    @abstractmethod
    def press(self, handle: str, command: str) -> None:
        """`handle` presses the button carrying `command` on the newest card the bot
        sent (a decision's card carries `approve C1`, `decline C1`)."""

    @abstractmethod
    def throttle_next_send(self) -> None:
        """The platform answers the bot's next send with its rate-limit refusal."""

    # --- a real install ---------------------------------------------------------
    # Whether the platform lets a bot message someone who never wrote to it (where it
    # does not, someone must be told who cannot be reached and why).
    reaches_first: bool = True

    @property
    def platform(self) -> Platform:
        """The built platform (its `findings()` for `frontline doctor`)."""
        raise NotImplementedError

    def user_id(self, handle: str) -> str:
        """The person's id on the platform, as the directory links it."""
        raise NotImplementedError

    def never_wrote(self, handle: str) -> None:
        """From now on the person is someone who never wrote to the bot: no chat or
        conversation with them exists on the platform's side."""
        raise NotImplementedError

    def told_unreachable(self, handle: str) -> bool:
        """Where the platform refuses a first message: whether someone was told that
        `handle` cannot be reached and what they must do."""
        raise NotImplementedError

    def shared_posts(self) -> list[str]:
        """The texts the bot posted to the all-staff chat, oldest first."""
        raise NotImplementedError

    def fits(self, text: str) -> bool:
        """Whether one message of `text` is within the platform's length limit (its
        declared limits, which its fake enforces too)."""
        raise NotImplementedError

    def withhold_permission(self) -> None:
        """The fake stops granting a permission (a scope, a visible range, ...) that
        Frontline needs; `frontline doctor` must name it."""
        raise NotImplementedError

    # --- derived ----------------------------------------------------------------
    def say(self, handle: str, text: str) -> str:
        """Sends a new message and returns the answer it gets."""
        before = len(self.answers(handle))
        assert self.acked(self.deliver(self.event(handle, text)))
        return self.answered(handle, before)

    def answered(self, handle: str, before: int) -> str:
        """Waits for the answers `handle` gets after the first `before`; returns them."""
        wait_until(lambda: len(self.answers(handle)) > before, f"an answer to {handle}")
        return "\n".join(self.answers(handle)[before:])

    def ran(self) -> None:
        """Waits until every request the inbox stored has run (a click acknowledged
        first and worked after), and its work pool is idle."""
        wait_until(lambda: all(item.done_at for item in rows(self.engine, InboxItem)),
                   "the stored requests run")
        settled(self.inbox.pool)

    def dispatch_all(self) -> None:
        """Delivers the outbox, waiting out each back-off as if its time had come."""
        for step in range(8):
            later = timedelta(minutes=10 * step)
            dispatch_pending(self.engine, self.channels, policy=self.config,
                             now=lambda later=later: datetime.now(UTC) + later)
            if all(row.delivered_at for row in rows(self.engine, Outbox)):
                return
        waiting = [row.last_error for row in rows(self.engine, Outbox) if not row.delivered_at]
        raise AssertionError(f"still waiting after every back-off: {waiting}")

    def dispatch_at(self, moment: datetime, policy: Policy | None = None) -> None:
        """One turn of the dispatcher with its clock at `moment`, keeping `policy`'s quiet
        hours (the platform's configuration unless given) and people's muted posts."""
        dispatch_pending(self.engine, self.channels, now=lambda: moment,
                         policy=policy or self.config)
