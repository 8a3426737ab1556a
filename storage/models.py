"""SQLModel tables. Plain data: the rules that govern them live in handlers/ and points/.

Money is kept as integer minor units (cents/fen) beside an ISO currency code, so
no float ever touches an amount. Every timestamp is an aware UTC datetime.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    LargeBinary,
    UniqueConstraint,
    column,
    func,
)
from sqlmodel import Field, SQLModel

from storage.enums import (
    CaseStatus,
    CompensationStatus,
    CouncilStatus,
    PraiseStatus,
    RecoveryOutcome,
    RecoveryStatus,
    RedemptionStatus,
    Role,
    RunOutcome,
    WaiverStatus,
    described,
)
from storage.types import UTCDateTime

# 64-bit ids on PostgreSQL; SQLite autoincrements only a column typed INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _when(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    timezone: str


class Employee(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(unique=True, description="short login name, used as @handle in commands")
    name: str
    role: str = Field(index=True, description=described(Role))
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    supervisor_id: int | None = Field(default=None, foreign_key="employee.id", index=True)
    locale: str = "en"
    active: bool = True
    start_date: date | None = Field(default=None, description="first day of service, "
                                    "from the directory: its anniversaries are posted")
    birthday: str | None = Field(default=None, description="MM-DD, only when the person "
                                 "chose to have it posted (`birthday`)")


class ChatIdentity(SQLModel, table=True):
    """A person's user id on one chat platform. Where the platform also has an id that
    outlives the app (Feishu's union_id: one person across the apps of one developer,
    where open_id is per app), it is kept beside it: a person arriving with a new app
    id (the app re-created) is recognised by it and their app id updated."""

    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),
                      Index("ix_chatidentity_platform_union_id", "platform", "union_id",
                            unique=True))
    id: int | None = Field(default=None, primary_key=True)
    employee_id: int = Field(foreign_key="employee.id", index=True)
    platform: str
    platform_user_id: str
    union_id: str | None = Field(
        default=None, description="the person's id across the platform's apps, if it has one")


class PointsAccount(SQLModel, table=True):
    """The running balance, updated in the same transaction as each ledger entry."""

    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)
    employee_id: int = Field(foreign_key="employee.id", primary_key=True)
    balance: int = 0


class LedgerEntry(SQLModel, table=True):
    """Append-only: never updated, never deleted; a correction is a reversal entry."""

    # Keyset pages walk these (filter, id) pairs newest first, at any ledger size; a
    # month's points per person are summed from the last index alone (HR's fairness).
    __table_args__ = (Index("ix_ledgerentry_employee_id_id", "employee_id", "id"),
                      Index("ix_ledgerentry_reason_id", "reason", "id"),
                      Index("ix_ledgerentry_month_sums", "created_at", "reason",
                            "employee_id", "amount"))
    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    idempotency_key: str = Field(unique=True)
    employee_id: int = Field(foreign_key="employee.id")
    amount: int
    balance_after: int | None = Field(
        default=None, description="the person's balance once this entry was posted")
    reason: str
    source_type: str
    source_id: int | None = None
    actor_id: int | None = Field(default=None, foreign_key="employee.id")
    reverses_id: int | None = Field(default=None, sa_type=BigId, foreign_key="ledgerentry.id")
    note: str = ""
    created_at: datetime = _when()


class Compensation(SQLModel, table=True):
    # Budgets sum one person's compensation since a day or month start; the recovery
    # figures find the goodwill given under a customer's reference, whatever its case;
    # a month's spend by kind, its recovery yield and its customers compensated by several
    # staff are read from an index alone (HR's pages), and so are the decisions of a
    # window the approvals signal reads, everyone's or some approvers'.
    __table_args__ = (Index("ix_compensation_employee_created", "employee_id", "created_at"),
                      Index("ix_compensation_customer_ref_lower", func.lower(
                          column("customer_ref"))),
                      Index("ix_compensation_month_sums", "created_at", "status", "currency",
                            "employee_id", "amount_minor", "kind", "customer_ref",
                            "recovered_at"),
                      Index("ix_compensation_decided_at", "decided_at", "decided_by_id",
                            "employee_id", "status"),
                      Index("ix_compensation_decided_by_decided_at", "decided_by_id",
                            "decided_at"))
    id: int | None = Field(default=None, primary_key=True)
    employee_id: int = Field(foreign_key="employee.id")
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str
    kind: str
    customer_ref: str = ""
    reason: str
    status: str = Field(index=True, description=described(CompensationStatus))
    approver_id: int | None = Field(default=None, foreign_key="employee.id", index=True)
    decided_by_id: int | None = Field(default=None, foreign_key="employee.id")
    decision_comment: str = ""
    created_at: datetime = _when()
    decided_at: datetime | None = _when(nullable=True)
    # the customer's first promoter score or credited praise after it (recovery yield)
    recovered_at: datetime | None = _when(nullable=True)


class Waiver(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    employee_id: int = Field(foreign_key="employee.id", index=True)
    rule: str = Field(index=True)
    occurred_at: datetime = _when()
    due_at: datetime = _when(index=True)
    opened_at: datetime = _when()
    status: str = Field(index=True, description=described(WaiverStatus))
    done_instead: str = ""
    why: str = ""
    customer_ref: str = ""
    cost_minor: int | None = Field(default=None, sa_type=BigInteger)
    currency: str | None = None
    reported_at: datetime | None = _when(nullable=True)
    late: bool = False
    approver_id: int | None = Field(default=None, foreign_key="employee.id", index=True)
    reminded_at: datetime | None = _when(nullable=True)
    escalated_at: datetime | None = _when(nullable=True)
    reviewer_id: int | None = Field(default=None, foreign_key="employee.id")
    review_comment: str = ""
    reviewed_at: datetime | None = _when(nullable=True)
    themes: str = Field(default="", description="the theme keys its text speaks of, "
                        "as |key|key|; tagged when recorded, re-tagged by `themes retag`")


class Praise(SQLModel, table=True):
    # What waits for one approver (`pending`), whatever the organisation's size.
    __table_args__ = (Index("ix_praise_approver_status", "approver_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    employee_id: int = Field(foreign_key="employee.id", index=True)
    text: str
    attachment_ref: str = ""
    source: str = Field(description="logged | submitted | webhook")
    status: str = Field(index=True, description=described(PraiseStatus))
    logged_by_id: int | None = Field(default=None, foreign_key="employee.id")
    approver_id: int | None = Field(default=None, foreign_key="employee.id")
    decided_by_id: int | None = Field(default=None, foreign_key="employee.id")
    decision_comment: str = ""
    touching_count: int = 0
    created_at: datetime = _when(index=True)
    decided_at: datetime | None = _when(nullable=True)
    customer_ref: str = Field(default="", description="the customer who praised, when the "
                              "tool says: a recovery when they had been compensated")
    group_id: int | None = Field(default=None, description="team praise: the first of "
                                 "its praises, one per person named (that one's own id)")


class Departure(SQLModel, table=True):
    """A person marked as left: their waiting approvals moved, their open forms closed and
    the organisation's rule applied to their balance (its ledger entry, if any, points
    here by `source_id`)."""

    id: int | None = Field(default=None, primary_key=True)
    employee_id: int = Field(foreign_key="employee.id", index=True)
    reason: str = ""
    rule: str = Field(description="kept | paid_out | forfeited")
    balance: int = Field(description="the balance when they left")
    moved: int = Field(default=0, description="approvals and cases moved to others")
    forms: int = Field(default=0, description="open forms closed")
    by_id: int | None = Field(default=None, foreign_key="employee.id",
                              description="None: the directory import")
    left_at: datetime = _when()


class SeasonResult(SQLModel, table=True):
    """A person's line of a team's monthly board, frozen when the month closed, so a past
    month shows as it stood whatever arrives or changes later."""

    __table_args__ = (UniqueConstraint("team_id", "month", "employee_id"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    month: str = Field(description="YYYY-MM in the organisation's timezone")
    employee_id: int = Field(foreign_key="employee.id")
    points: int = Field(description="customer-earned points of the month")
    customers: int = Field(description="customers served: feedback naming them and "
                           "praise credited to them in the month")
    rank: int | None = Field(default=None, description="None: below the minimum")
    created_at: datetime = _when()


class Thanks(SQLModel, table=True):
    """One colleague thanking another: told to them, and to their team when the sender
    chose; points only where the organisation gives an allowance for thanks."""

    # A sender's month (allowance, cap) and a pair's trading (signals) are read by these.
    __table_args__ = (Index("ix_thanks_sender_created", "sender_id", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    sender_id: int = Field(foreign_key="employee.id")
    recipient_id: int = Field(foreign_key="employee.id", index=True)
    why: str
    points: int = 0
    public: bool = Field(default=False, description="also posted in the recipient's team")
    created_at: datetime = _when(index=True)


class TouchingMark(SQLModel, table=True):
    praise_id: int = Field(foreign_key="praise.id", primary_key=True)
    employee_id: int = Field(foreign_key="employee.id", primary_key=True)
    created_at: datetime = _when()


class ImprovementCase(SQLModel):
    """What a suggestion and a major issue both are: a case its supervisor decides."""

    id: int | None = Field(default=None, primary_key=True)
    employee_id: int = Field(foreign_key="employee.id", index=True)
    text: str
    status: str = Field(index=True, description=described(CaseStatus))
    approver_id: int | None = Field(default=None, foreign_key="employee.id")
    decided_by_id: int | None = Field(default=None, foreign_key="employee.id")
    decision_comment: str = ""
    created_at: datetime = _when()
    decided_at: datetime | None = _when(nullable=True)


class Suggestion(ImprovementCase, table=True):
    __table_args__ = (Index("ix_suggestion_approver_status", "approver_id", "status"),)
    themes: str = Field(default="", description="the theme keys its text speaks of, "
                        "as |key|key|; tagged when recorded, re-tagged by `themes retag`")


class MajorIssue(ImprovementCase, table=True):
    __table_args__ = (Index("ix_majorissue_approver_status", "approver_id", "status"),)
    claimed_by_id: int = Field(foreign_key="employee.id")  # who reported it solved


class Nomination(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("month", "nominator_id", "nominee_id"),)
    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(index=True, description="YYYY-MM in the organisation's timezone")
    nominator_id: int = Field(foreign_key="employee.id")
    nominee_id: int = Field(foreign_key="employee.id")
    reason: str
    created_at: datetime = _when()


class Vote(SQLModel, table=True):
    month: str = Field(primary_key=True)
    voter_id: int = Field(foreign_key="employee.id", primary_key=True)
    nominee_id: int = Field(foreign_key="employee.id")
    created_at: datetime = _when()


class GoldenEarAward(SQLModel, table=True):
    month: str = Field(primary_key=True)
    winner_id: int | None = Field(default=None, foreign_key="employee.id")
    votes: int = 0
    nominations: int = 0
    created_at: datetime = _when()


class CatalogStock(SQLModel, table=True):
    __table_args__ = (CheckConstraint("remaining >= 0", name="stock_not_negative"),)
    item_key: str = Field(primary_key=True)
    remaining: int


class Redemption(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    employee_id: int = Field(foreign_key="employee.id", index=True)
    item_key: str
    cost: int
    status: str = Field(index=True, description=described(RedemptionStatus))
    decided_by_id: int | None = Field(default=None, foreign_key="employee.id")
    decision_comment: str = ""
    created_at: datetime = _when()
    decided_at: datetime | None = _when(nullable=True)


class CommandReceipt(SQLModel, table=True):
    """One row per executed chat command that carried an idempotency key.

    A platform retry finds its receipt and gets the stored reply back instead
    of running the command again.
    """

    key: str = Field(primary_key=True)
    reply: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _when(index=True)  # retention deletes by age


class Outbox(SQLModel, table=True):
    """A notification written in the transaction that caused it, delivered later."""

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    audience: str = Field(description="person | team | all")
    employee_id: int | None = Field(default=None, foreign_key="employee.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")
    message_key: str
    params: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    actions: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _when()
    claimed_until: datetime | None = _when(nullable=True)
    attempts: int = 0
    delivered_at: datetime | None = _when(nullable=True, index=True)
    last_error: str = ""
    # Outside the recipient's working hours a notification that is not urgent waits
    # here until they begin (handlers/quiet.py); None: due at once.
    not_before: datetime | None = _when(nullable=True)


class OutboxDelivery(SQLModel, table=True):
    """A notification delivered through one channel: the unique key makes it happen once."""

    outbox_id: int = Field(sa_type=BigId, foreign_key="outbox.id", primary_key=True)
    channel: str = Field(primary_key=True)
    delivered_at: datetime = _when()


class RitualRun(SQLModel, table=True):
    """A scheduled run, claimed before it posts: the unique key makes it happen once
    per (ritual, team, period) however many workers fire it."""

    __table_args__ = (UniqueConstraint("ritual", "team_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    ritual: str
    team_id: int = Field(description="0 for organisation-wide rituals")
    period: str = Field(description="local date, ISO week or month the run stands for")
    status: str = Field(description=described(RunOutcome))
    scheduled_for: datetime = _when()
    ran_at: datetime = _when()
    detail: str = ""


class SentOnce(SQLModel, table=True):
    """Keys of reminders already sent (e.g. one per request per day)."""

    key: str = Field(primary_key=True)
    created_at: datetime = _when()


class Recording(SQLModel, table=True):
    """A praise recording (voice note, audio file) kept by the bot, so it can be
    played again by later rituals whatever platform it came from."""

    id: int | None = Field(default=None, primary_key=True)
    praise_id: int = Field(foreign_key="praise.id", index=True)
    content_type: str
    data: bytes = Field(sa_type=LargeBinary)
    source: str = Field(description="where it came from, e.g. wecom:media:<id>")
    created_at: datetime = _when()


class OneTimeCode(SQLModel, table=True):
    """A short-lived, single-use secret (an account-link code, a sign-in link), kept
    only as its SHA-256 so a copy of the database cannot be used to redeem one."""

    code_hash: str = Field(primary_key=True)
    purpose: str = Field(description="link:<platform> | login")
    employee_id: int = Field(foreign_key="employee.id", index=True)
    created_at: datetime = _when()
    expires_at: datetime = _when(index=True)
    used_at: datetime | None = _when(nullable=True)


class ChatPost(SQLModel, table=True):
    """A message the bot posted in a shared chat, so a reaction to it can be traced
    back to the record it shows (e.g. a praise broadcast)."""

    __table_args__ = (UniqueConstraint("platform", "chat_id", "message_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str
    chat_id: str
    message_id: str
    ref: str = Field(description="the record shown, e.g. P12")
    created_at: datetime = _when()


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is kept."""

    token_hash: str = Field(primary_key=True)
    employee_id: int = Field(foreign_key="employee.id", index=True)
    csrf_token: str = Field(description="echoed by every state-changing form of this session")
    created_at: datetime = _when()
    expires_at: datetime = _when(index=True)
    ended_at: datetime | None = _when(nullable=True)


