"""Customer praise: credited at once when a supervisor or HR logs it, after the
supervisor confirms it when the employee submits it; broadcast to all staff."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import update
from sqlmodel import Session, select

from handlers import summary
from handlers.base import (
    PRIVILEGED,
    Context,
    Refusal,
    Reply,
    decide_pending,
    decision_actions,
    outbox_row,
    queue_all,
)
from handlers.policy import PointsRules, Policy
from handlers.recovery import goodwill, voice
from handlers.recovery.masking import mask
from handlers.registry import Command, decides, handles, verb
from handlers.words import leading_handle, reference, require
from points import ledger
from storage.enums import LedgerReason, PraiseStatus, Role
from storage.models import Employee, Praise, Recording, TouchingMark
from storage.rows import connection, insert_row, insert_values

LOGGERS = (Role.SUPERVISOR, *PRIVILEGED)


@dataclass(frozen=True)
class AttachRecording(Command):
    """A voice note or audio file sent right after a praise command: its recording."""

    data: bytes
    content_type: str
    source: str


@dataclass(frozen=True)
class PraiseLog(Command):
    """A customer praise: logged for a colleague, or submitted by its receiver."""

    text: str
    employee: str | None = None  # @handle; None: the sender submits praise they received
    attachment: str = ""
    recording: AttachRecording | None = None  # a voice note that came with the command
    also: tuple[str, ...] = ()  # team praise: the other people named, after `employee`


@verb("praise")
def parse_praise(rest: list[str]) -> PraiseLog:
    """`[@handle …] <what the customer said> [link to the letter or its recording]`"""
    require(bool(rest))
    named: list[str] = []
    while rest and rest[0].startswith("@"):
        employee, rest = leading_handle(rest)
        named.append(employee)
    attachment = ""
    if rest and re.match(r"^(https?://|file:)\S+$", rest[-1]):
        attachment, rest = rest[-1], rest[:-1]
    require(bool(rest), "error.text")
    return PraiseLog(" ".join(rest), named[0] if named else None, attachment,
                     also=tuple(named[1:]))


@dataclass(frozen=True)
class Touching(Command):
    """Mark a colleague's praise as touching."""

    praise_id: int


@verb("touching")
def parse_touching(rest: list[str]) -> Touching:
    require(len(rest) == 1)
    return Touching(reference(rest[0], "P")[1])


class Credited(NamedTuple):
    """What crediting needs of a praise just written, without loading it back."""

    id: int
    text: str
    attachment_ref: str


def credit(session: Session, config: Policy, now: datetime, praise: Praise | Credited,
           employee: Employee, actor_id: int | None, answer: bool = False) -> None:
    """Award the praise points and queue the all-staff broadcast (idempotent per praise).
    The person is told at once, or in their daily summary unless it is the `answer` to
    the praise they submitted."""
    rows = [award(session, now, praise, employee, actor_id, config.points.praise),
            broadcast(now, praise, employee.name)]
    if answer:
        queue_all(session, rows)
    else:
        summary.queue_or_keep(session, rows)


def award(session: Session, now: datetime, praise: Praise | Credited, employee: Employee,
          actor_id: int | None, points: int) -> dict:
    """Credit one person's praise points; returns the notification that tells them."""
    ledger.post(session, employee_id=employee.id, amount=points, reason=LedgerReason.PRAISE,
                source_type="praise", source_id=praise.id, actor_id=actor_id,
                idempotency_key=f"praise:{praise.id}:credit", now=now)
    return outbox_row(now, "person", "notify.praise_credited", {
        "ref": f"P{praise.id}", "points": points, "text": praise.text}, employee_id=employee.id)


def broadcast(now: datetime, praise: Praise | Credited, who: str) -> dict:
    """The all-staff post of a praise (`who`: everyone it names)."""
    return outbox_row(now, "all", "broadcast.praise", {
        "ref": f"P{praise.id}", "who": who, "text": praise.text,
        "attachment": f"\n🎧 {praise.attachment_ref}" if praise.attachment_ref else "",
        "recording_id": recording_id(praise)})


def shares(rules: PointsRules, people: int) -> list[int]:
    """Each named person's points, in the order named (see `PointsRules.team_praise`)."""
    if rules.team_praise == "each" or people == 1:
        return [rules.praise] * people
    base, remainder = divmod(rules.praise, people)
    return [base + (n < remainder) for n in range(people)]


