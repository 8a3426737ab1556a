"""The closed sets of values the tables hold: roles, kinds, ledger reasons and each
record's statuses. They are `StrEnum`s, stored as their plain text, so a value read
back from the database compares equal to its member."""

from enum import StrEnum


class Role(StrEnum):
    EMPLOYEE = "employee"
    SUPERVISOR = "supervisor"
    HR = "hr"
    ADMIN = "admin"


PRIVILEGED = (Role.HR, Role.ADMIN)  # see and decide for the whole organisation


class CompensationKind(StrEnum):
    REFUND = "refund"
    VOUCHER = "voucher"
    UPGRADE = "upgrade"
    GIFT = "gift"
    OTHER = "other"


class CompensationStatus(StrEnum):
    SELF_AUTHORISED = "self_authorised"  # within the giver's authority: recorded at once
    PENDING = "pending"  # above it: waits for the approver
    APPROVED = "approved"
    DECLINED = "declined"


class WaiverStatus(StrEnum):
    OPEN = "open"  # the rule was broken; the report is due within 24 hours
    REPORTED = "reported"  # waits for the supervisor's review
    RATIFIED = "ratified"
    REJECTED = "rejected"


class PraiseStatus(StrEnum):
    PENDING = "pending"  # submitted by its receiver: waits for the supervisor
    CREDITED = "credited"
    DECLINED = "declined"


class CaseStatus(StrEnum):
    """Improvement cases: a suggestion is accepted, a major issue confirmed."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    CONFIRMED = "confirmed"
    DECLINED = "declined"


class CouncilStatus(StrEnum):
    """An experience-council item, from the problem found to the fix validated."""

    PROPOSED = "proposed"  # put to the council with its business case
    APPROVED = "approved"  # a council member (not its proposer) agreed to fix it
    IN_PROGRESS = "in_progress"  # an owner is fixing it by a due date
    DONE = "done"  # fixed: the figures after the fix are being gathered
    VALIDATED = "validated"  # the fix held on both sides; the item is closed
    REOPENED = "reopened"  # the fix did not hold: to be taken up again


class RedemptionStatus(StrEnum):
    PENDING = "pending"  # points debited; waits for HR
    APPROVED = "approved"  # to be fulfilled later (e.g. leave taken next month)
    FULFILLED = "fulfilled"
    REJECTED = "rejected"  # refunded
    CANCELLED = "cancelled"  # by the employee; refunded


class LedgerReason(StrEnum):
    PRAISE = "praise"
    SUGGESTION = "suggestion"
    MAJOR_ISSUE = "major_issue"
    GOLDEN_EAR = "golden_ear"
    REDEMPTION = "redemption"
    REVERSAL = "reversal"
    THANKS = "thanks"  # from a colleague's monthly allowance, where the organisation gives one
    CORRECTION = "correction"  # HR adjusts or moves points, with a reason
    PAID_OUT = "paid_out"  # a leaver's balance, taken to payroll (the payroll export)
    FORFEITED = "forfeited"  # a leaver's balance, forfeited by the organisation's rule


class RecoveryStatus(StrEnum):
    """A recovery case: open until its holder closes it with an outcome."""

    OPEN = "open"
    CLOSED = "closed"


class RecoveryOutcome(StrEnum):
    RECOVERED = "recovered"  # the customer was won back
    NOT_RECOVERED = "not_recovered"
    DECLINED = "declined"  # the customer did not want to be contacted


class RunOutcome(StrEnum):
    DONE = "done"
    MISSED = "missed"


def described(values: type[StrEnum]) -> str:
    return " | ".join(values)