class ApiToken(SQLModel, table=True):
    """A per-integration bearer token for the JSON API, created by HR; kept hashed."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    token_hash: str = Field(unique=True)
    created_at: datetime = _when()
    revoked_at: datetime | None = _when(nullable=True)


class TeamsConversation(SQLModel, table=True):
    """A Teams conversation the bot was added to or spoken to in, with the reference
    Teams gave (service URL, tenant, bot), so any worker can post there later."""

    conversation_id: str = Field(primary_key=True)
    kind: str = Field(description="personal | channel | groupChat")
    aad_object_id: str | None = Field(default=None, index=True,
                                      description="the person, for a personal chat")
    reference: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _when()
class Delegation(SQLModel, table=True):
    """An approver away: from `starts_at` until `ends_at` (or until cleared), requests
    and escalations that would wait for them go to the delegate."""

    id: int | None = Field(default=None, primary_key=True)
    employee_id: int = Field(foreign_key="employee.id", index=True)
    delegate_id: int = Field(foreign_key="employee.id")
    starts_at: datetime = _when()
    ends_at: datetime = _when()
    cleared_at: datetime | None = _when(nullable=True)


class RequestEvent(SQLModel, table=True):
    """What happened to a request while it waited: moved to a delegate, escalated, a
    question asked and answered, decided. Its history, oldest first."""

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    ref: str = Field(index=True, description="the request, e.g. C12")
    event: str = Field(description="delegated | escalated | info_asked | info_given | "
                       "approved | declined | …")
    actor_id: int | None = Field(default=None, foreign_key="employee.id")
    target_id: int | None = Field(default=None, foreign_key="employee.id")
    detail: str = ""
    created_at: datetime = _when()


class SignalDismissal(SQLModel, table=True):
    """HR's note on a signal they looked into: the signal is no longer shown, the note is
    kept."""

    key: str = Field(primary_key=True, description="the signal, e.g. several_staff:A17:2026-11")
    dismissed_by_id: int = Field(foreign_key="employee.id")
    note: str
    created_at: datetime = _when()


class Feedback(SQLModel, table=True):
    """Voice of the customer: a score or a complaint a survey or feedback tool pushed or
    exported. The tool's own id is unique per tool, so the same response twice is kept
    once."""

    __table_args__ = (UniqueConstraint("source", "source_id"),
                      # what the reports count of a team's part-days, read from the index
                      Index("ix_feedback_team_id_received_at_covering", "team_id",
                            "received_at", "kind", "score", "employee_id", "themes"),
                      Index("ix_feedback_employee_id_received_at", "employee_id",
                            "received_at"))
    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    kind: str = Field(description="nps | csat | ces | complaint")
    score: int | None = Field(default=None, description="NPS 0-10, CSAT 1-5, CES 1-7")
    text: str = ""
    team_id: int = Field(foreign_key="team.id")
    employee_id: int | None = Field(default=None, foreign_key="employee.id")
    customer_ref: str = ""
    touchpoint: str = ""
    source: str = Field(description="the tool, e.g. surveyhub")
    source_id: str = Field(description="the tool's own id of the response")
    received_at: datetime = _when()
    created_at: datetime = _when()
    themes: str = Field(default="", description="the theme keys its text speaks of, "
                        "as |key|key|; tagged when recorded, re-tagged by `themes retag`")


class FeedbackDay(SQLModel, table=True):
    """Customer feedback counted per team, UTC day and theme as it arrives, so a month's
    figures sum about thirty rows whatever the volume (handlers/feedback_days.py). The
    row with theme "" and employee 0 counts all the team's feedback that day; a theme's
    row the feedback tagged with it; an employee's row the feedback naming them."""

    __table_args__ = {"sqlite_with_rowid": False}
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    day: int = Field(primary_key=True, description="days since 1970-01-01, UTC")
    employee_id: int = Field(default=0, primary_key=True, description="0: the whole team")
    theme: str = Field(default="", primary_key=True, description='"": every theme')
    responses: int = 0
    nps_responses: int = 0
    promoters: int = 0
    detractors: int = 0
    csat_responses: int = 0
    csat_satisfied: int = 0
    csat_total: int = 0
    ces_responses: int = 0
    ces_total: int = 0
    complaints: int = 0
    csat_unhappy: int = Field(default=0, description="CSAT 1-2")