def recording_id(praise: Praise | Credited) -> int | None:
    """The kept recording a broadcast can post again, when the praise has one."""
    ref = praise.attachment_ref or ""
    return int(ref.split(":", 1)[1]) if ref.startswith("recording:") else None


def receive(session: Session, config: Policy, now: datetime, employee: Employee, text: str,
            attachment: str, source: str, customer_ref: str = "") -> Praise:
    """Praise pushed by a survey or feedback tool: credited at once, like a letter
    a supervisor logs, with the tool as its source and no person as the actor; the
    customer's words told with their phone numbers and e-mail addresses masked, and
    credited to the customer's earlier recovery cases and goodwill. (Praise logged or
    confirmed in chat names no customer: it recovers nothing.)"""
    praise = insert_row(session, Praise(
        employee_id=employee.id, text=text, attachment_ref=attachment, source=source,
        status=PraiseStatus.CREDITED, created_at=now, decided_at=now, customer_ref=customer_ref))
    credit(session, config, now, Credited(praise.id, mask(text), attachment), employee,
           actor_id=None)
    voice.arrived(session, config, now, ref=f"P{praise.id}", kind="praise", score=None,
                  text=text, customer_ref=customer_ref, employee_id=employee.id,
                  received_at=now)
    if customer_ref:
        goodwill.by_praise(connection(session), praise.id)
    return praise


@handles(PraiseLog)
def log_praise(ctx: Context, command: PraiseLog) -> Reply:
    if command.employee is None:
        return _submit(ctx, command)
    if command.also:
        return _log_team(ctx, command)
    employee = ctx.employee(command.employee)
    if employee.id == ctx.actor.id:
        raise Refusal("refuse.self_praise")
    if ctx.actor.role not in LOGGERS:
        raise Refusal("refuse.praise_for_others", praise_word="verb.praise")
    praise_id = insert_values(ctx.session, Praise, dict(
        employee_id=employee.id, text=command.text, attachment_ref=command.attachment,
        source="logged", status=PraiseStatus.CREDITED, logged_by_id=ctx.actor.id,
        created_at=ctx.now, decided_at=ctx.now))
    attachment = command.attachment
    if command.recording is not None:
        attachment = _keep(ctx, praise_id, command.recording)
    credit(ctx.session, ctx.config, ctx.now, Credited(praise_id, command.text, attachment),
           employee, ctx.actor.id)
    return Reply.of("praise.logged", ref=f"P{praise_id}", who=employee.name,
                    points=ctx.config.points.praise)


def _log_team(ctx: Context, command: PraiseLog) -> Reply:
    """One letter praising several people: a praise for each (so every report counts
    each), grouped under the first, and one broadcast naming them all."""
    named = (command.employee or "", *command.also)
    twice = next((h for n, h in enumerate(named) if h in named[:n]), None)
    if twice is not None:
        raise Refusal("refuse.named_twice", handle=twice)
    rules = ctx.config.points
    if len(named) > rules.team_praise_max:
        raise Refusal("refuse.praise_too_many", limit=rules.team_praise_max)
    people = [ctx.employee(handle) for handle in named]
    if any(person.id == ctx.actor.id for person in people):
        raise Refusal("refuse.self_praise")
    if ctx.actor.role not in LOGGERS:
        raise Refusal("refuse.praise_for_others", praise_word="verb.praise")
    points = shares(rules, len(people))
    if not all(points):  # sharing fewer points than people: someone would get none
        raise Refusal("refuse.praise_too_many", limit=rules.praise)
    row = dict(text=command.text, source="logged", status=PraiseStatus.CREDITED,
               logged_by_id=ctx.actor.id, created_at=ctx.now, decided_at=ctx.now)
    first = insert_values(ctx.session, Praise, dict(
        row, employee_id=people[0].id, attachment_ref=command.attachment))
    attachment = command.attachment
    if command.recording is not None:
        attachment = _keep(ctx, first, command.recording)
    ctx.session.execute(update(Praise).where(Praise.id == first).values(group_id=first))
    ids = [first, *(insert_values(ctx.session, Praise, dict(
        row, employee_id=person.id, attachment_ref=attachment, group_id=first))
        for person in people[1:])]
    rows = [award(ctx.session, ctx.now, Credited(praise_id, command.text, attachment), person,
                  ctx.actor.id, share)
            for praise_id, person, share in zip(ids, people, points, strict=True)]
    who = ", ".join(person.name for person in people)
    summary.queue_or_keep(ctx.session, [*rows, broadcast(
        ctx.now, Credited(first, command.text, attachment), who)])
    return Reply.of("praise.logged_team", refs=", ".join(f"P{i}" for i in ids), who=who,
                    shares=", ".join(f"{person.name} +{share}"
                                     for person, share in zip(people, points, strict=True)))


