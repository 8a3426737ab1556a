"""The `recover` verb: the sender's open cases, one case, and the steps taken on it — a
call-back (the customer reached, or not), the case handed to a colleague, the case
closed with its outcome. Each step is one transaction and a line of the case's history;
a closed case takes none."""

from dataclasses import dataclass

from handlers.base import Context, Refusal, Reply, record_event
from handlers.recovery.cases import (
    acting,
    card_actions,
    closing_actions,
    held,
    params,
    ref_of,
    show,
)
from handlers.registry import Command, handles, verb
from handlers.words import is_word, leading_handle, reference, require
from storage.enums import RecoveryOutcome, RecoveryStatus
from storage.models import RecoveryCase
from storage.rows import transition

OUTCOMES = tuple(RecoveryOutcome)


@dataclass(frozen=True)
class RecoverList(Command):
    """The sender's open cases."""


@dataclass(frozen=True)
class RecoverShow(Command):
    case_id: int


@dataclass(frozen=True)
class CallBack(Command):
    """A call-back made: the customer reached, or not."""

    case_id: int
    reached: bool
    note: str = ""


@dataclass(frozen=True)
class HandOver(Command):
    case_id: int
    person: str
    note: str = ""


@dataclass(frozen=True)
class CloseCase(Command):
    case_id: int
    outcome: str
    note: str = ""


def _outcome(rest: list[str]) -> tuple[str, list[str]]:
    """`recovered` / `lost` / `declined` (or `not recovered`) and the words after it."""
    if len(rest) >= 2 and is_word(rest[0], "word.recover.not") and \
            is_word(rest[1], "word.recover.recovered"):
        return RecoveryOutcome.NOT_RECOVERED, rest[2:]
    require(bool(rest), "error.recover_outcome")
    found = next((o for o in OUTCOMES if is_word(rest[0], f"word.recover.{o}")), None)
    require(found is not None, "error.recover_outcome")
    return found, rest[1:]


@verb("recover")
def parse_recover(rest: list[str]) -> Command:
    """nothing · `K3` · `K3 reached|unreached [note]` · `K3 hand @bob [note]` ·
    `K3 close recovered|lost|declined [note]`"""
    if not rest:
        return RecoverList()
    case_id = reference(rest[0], "K")[1]
    if len(rest) == 1:
        return RecoverShow(case_id)
    step, rest = rest[1], rest[2:]
    for reached in (True, False):
        if is_word(step, "word.recover.reached" if reached else "word.recover.unreached"):
            return CallBack(case_id, reached, " ".join(rest))
    if step.startswith("@") or is_word(step, "word.recover.hand"):
        person, rest = leading_handle([step, *rest] if step.startswith("@") else rest)
        require(person is not None, "error.handle")
        return HandOver(case_id, person, " ".join(rest))
    require(is_word(step, "word.recover.close"))
    outcome, rest = _outcome(rest)
    return CloseCase(case_id, outcome, " ".join(rest))


@handles(RecoverList)
def list_cases(ctx: Context, command: RecoverList) -> Reply:
    return held(ctx) or Reply.of("recovery.none")


@handles(RecoverShow)
def show_case(ctx: Context, command: RecoverShow) -> Reply:
    return show(ctx, command.case_id)


def _still_open(ctx: Context, case: RecoveryCase, values: dict) -> None:
    """Apply `values` only while the case is open: of two steps at once, a close and
    another, the one that comes second is refused."""
    if not transition(ctx.session, RecoveryCase, case.id, RecoveryStatus.OPEN, values):
        raise Refusal("refuse.case_closed", ref=ref_of(case),
                      outcome_key=f"recovery.outcome.{case.outcome}")


@handles(CallBack)
def call_back(ctx: Context, command: CallBack) -> Reply:
    case = acting(ctx, command.case_id)
    first = command.reached and case.called_back_at is None
    _still_open(ctx, case, {"called_back_at": ctx.now} if first else {"status": case.status})
    record_event(ctx.session, ctx.now, ref_of(case),
                 "case_reached" if command.reached else "case_unreached", ctx.actor.id,
                 detail=command.note)
    shown = params(case, ctx.config.organisation.tz)
    if command.reached:
        return Reply.of("recovery.reached", closing_actions(case), **shown)
    return Reply.of("recovery.unreached", card_actions(case)[:2], **shown)


@handles(HandOver)
def hand_over(ctx: Context, command: HandOver) -> Reply:
    case = acting(ctx, command.case_id)
    to = ctx.employee(command.person)
    if to.id == case.holder_id:
        raise Refusal("refuse.case_same_holder", ref=ref_of(case), who=to.name)
    was = case.holder_id  # the update below refreshes the loaded case
    _still_open(ctx, case, {"holder_id": to.id})
    record_event(ctx.session, ctx.now, ref_of(case), "case_handed", ctx.actor.id, to.id,
                 command.note)
    shown = params(case, ctx.config.organisation.tz)
    ctx.notify(to.id, "notify.recovery_handed", card_actions(case), **shown,
               by=ctx.actor.name, note=command.note or "-")
    if was != ctx.actor.id:  # taken from someone: they know it left them
        ctx.notify(was, "notify.recovery_taken", ref=shown["ref"], who=to.name,
                   by=ctx.actor.name)
    return Reply.of("recovery.handed", ref=shown["ref"], who=to.name)


@handles(CloseCase)
def close(ctx: Context, command: CloseCase) -> Reply:
    case = acting(ctx, command.case_id)
    _still_open(ctx, case, {"status": RecoveryStatus.CLOSED, "outcome": command.outcome,
                            "closed_at": ctx.now, "closed_by_id": ctx.actor.id})
    ref = ref_of(case)
    record_event(ctx.session, ctx.now, ref, f"case_{command.outcome}", ctx.actor.id,
                 detail=command.note)
    outcome_key = f"recovery.outcome.{command.outcome}"
    if case.holder_id != ctx.actor.id:
        ctx.notify(case.holder_id, "notify.recovery_closed", ref=ref, by=ctx.actor.name,
                   outcome_key=outcome_key)
    return Reply.of("recovery.closed", ref=ref, outcome_key=outcome_key)