class MonthStart(SQLModel, table=True):
    """The organisation's months as UTC instants, 1970 to 2100, in its timezone: the
    database triggers of storage/month_sums.py file each record under its local month
    by this table, which is rewritten (and the sums rebuilt) when the timezone changes."""

    starts_at: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    month: str = Field(description="e.g. 2026-11")
    timezone: str = Field(description="the IANA timezone these months are local to")


class PointsMonth(SQLModel, table=True):
    """A person's points earned (awards only) and praise in a local month, kept by a
    trigger on the ledger: HR's fairness reads a row a person, not the month's entries."""

    __table_args__ = (Index("ix_pointsmonth_month_points", "month", "points"),
                      {"sqlite_with_rowid": False})
    month: str = Field(primary_key=True)
    employee_id: int = Field(primary_key=True)
    points: int = 0
    praise: int = 0


class SpendMonth(SQLModel, table=True):
    """A person's goodwill in a local month and currency, kept by triggers on
    compensation: given on their own authority (count, sum, largest) and approved above
    it; `counted_minor` is both, by which HR's pages rank the spenders, and a team's
    givers are ranked for its median (the far-above-the-team signal)."""

    __table_args__ = (Index("ix_spendmonth_month_currency_counted", "month", "currency",
                            "counted_minor"),
                      Index("ix_spendmonth_month_currency_team", "month", "currency",
                            "team_id", "counted_minor"),
                      {"sqlite_with_rowid": False})
    month: str = Field(primary_key=True)
    employee_id: int = Field(primary_key=True)
    currency: str = Field(primary_key=True)
    team_id: int | None = Field(default=None, description="the giver's team at their "
                                "latest goodwill of the month")
    own_count: int = 0
    own_minor: int = Field(default=0, sa_type=BigInteger)
    own_largest: int = Field(default=0, sa_type=BigInteger)
    approved_count: int = 0
    approved_minor: int = Field(default=0, sa_type=BigInteger)
    counted_minor: int = Field(default=0, sa_type=BigInteger)