def _submit(ctx: Context, command: PraiseLog) -> Reply:
    approver = ctx.approver_for(ctx.actor)
    praise_id = insert_values(ctx.session, Praise, dict(
        employee_id=ctx.actor.id, text=command.text, attachment_ref=command.attachment,
        source="submitted", status=PraiseStatus.PENDING, logged_by_id=ctx.actor.id,
        approver_id=approver.id, created_at=ctx.now))
    if command.recording is not None:
        _keep(ctx, praise_id, command.recording)
    ctx.notify(approver.id, "notify.praise_confirm", decision_actions(f"P{praise_id}"),
               ref=f"P{praise_id}", who=ctx.actor.name, text=command.text)
    return Reply.of("praise.submitted", ref=f"P{praise_id}", approver=approver.name)


@decides("P", Praise, describe=lambda ctx, praise: {"text": praise.text})
def decide(ctx: Context, record_id: int, approve: bool, comment: str) -> Reply:
    praise, status = decide_pending(ctx, "P", record_id, approve, comment,
                                    approved=PraiseStatus.CREDITED)
    if approve:
        credit(ctx.session, ctx.config, ctx.now, praise,
               ctx.session.get(Employee, praise.employee_id), ctx.actor.id, answer=True)
    else:
        key = "notify.praise_declined" if comment else "notify.praise_declined_no_comment"
        ctx.notify(praise.employee_id, key,
                   ref=f"P{record_id}", decider=ctx.actor.name, comment=comment)
    return Reply.of(f"praise.{status}", ref=f"P{record_id}")


@handles(Touching)
def mark_touching(ctx: Context, command: Touching) -> Reply:
    praise = ctx.session.get(Praise, command.praise_id)
    if praise is None or praise.status != PraiseStatus.CREDITED:
        raise Refusal("refuse.not_found", ref=f"P{command.praise_id}")
    # a team praise is one letter: touching it touches each person's praise
    group = [(praise.id, praise.employee_id)] if praise.group_id is None else \
        ctx.session.exec(select(Praise.id, Praise.employee_id).where(
            Praise.group_id == praise.group_id)).all()
    if any(employee_id == ctx.actor.id for _, employee_id in group):
        raise Refusal("refuse.self_touching")
    already = ctx.session.exec(select(TouchingMark).where(
        TouchingMark.praise_id == praise.id, TouchingMark.employee_id == ctx.actor.id)).first()
    if already is not None:
        raise Refusal("refuse.already_touching", ref=f"P{praise.id}")
    ids = [praise_id for praise_id, _ in group]
    ctx.session.add_all([TouchingMark(praise_id=praise_id, employee_id=ctx.actor.id,
                                      created_at=ctx.now) for praise_id in ids])
    ctx.session.execute(update(Praise).where(Praise.id.in_(ids)).values(
        touching_count=Praise.touching_count + 1))
    return Reply.of("praise.touching", ref=f"P{praise.id}")


RECORDING_WINDOW = timedelta(minutes=10)


@handles(AttachRecording)
def attach_recording(ctx: Context, command: AttachRecording) -> Reply:
    """Keep the recording with the praise this person logged in the last minutes."""
    praise = ctx.session.exec(select(Praise).where(
        Praise.logged_by_id == ctx.actor.id, Praise.created_at >= ctx.now - RECORDING_WINDOW,
        Praise.status.in_((PraiseStatus.CREDITED, PraiseStatus.PENDING)))
        .order_by(Praise.id.desc())).first()
    if praise is None:
        raise Refusal("refuse.no_recent_praise")
    praise.attachment_ref = _keep(ctx, praise.id, command)
    return Reply.of("praise.recording_kept", ref=f"P{praise.id}")


def _keep(ctx: Context, praise_id: int, recording: AttachRecording) -> str:
    """Keep the recording with the praise; returns the praise's new attachment_ref."""
    kept = insert_row(ctx.session, Recording(
        praise_id=praise_id, content_type=recording.content_type, data=recording.data,
        source=recording.source, created_at=ctx.now))
    ref = f"recording:{kept.id}"
    ctx.session.execute(update(Praise).where(Praise.id == praise_id).values(
        attachment_ref=ref))
    return ref
