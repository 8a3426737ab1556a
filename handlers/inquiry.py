"""Questions on a waiting request and its history: the approver asks the requester for
more (`ask C12 which order?`, or the card's button), the request stays open, the answer
comes back with the decision buttons; `history C12` shows everything that happened."""

from dataclasses import dataclass

from sqlmodel import select

from handlers.approvals import described
from handlers.base import PRIVILEGED, Context, Message, Refusal, Reply, decision_actions
from handlers.base import record_event as record
from handlers.registry import DECIDABLE, FOLLOWED, Command, handles, letters, verb
from handlers.words import reference, require
from storage.models import Employee, RequestEvent


@dataclass(frozen=True)
class Ask(Command):
    """The approver asks the requester for more before deciding."""

    kind: str
    record_id: int
    question: str = ""


@dataclass(frozen=True)
class Answer(Command):
    """The requester answers the approver's question."""

    kind: str
    record_id: int
    answer: str


@dataclass(frozen=True)
class History(Command):
    """Everything that happened to a request."""

    kind: str
    record_id: int


def _ref(rest: list[str]) -> tuple[str, int]:
    require(bool(rest))
    return reference(rest[0], "".join(DECIDABLE))


@verb("ask")
def parse_ask(rest: list[str]) -> Ask:
    return Ask(*_ref(rest), " ".join(rest[1:]))


@verb("answer")
def parse_answer(rest: list[str]) -> Answer:
    require(len(rest) >= 2, "error.text")
    return Answer(*_ref(rest), " ".join(rest[1:]))


@verb("history")
def parse_history(rest: list[str]) -> History:
    require(len(rest) == 1)
    return History(*reference(rest[0], letters()))  # a followed record's too (K3)


def _waiting(ctx: Context, letter: str, record_id: int):
    kind = DECIDABLE[letter]
    found = ctx.session.get(kind.model, record_id)
    if found is None:
        raise Refusal("refuse.not_found", ref=f"{letter}{record_id}")
    if found.status != kind.awaiting:
        raise Refusal("refuse.already_decided", ref=f"{letter}{record_id}")
    return kind, found


def _decider_id(ctx: Context, kind, found) -> int | None:
    return None if kind.approver_column is None else getattr(found, kind.approver_column)


@handles(Ask)
def ask(ctx: Context, command: Ask) -> Reply:
    ref = f"{command.kind}{command.record_id}"
    kind, found = _waiting(ctx, command.kind, command.record_id)
    if ctx.actor.id == found.employee_id:
        raise Refusal("refuse.self_approve")
    decider = _decider_id(ctx, kind, found)
    if decider != ctx.actor.id and not (decider is None and ctx.actor.role in PRIVILEGED):
        raise Refusal("refuse.not_approver")
    record(ctx.session, ctx.now, ref, "info_asked", ctx.actor.id, found.employee_id,
           command.question)
    params = {"ref": ref, "who": ctx.actor.name, "question": command.question}
    ctx.notify(found.employee_id, "notify.info_asked" if command.question
               else "notify.info_asked_plain", **params)
    requester = ctx.session.get(Employee, found.employee_id)
    return Reply.of("info.asked", ref=ref, who=requester.name)


@handles(Answer)
def answer(ctx: Context, command: Answer) -> Reply:
    ref = f"{command.kind}{command.record_id}"
    kind, found = _waiting(ctx, command.kind, command.record_id)
    if ctx.actor.id != found.employee_id:
        raise Refusal("refuse.not_yours", ref=ref)
    asked = ctx.session.exec(select(RequestEvent).where(
        RequestEvent.ref == ref, RequestEvent.event == "info_asked")
        .order_by(RequestEvent.id.desc())).first()
    if asked is None:
        raise Refusal("refuse.nothing_asked", ref=ref)
    decider = _decider_id(ctx, kind, found) or asked.actor_id
    record(ctx.session, ctx.now, ref, "info_given", ctx.actor.id, decider, command.answer)
    ctx.notify(decider, "notify.info_given", decision_actions(ref), ref=ref,
               who=ctx.actor.name, answer=command.answer)
    return Reply.of("info.given", ref=ref)


def may_see(ctx: Context, kind, found, events: list[RequestEvent]) -> bool:
    """The requester, their supervisor, whoever decides or decided or took part, HR."""
    me = ctx.actor.id
    if ctx.actor.role in PRIVILEGED or me in (found.employee_id, _decider_id(ctx, kind, found)):
        return True
    requester = ctx.session.get(Employee, found.employee_id)
    return (requester is not None and requester.supervisor_id == me) or any(
        me in (e.actor_id, e.target_id) for e in events)


@handles(History)
def history(ctx: Context, command: History) -> Reply:
    if command.kind in FOLLOWED:  # shown by its own module
        return FOLLOWED[command.kind].history(ctx, command.record_id)
    ref = f"{command.kind}{command.record_id}"
    kind = DECIDABLE[command.kind]
    found = ctx.session.get(kind.model, command.record_id)
    events = list(ctx.session.exec(select(RequestEvent).where(RequestEvent.ref == ref)
                                   .order_by(RequestEvent.id)).all())
    if found is None or not may_see(ctx, kind, found, events):
        raise Refusal("refuse.not_found", ref=ref)
    header = described(ctx, ref)
    reply = Reply.of("history.header" if header["since"] else "history.header_not_reported",
                     **header)
    ids = {i for e in events for i in (e.actor_id, e.target_id) if i is not None}
    names = {e.id: e.name for e in ctx.session.exec(
        select(Employee).where(Employee.id.in_(ids))).all()} if ids else {}
    for event in events:
        reply.messages.append(Message(f"history.{event.event}", {
            "when": ctx.local(event.created_at), "actor": names.get(event.actor_id, "Frontline"),
            "target": names.get(event.target_id, "-"), "detail": event.detail or "-"}))
    return reply