class RecoveryCase(SQLModel, table=True):
    """An unhappy customer to win back, opened by itself from a response the
    organisation's rules call unhappy (handlers/recovery): held by the person the
    customer named, else by the team's supervisor, until closed with an outcome. One per
    response, so a response kept again opens none."""

    # The cockpit's figures read a team's cases opened in a month, from the index alone
    # (scattered over the table, a month of a busy team's cases took 10 ms a query); a
    # customer's later good word, and a survey import, find the customer's cases by
    # their lowered reference.
    __table_args__ = (Index("ix_recoverycase_team_id_opened_at_covering", "team_id",
                            "opened_at", "called_back_at", "due_at", "status", "outcome",
                            "customer_ref", "id"),
                      Index("ix_recoverycase_customer_ref_lower", func.lower(
                          column("customer_ref"))))
    id: int | None = Field(default=None, primary_key=True)
    feedback_id: int = Field(sa_type=BigId, foreign_key="feedback.id", unique=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    employee_id: int | None = Field(default=None, foreign_key="employee.id",
                                    description="the person the customer named, if any")
    holder_id: int = Field(foreign_key="employee.id", index=True,
                           description="who calls the customer back")
    kind: str = Field(description="nps | csat | ces | complaint")
    score: int | None = None
    text: str = Field(default="", description="the customer's words, phone numbers and "
                      "e-mail addresses masked")
    customer_ref: str = ""
    touchpoint: str = ""
    status: str = Field(index=True, description=described(RecoveryStatus))
    outcome: str | None = Field(default=None, description=described(RecoveryOutcome))
    opened_at: datetime = _when()
    due_at: datetime = _when()  # the call-back deadline
    called_back_at: datetime | None = _when(nullable=True)  # first reached
    closed_at: datetime | None = _when(nullable=True)
    closed_by_id: int | None = Field(default=None, foreign_key="employee.id")


class Pulse(SQLModel, table=True):
    """An employee pulse asked of one team for one period. `salt` keys the one-answer-
    per-person hashes of its answers while it is open and is erased when it closes, so
    afterwards nobody can tell whose an answer was."""

    __table_args__ = (UniqueConstraint("team_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    period: str = Field(description="the ISO week it was asked in, e.g. 2026-W48")
    opened_at: datetime = _when()
    closes_at: datetime = _when()
    salt: str | None = Field(default=None, description="hex; None once closed")


class PulseAnswer(SQLModel, table=True):
    """An anonymous pulse answer: no person, no time. `voter` is a keyed hash that only
    makes a second answer of the same person to the same pulse collide. On SQLite the
    table has no rowid, so its rows lie in the order of their keyed hashes, not in the
    order they were answered."""

    __table_args__ = {"sqlite_with_rowid": False}
    pulse_id: int = Field(foreign_key="pulse.id", primary_key=True)
    voter: str = Field(primary_key=True)
    enps: int = Field(description="0-10: would you recommend working here")
    comment: str = ""
    themes: str = Field(default="", description="the theme keys its text speaks of, "
                        "as |key|key|; tagged when recorded, re-tagged by `themes retag`")


class CouncilItem(SQLModel, table=True):
    """A mirror problem taken to the experience council: one theme in one team, its
    business case priced from the records of the period before it was opened, an owner,
    and where the fix stands."""

    id: int | None = Field(default=None, primary_key=True)
    theme: str = Field(description="key of a theme of the vocabulary")
    team_id: int = Field(foreign_key="team.id", index=True)
    owner_id: int = Field(foreign_key="employee.id")
    opened_by_id: int = Field(foreign_key="employee.id")
    status: str = Field(description=described(CouncilStatus))
    currency: str
    customer_loss_minor: int = Field(sa_type=BigInteger)
    staff_loss_minor: int = Field(sa_type=BigInteger)
    case: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                       description="the counts the losses were priced from, and their period")
    opened_at: datetime = _when()
    fixing_at: datetime | None = _when(nullable=True)  # first put in progress
    fixed_at: datetime | None = _when(nullable=True)  # done (None again when reopened)
    closed_at: datetime | None = _when(nullable=True)  # validated
    approved_by_id: int | None = Field(default=None, foreign_key="employee.id")
    approved_at: datetime | None = _when(nullable=True)
    due_on: date | None = Field(default=None, description="the owner's due date (local)")


class CouncilUpdate(SQLModel, table=True):
    """A step or a note on a council item; the team's staff are told of each."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="councilitem.id", index=True)
    author_id: int = Field(foreign_key="employee.id")
    status: str = Field(description="the item's status after this update")
    text: str = ""
    created_at: datetime = _when()
class HeldLease(SQLModel, table=True):
    """A named role one worker holds at a time (e.g. the Telegram poller), renewed
    while it lives. `attempts` counts the takes: each holder's fencing token."""

    name: str = Field(primary_key=True, description="e.g. receiver:telegram")
    holder: str = Field(default="", description="who took it last: host and process id")
    attempts: int = 0
    claimed_until: datetime | None = _when(nullable=True)


class FormState(SQLModel, table=True):
    """A step-by-step form someone is filling in, kept here so whichever worker
    receives the next answer can carry on."""

    platform: str = Field(primary_key=True)
    conversation: str = Field(primary_key=True, description="<chat id>:<user id>")
    form: str
    locale: str
    answers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    expires_at: datetime = _when(index=True)
    last_update: str | None = Field(default=None, description=(
        "the platform's id of the update that opened the form or gave its last answer "
        "kept: that update run again changes nothing"))


class RateBudget(SQLModel, table=True):
    """What one platform limit has spent within its window, shared by every worker:
    the send times (seconds since the epoch) still inside the window."""

    key: str = Field(primary_key=True, description="e.g. wecom:robot:<digest>")
    spent: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class AccessToken(SQLModel, table=True):
    """A platform access token shared by every worker until shortly before it expires."""

    name: str = Field(primary_key=True, description="e.g. wecom:<corp id>:<agent id>")
    token: str
    expires_at: datetime = _when()


class InboxItem(SQLModel, table=True):
    """A request a platform sent and was acknowledged for, stored before the ack so
    that it is run even if the worker that took it dies: claimed under a lease
    (bot/kit/leases.py), done once its command has run. The key is the request's
    idempotency key, so a platform's retry of a stored request is not stored again."""

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    key: str = Field(unique=True, description="<platform>:<kind>:<id>")
    platform: str
    kind: str = Field(description="what the platform's runner does with the payload")
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = _when()
    claimed_until: datetime | None = _when(nullable=True)
    attempts: int = 0
    done_at: datetime | None = _when(nullable=True, index=True)
    last_error: str = ""


class Erasure(SQLModel, table=True):
    """A person's personal data erased on request (`frontline directory erase`). It keeps
    nothing that was erased: the pseudonym their directory row now carries, when, who
    ran it, the reason given (refused if it names them) and whether free text was kept."""

    id: int | None = Field(default=None, primary_key=True)
    employee_id: int = Field(foreign_key="employee.id", unique=True)
    pseudonym: str
    reason: str
    erased_by: str = Field(description="who ran the erasure, e.g. the operator's login")
    kept_free_text: bool
    erased_at: datetime = _when()


class PersonPrefs(SQLModel, table=True):
    """What a person set with `prefs`: their own working hours, whether all-staff
    posts sent to them personally are muted, and whether they take a daily summary."""

    employee_id: int = Field(foreign_key="employee.id", primary_key=True)
    hours: str = Field(default="", description='"07:00-15:00" in their team\'s timezone; '
                       '"": their team\'s hours')
    broadcasts_muted: bool = False
    daily_summary: bool = Field(default=False, description="customer voice and the praise "
                                "posts sent to them personally come once a day, in one message")


class SummaryItem(SQLModel, table=True):
    """What waits for a person's daily summary instead of being sent as it arrives: the
    notification it stands for. Deleted as the summary that carries it is queued."""

    id: int | None = Field(default=None, primary_key=True)
    employee_id: int = Field(foreign_key="employee.id", index=True)
    message_key: str
    params: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _when()


class Shift(SQLModel, table=True):
    """A shift from a roster import: while a person has shifts ahead, their shifts are
    their working time."""

    __table_args__ = (Index("ix_shift_employee_ends", "employee_id", "ends_at"),)
    id: int | None = Field(default=None, primary_key=True)
    employee_id: int = Field(foreign_key="employee.id")
    day: date = Field(description="the local day it starts on, as the roster gives it")
    starts_at: datetime = _when()
    ends_at: datetime = _when()
