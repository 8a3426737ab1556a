"""The platform-neutral commands the grammar produces and the handlers execute."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal


@dataclass(frozen=True)
class Unparsed:
    """Text that is not a valid command: the sender gets the usage of `topic`."""

    topic: str | None  # canonical command name; None when the verb itself is unknown
    problem: str = ""  # message key of the specific problem, e.g. "error.amount"


@dataclass(frozen=True)
class Help:
    topic: str | None = None


@dataclass(frozen=True)
class Me:
    pass


@dataclass(frozen=True)
class Compensate:
    amount: Decimal
    currency: str | None
    kind: str
    customer_ref: str
    reason: str


@dataclass(frozen=True)
class Occurred:
    """When a waived rule was broken, as the employee said it (resolved in the org timezone)."""

    ago: timedelta | None = None
    today_at: time | None = None
    local: datetime | None = None  # naive, in the organisation's timezone


@dataclass(frozen=True)
class WaiverOpen:
    rule: str
    occurred: Occurred = Occurred()


@dataclass(frozen=True)
class WaiverReport:
    waiver_id: int
    done_instead: str
    why: str
    customer_ref: str = ""
    cost: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True)
class WaiverList:
    pass


@dataclass(frozen=True)
class AttachRecording:
    """A voice note or audio file sent right after a praise command: its recording."""

    data: bytes
    content_type: str
    source: str


@dataclass(frozen=True)
class PraiseLog:
    text: str
    employee: str | None = None  # @handle; None: the sender submits praise they received
    attachment: str = ""
    recording: AttachRecording | None = None  # a voice note that came with the command


@dataclass(frozen=True)
class LinkAccount:
    """A one-time code from HR that links this chat account to a directory entry."""

    code: str


@dataclass(frozen=True)
class SignIn:
    """Ask for a one-time link that signs this person in to the web console."""


@dataclass(frozen=True)
class Touching:
    praise_id: int


@dataclass(frozen=True)
class Suggest:
    text: str


@dataclass(frozen=True)
class MajorIssueSolved:
    text: str
    employee: str | None = None


@dataclass(frozen=True)
class Decide:
    """approve / decline anything that waits for a decision, by its reference (C12, W3, ...)."""

    # C compensation, W waiver, P praise, S suggestion, M major issue, R redemption
    kind: str
    record_id: int
    approve: bool
    comment: str = ""


@dataclass(frozen=True)
class Pending:
    pass


@dataclass(frozen=True)
class Nominate:
    employee: str
    reason: str


@dataclass(frozen=True)
class CastVote:
    employee: str


@dataclass(frozen=True)
class GoldenEar:
    close: bool = False
    month: str | None = None


@dataclass(frozen=True)
class Catalog:
    pass


@dataclass(frozen=True)
class Redeem:
    item_key: str


@dataclass(frozen=True)
class CancelRedemption:
    redemption_id: int


@dataclass(frozen=True)
class SettleRedemption:
    """HR's decision on a redemption from the web console's queue."""

    redemption_id: int
    outcome: str  # approved | fulfilled | rejected
    comment: str = ""


@dataclass(frozen=True)
class Ledger:
    employee: str | None = None
    limit: int = 10


@dataclass(frozen=True)
class SetLanguage:
    locale: str


Command = (
    Unparsed | Help | Me | Compensate | WaiverOpen | WaiverReport | WaiverList | PraiseLog
    | AttachRecording
    | Touching | Suggest | MajorIssueSolved | Decide | Pending | Nominate | CastVote
    | GoldenEar | Catalog | Redeem | CancelRedemption | Ledger | SetLanguage | LinkAccount
    | SignIn | SettleRedemption
)
