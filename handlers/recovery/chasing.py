"""Call-back deadlines chased by the reminders ritual: the holder is reminded before
the deadline; once it has passed without the customer reached, the holder's supervisor
(or whoever decides in their place) is told, and later HR. Each is sent once, whichever
worker gets there first (`send_once`), and is a line of the case's history."""

from datetime import datetime, timedelta

from sqlmodel import Session, select

from handlers.base import find_approver, on_duty, queue, record_event
from handlers.policy import Policy
from handlers.recovery.cases import card_actions, params, ref_of
from storage.enums import RecoveryStatus
from storage.models import Employee, RecoveryCase, RequestEvent
from storage.rows import send_once


def _escalate(session: Session, now: datetime, case: RecoveryCase, stage: str,
              exclude: frozenset[int], shown: dict) -> int | None:
    """Tell the holder's supervisor (or, with the supervisor excluded, HR) on duty, once;
    returns who was told."""
    holder = session.get(Employee, case.holder_id)
    target = find_approver(session, holder, exclude=exclude)
    if target is None or not send_once(session, f"recovery:{stage}:{ref_of(case)}", now):
        return None
    target = on_duty(session, target, holder.id, now)
    record_event(session, now, ref_of(case), "case_escalated", None, target.id, stage)
    queue(session, now, "person", "notify.recovery_overdue", {**shown, "who": holder.name},
          card_actions(case), employee_id=target.id)
    return target.id


def chase(session: Session, config: Policy, now: datetime) -> int:
    """Remind and escalate the open cases whose customer is not reached yet; returns
    how many messages went."""
    rules, tz = config.recovery, config.organisation.tz
    sent = 0
    for case in session.exec(select(RecoveryCase).where(
            RecoveryCase.status == RecoveryStatus.OPEN, RecoveryCase.called_back_at.is_(None),
            RecoveryCase.due_at <= now + timedelta(hours=rules.remind_hours_before))
            .order_by(RecoveryCase.id)).all():
        ref, shown = ref_of(case), params(case, tz)
        if case.due_at > now:
            if send_once(session, f"recovery:remind:{ref}", now):
                record_event(session, now, ref, "case_reminded", None, case.holder_id)
                queue(session, now, "person", "notify.recovery_due_soon", shown,
                      card_actions(case), employee_id=case.holder_id)
                sent += 1
            continue
        told = _escalate(session, now, case, "supervisor", frozenset(), shown)
        sent += told is not None
        if case.due_at + timedelta(hours=rules.hr_after_hours) <= now:
            holder = session.get(Employee, case.holder_id)
            # HR: past the holder's supervisor and whoever was told at the deadline
            first = session.exec(select(RequestEvent.target_id).where(
                RequestEvent.ref == ref, RequestEvent.event == "case_escalated")).all()
            barred = frozenset({i for i in (holder.supervisor_id, *first) if i is not None})
            sent += _escalate(session, now, case, "hr", barred, shown) is not None
    return sent
