"""A case opens by itself, in the transaction that keeps the response: when the
organisation's rules call it unhappy, the person the customer named holds it (their
supervisor is told too); when nobody is named, the team's supervisor holds it, or
whoever decides in their place while they are away. Both get the card with its
buttons and the call-back deadline. A survey import opens its batch's cases together:
one statement per table, each holder found once."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import insert
from sqlmodel import Session, select

from handlers.base import away, find_approver, on_duty, outbox_row, queue_all
from handlers.feedback_days import batches
from handlers.policy import Policy
from handlers.recovery.cases import card_actions, params, ref_of
from handlers.recovery.masking import mask
from storage.enums import PRIVILEGED, RecoveryStatus, Role
from storage.models import Employee, RecoveryCase, RequestEvent
from storage.rows import connection, many_returning

NOBODY = 0  # on_duty never hands to "the requester": a case has none
CASES, EVENTS = RecoveryCase.__table__, RequestEvent.__table__
READ = 1_000  # people read per query


@dataclass(frozen=True)
class Kept:
    """A response just kept, as a case would open from it."""

    feedback_id: int
    kind: str
    score: int | None
    text: str
    customer_ref: str
    touchpoint: str
    team_id: int
    employee_id: int | None


def team_supervisor(session: Session, team_id: int) -> Employee | None:
    """The team's supervisor (the first, when it has several), else HR or an admin."""
    found = session.exec(select(Employee).where(
        Employee.team_id == team_id, Employee.role == Role.SUPERVISOR, Employee.active)
        .order_by(Employee.id)).first()
    if found is not None:
        return found
    return session.exec(select(Employee).where(
        Employee.role.in_((Role.HR, Role.ADMIN)), Employee.active)
        .order_by(Employee.role.desc(), Employee.id)).first()  # hr before admin


def open_cases(session: Session, policy: Policy, now: datetime,
               responses: Iterable[Kept]) -> dict[int, int]:
    """Open the cases the kept responses call for and tell their holders; returns
    feedback id -> case id for those that opened one (the rules may call a response no
    reason for one, or nobody could hold it)."""
    rules = policy.recovery
    responses = [kept for kept in responses if rules.unhappy(kept.kind, kept.score)]
    named = _named_holders(session, now, {kept.employee_id for kept in responses
                                          if kept.employee_id})

    @cache
    def unnamed(team_id: int) -> tuple[Employee, None] | None:
        holder = team_supervisor(session, team_id)
        return holder and (on_duty(session, holder, NOBODY, now), None)

    rows, told = [], []
    for kept in responses:
        holders = named.get(kept.employee_id) or unnamed(kept.team_id)
        if holders is None:
            continue
        rows.append({
            "feedback_id": kept.feedback_id, "team_id": kept.team_id,
            "employee_id": kept.employee_id, "holder_id": holders[0].id, "kind": kept.kind,
            "score": kept.score, "text": mask(kept.text), "customer_ref": kept.customer_ref,
            "touchpoint": kept.touchpoint, "status": RecoveryStatus.OPEN, "opened_at": now,
            "due_at": now + timedelta(hours=rules.callback_within(kept.kind))})
        told.append(holders)
    if not rows:
        return {}
    ids = dict(connection(session).execute(
        many_returning(insert(CASES).returning(CASES.c.feedback_id, CASES.c.id)), rows).all())
    events, cards = [], []
    for row, (holder, supervisor) in zip(rows, told, strict=True):
        case = RecoveryCase.model_construct(id=ids[row["feedback_id"]], **row)
        events.append({"ref": ref_of(case), "event": "case_opened", "actor_id": None,
                       "target_id": holder.id, "detail": "", "created_at": now})
        shown, actions = params(case, policy.organisation.tz), card_actions(case)
        cards.append(outbox_row(now, "person", "notify.recovery_case", shown, actions,
                                employee_id=holder.id))
        if supervisor is not None and supervisor.id != holder.id:
            cards.append(outbox_row(now, "person", "notify.recovery_case_supervisor",
                                    {**shown, "who": holder.name}, actions,
                                    employee_id=supervisor.id))
    connection(session).execute(insert(EVENTS), events)
    queue_all(session, cards)
    return ids


def _named_holders(session: Session, now: datetime, employee_ids: set[int],
                   ) -> dict[int, tuple[Employee, Employee | None]]:
    """Active person named -> (them, as the case's holder; whoever is told beside them).
    The people named and their supervisors are read a thousand at a time, and each
    supervisor's absence once, however many people they lead."""
    people = _read(session, employee_ids)
    _read(session, {person.supervisor_id for person in people if person.supervisor_id})
    approvers: dict[tuple[int | None, int], Employee | None] = {}
    absent: dict[int, bool] = {}
    found = {}
    for person in people:
        if not person.active:
            continue
        # find_approver depends on the person only through their supervisor, unless they
        # are HR or an admin, who are never their own approver
        key = (person.supervisor_id, person.id if person.role in PRIVILEGED else 0)
        if key not in approvers:
            approvers[key] = find_approver(session, person)
        supervisor = approvers[key]
        if supervisor is not None:
            if supervisor.id not in absent:
                absent[supervisor.id] = away(session, supervisor.id, now) is not None
            if absent[supervisor.id]:  # who stands in may depend on who is named
                supervisor = on_duty(session, supervisor, person.id, now)
        found[person.id] = (person, supervisor)
    return found


def _read(session: Session, ids: set[int]) -> list[Employee]:
    """The people, into the session (so `session.get` finds them without a query)."""
    return [person for chunk in batches(sorted(ids), READ) for person in session.exec(
        select(Employee).where(Employee.id.in_(chunk))).all()]
