"""A case opens by itself, in the transaction that keeps the response: when the
organisation's rules call it unhappy, the person the customer named holds it (their
supervisor is told too); when nobody is named, the team's supervisor holds it, or
whoever decides in their place while they are away. Both get the card with its
buttons and the call-back deadline."""

from datetime import datetime, timedelta

from sqlmodel import Session, select

from handlers.base import find_approver, on_duty, queue, record_event
from handlers.policy import Policy
from handlers.recovery.cases import LETTER, card_actions, params
from handlers.recovery.masking import mask
from storage.enums import RecoveryStatus, Role
from storage.models import Employee, RecoveryCase
from storage.rows import insert_row

NOBODY = 0  # on_duty never hands to "the requester": a case has none


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


def open_case(session: Session, policy: Policy, now: datetime, *, feedback_id: int,
              kind: str, score: int | None, text: str, customer_ref: str, touchpoint: str,
              team_id: int, employee_id: int | None) -> int | None:
    """Open the case a kept response calls for and tell its holder; returns its id, or
    None when the rules call the response no reason for one (or nobody could hold it)."""
    rules = policy.recovery
    if not rules.unhappy(kind, score):
        return None
    named = session.get(Employee, employee_id) if employee_id else None
    if named is not None and named.active:
        holder, supervisor = named, find_approver(session, named)
        if supervisor is not None:
            supervisor = on_duty(session, supervisor, named.id, now)
    else:
        supervisor = None
        holder = team_supervisor(session, team_id)
        if holder is None:
            return None
        holder = on_duty(session, holder, NOBODY, now)
    case = insert_row(session, RecoveryCase(
        feedback_id=feedback_id, team_id=team_id, employee_id=employee_id,
        holder_id=holder.id, kind=kind, score=score, text=mask(text),
        customer_ref=customer_ref, touchpoint=touchpoint, status=RecoveryStatus.OPEN,
        opened_at=now, due_at=now + timedelta(hours=rules.callback_within(kind))))
    ref = f"{LETTER}{case.id}"
    record_event(session, now, ref, "case_opened", None, holder.id)
    shown = params(case, policy.organisation.tz)
    queue(session, now, "person", "notify.recovery_case", shown, card_actions(case),
          employee_id=holder.id)
    if supervisor is not None and supervisor.id != holder.id:
        queue(session, now, "person", "notify.recovery_case_supervisor",
              {**shown, "who": holder.name}, card_actions(case), employee_id=supervisor.id)
    return case.id
