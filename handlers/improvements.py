"""Improvement cases: suggestions (+20 when accepted) and major experience issues
solved (+100 when confirmed). Both wait for the employee's supervisor, and both
count toward career steps."""

from dataclasses import dataclass

from sqlalchemy import bindparam, func
from sqlmodel import select

from handlers.base import Context, Reply, decide_pending, decision_actions
from handlers.registry import Command, decides, handles, verb
from handlers.themes import tags
from handlers.words import leading_handle, require
from points import ledger
from storage.enums import CaseStatus, LedgerReason
from storage.models import Employee, MajorIssue, Suggestion
from storage.rows import insert_row


@dataclass(frozen=True)
class Suggest(Command):
    """An improvement suggestion, for the sender's supervisor to accept."""

    text: str


@verb("suggest")
def parse_suggest(rest: list[str]) -> Suggest:
    require(bool(rest), "error.text")
    return Suggest(" ".join(rest))


@dataclass(frozen=True)
class MajorIssueSolved(Command):
    """A major experience issue solved, by the sender or a colleague named."""

    text: str
    employee: str | None = None


@verb("solved")
def parse_solved(rest: list[str]) -> MajorIssueSolved:
    """`[@handle] <the issue solved>`"""
    require(bool(rest))
    employee, rest = leading_handle(rest)
    require(bool(rest), "error.text")
    return MajorIssueSolved(" ".join(rest), employee)


@dataclass(frozen=True)
class CaseKind:
    letter: str
    model: type
    name: str  # message-key prefix and ledger reason
    approved_status: str

    def points(self, ctx: Context) -> int:
        rules = ctx.config.points
        return rules.suggestion_accepted if self.model is Suggestion else rules.major_issue


SUGGESTION = CaseKind("S", Suggestion, LedgerReason.SUGGESTION, CaseStatus.ACCEPTED)
MAJOR_ISSUE = CaseKind("M", MajorIssue, LedgerReason.MAJOR_ISSUE, CaseStatus.CONFIRMED)


@handles(Suggest)
def suggest(ctx: Context, command: Suggest) -> Reply:
    return _open_case(ctx, SUGGESTION, ctx.actor, Suggestion(
        employee_id=ctx.actor.id, text=command.text, status=CaseStatus.PENDING, created_at=ctx.now,
        themes=tags(command.text, ctx.config.themes)))


@handles(MajorIssueSolved)
def major_issue(ctx: Context, command: MajorIssueSolved) -> Reply:
    employee = ctx.employee(command.employee) if command.employee else ctx.actor
    record = MajorIssue(employee_id=employee.id, claimed_by_id=ctx.actor.id, text=command.text,
                        status=CaseStatus.PENDING, created_at=ctx.now)
    approver = ctx.approver_for(employee)
    record.approver_id = approver.id
    if employee.id != ctx.actor.id and approver.id == ctx.actor.id:
        # The supervisor claims it for their own report: that is the confirmation.
        insert_row(ctx.session, record)
        return _decide(ctx, MAJOR_ISSUE, record.id, True, "")
    return _open_case(ctx, MAJOR_ISSUE, employee, record)


def _open_case(ctx: Context, kind: CaseKind, employee: Employee, record) -> Reply:
    approver = ctx.approver_for(employee)
    record.approver_id = approver.id
    insert_row(ctx.session, record)
    ref = f"{kind.letter}{record.id}"
    ctx.notify(approver.id, f"notify.{kind.name}_review", decision_actions(ref), ref=ref,
               who=employee.name, text=record.text, points=kind.points(ctx))
    return Reply.of(f"{kind.name}.submitted", ref=ref, approver=approver.name)


def describe(ctx: Context, case: Suggestion | MajorIssue) -> dict[str, str]:
    return {"text": case.text}


@decides("S", Suggestion, describe=describe)
def decide_suggestion(ctx: Context, record_id: int, approve: bool, comment: str) -> Reply:
    return _decide(ctx, SUGGESTION, record_id, approve, comment)


@decides("M", MajorIssue, describe=describe)
def decide_major_issue(ctx: Context, record_id: int, approve: bool, comment: str) -> Reply:
    return _decide(ctx, MAJOR_ISSUE, record_id, approve, comment)


def _decide(ctx: Context, kind: CaseKind, record_id: int, approve: bool, comment: str) -> Reply:
    ref = f"{kind.letter}{record_id}"
    record, _status = decide_pending(ctx, kind.letter, record_id, approve, comment,
                                     approved=kind.approved_status, reason_required=True)
    points = kind.points(ctx) if approve else 0
    if approve:
        ledger.post(ctx.session, employee_id=record.employee_id, amount=points, reason=kind.name,
                    source_type=kind.name, source_id=record_id, actor_id=ctx.actor.id,
                    idempotency_key=f"{kind.name}:{record_id}:credit", now=ctx.now)
    ctx.notify(record.employee_id, f"notify.case_{'approved' if approve else 'declined'}",
               ref=ref, text=record.text, points=points, decider=ctx.actor.name,
               comment=comment)  # a decline always has one; an acceptance shows none
    return Reply.of(f"case.{'approved' if approve else 'declined'}", ref=ref, points=points)


# A person's improvement cases (accepted suggestions and confirmed major issues) as one
# expression of the parameter `who`, for statements that read more at once.
CASES = select(func.count()).select_from(Suggestion).where(
    Suggestion.employee_id == bindparam("who"), Suggestion.status == CaseStatus.ACCEPTED
).scalar_subquery() + select(func.count()).select_from(MajorIssue).where(
    MajorIssue.employee_id == bindparam("who"), MajorIssue.status == CaseStatus.CONFIRMED
).scalar_subquery()


def improvement_cases(ctx: Context, employee_id: int) -> int:
    return int(ctx.session.execute(select(CASES), {"who": employee_id}).scalar_one())
