"""HR's corrections to points, each with a required reason and always as new ledger
entries, never edits: `adjust @alice -20 <reason>` adds or takes points, `revoke E12
<reason>` posts the reversal of an entry, `move 30 @alice @bob <reason>` takes points
from one person and gives them to another. The people concerned are told;
`frontline ledger verify` holds after any of them."""

import re
from dataclasses import dataclass
from uuid import uuid4

from handlers.base import PRIVILEGED, Context, Refusal, Reply
from handlers.registry import Command, handles, verb
from handlers.words import handle, leading_handle, number, require
from points import ledger
from storage.enums import LedgerReason
from storage.models import Employee, LedgerEntry

# Far beyond any award (a major issue is 100), so a slip of the keyboard cannot mint or
# wipe a fortune; a larger correction is several.
MOST = 10_000
SIGNED = re.compile(r"^[+-]?\d{1,9}$")


@dataclass(frozen=True)
class Adjust(Command):
    """Add points to (or take them from) a person's balance."""

    employee: str
    amount: int
    reason: str


@dataclass(frozen=True)
class Revoke(Command):
    """Post the reversal of one ledger entry."""

    entry_id: int
    reason: str


@dataclass(frozen=True)
class Move(Command):
    """Points credited to the wrong person: taken from one, given to another."""

    amount: int
    source: str
    target: str
    reason: str


def _amount(word: str, signed: bool) -> int:
    require(bool(SIGNED.match(word)) and (signed or word[0].isdigit()), "error.points")
    return int(word)


@verb("adjust")
def parse_adjust(rest: list[str]) -> Adjust:
    employee, rest = leading_handle(rest)
    require(employee is not None, "error.handle")
    require(bool(rest), "error.points")
    amount = _amount(rest[0], signed=True)
    require(len(rest) > 1, "error.reason")
    return Adjust(employee, amount, " ".join(rest[1:]))


@verb("revoke")
def parse_revoke(rest: list[str]) -> Revoke:
    require(bool(rest), "error.id")
    entry_id = number(rest[0].upper().removeprefix("E"))
    require(len(rest) > 1, "error.reason")
    return Revoke(entry_id, " ".join(rest[1:]))


@verb("move")
def parse_move(rest: list[str]) -> Move:
    require(len(rest) >= 3, "error.handle")
    amount = _amount(rest[0], signed=False)
    source, target = handle(rest[1]), handle(rest[2])
    require(len(rest) > 3, "error.reason")
    return Move(amount, source, target, " ".join(rest[3:]))


def _checked(ctx: Context, amount: int, *people: Employee) -> None:
    if not 0 < abs(amount) <= MOST:
        raise Refusal("refuse.correction_amount", most=MOST)
    if any(person.id == ctx.actor.id for person in people):
        raise Refusal("refuse.self_correction")


def _post(ctx: Context, person: Employee, amount: int, reason: str, key: str) -> int:
    """One correction entry; refuses, changing nothing, what the balance cannot cover."""
    try:
        posted = ledger.post_with_balance(
            ctx.session, employee_id=person.id, amount=amount, reason=LedgerReason.CORRECTION,
            source_type="correction", source_id=None, actor_id=ctx.actor.id,
            idempotency_key=key, now=ctx.now, note=reason)
    except ledger.InsufficientPoints as short:
        raise Refusal("refuse.correction_balance", who=person.name,
                      balance=short.balance) from None
    _tell(ctx, person, amount, reason, posted.balance)
    return posted.balance


def _tell(ctx: Context, person: Employee, amount: int, reason: str, balance: int) -> None:
    ctx.notify(person.id, "notify.points_corrected", by=ctx.actor.name, amount=f"{amount:+d}",
               reason=reason, balance=balance)


@handles(Adjust, roles=PRIVILEGED)
def adjust(ctx: Context, command: Adjust) -> Reply:
    person = ctx.employee(command.employee)
    _checked(ctx, command.amount, person)
    # Each correction is a decision of its own: a retried command is answered from the
    # dispatcher's receipt, so its entry needs only a key no other entry has.
    balance = _post(ctx, person, command.amount, command.reason, f"correction:{uuid4().hex}")
    return Reply.of("correction.adjusted", who=person.name, amount=f"{command.amount:+d}",
                    balance=balance)


@handles(Revoke, roles=PRIVILEGED)
def revoke(ctx: Context, command: Revoke) -> Reply:
    entry = ctx.session.get(LedgerEntry, command.entry_id)
    ref = f"E{command.entry_id}"
    if entry is None:
        raise Refusal("refuse.not_found", ref=ref)
    if entry.reason in (LedgerReason.REVERSAL, LedgerReason.REDEMPTION):
        raise Refusal("refuse.not_revocable", ref=ref)  # redemptions: reject or cancel them
    person = ctx.session.get(Employee, entry.employee_id)
    _checked(ctx, entry.amount, person)
    try:  # one reversal per entry, whoever asks again
        reversal = ledger.reverse(ctx.session, entry.id, actor_id=ctx.actor.id,
                                  idempotency_key=f"revoke:{entry.id}", now=ctx.now,
                                  note=command.reason)
    except ledger.InsufficientPoints as short:
        raise Refusal("refuse.correction_balance", who=person.name,
                      balance=short.balance) from None
    if reversal is None:
        raise Refusal("refuse.already_revoked", ref=ref)
    balance = ledger.balance(ctx.session, person.id)
    _tell(ctx, person, -entry.amount, command.reason, balance)
    return Reply.of("correction.revoked", ref=ref, who=person.name,
                    amount=f"{-entry.amount:+d}", balance=balance)


@handles(Move, roles=PRIVILEGED)
def move(ctx: Context, command: Move) -> Reply:
    source, target = ctx.employee(command.source), ctx.employee(command.target)
    if source.id == target.id:
        raise Refusal("refuse.named_twice", handle=command.source)
    _checked(ctx, command.amount, source, target)
    key = f"move:{uuid4().hex}"
    _post(ctx, source, -command.amount, command.reason, f"{key}:from")
    _post(ctx, target, command.amount, command.reason, f"{key}:to")
    return Reply.of("correction.moved", amount=command.amount, source=source.name,
                    target=target.name)
