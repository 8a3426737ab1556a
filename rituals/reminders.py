"""Reminders that follow each record rather than the calendar: waiver deadlines and
approvals left waiting. Each is sent once (per day for approval nudges), whichever
worker gets there first, because the record of sending it has a unique key."""

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from handlers import away, pulse, waivers
from handlers.base import decision_actions, find_approver, on_duty, queue, record_event
from handlers.council.auto_open import auto_open
from handlers.council.notices import tell_all_reporters
from handlers.policy import Policy
from handlers.recovery.chasing import chase
from handlers.registry import with_approver
from rituals import daily_summary
from storage.models import Employee
from storage.rows import send_once


def nudge_approvers(session: Session, config: Policy, now: datetime) -> int:
    """Remind approvers of requests older than the configured age, at most once a day
    each; hand a request still undecided after the longer age to the approver's
    supervisor (or HR), once, so that nothing waits on nobody."""
    settings = config.rituals.reminders
    remind_before = now - timedelta(hours=settings.approval_after_hours)
    escalate_before = now - timedelta(hours=settings.approval_escalate_after_hours)
    today = now.astimezone(config.organisation.tz).date().isoformat()
    sent = 0
    for kind in with_approver():
        model, since = kind.model, getattr(kind.model, kind.since)
        for record in session.exec(select(model).where(
                model.status == kind.awaiting, since <= remind_before)).all():
            ref = f"{kind.letter}{record.id}"
            waited = getattr(record, kind.since)
            if waited <= escalate_before and send_once(session, f"escalate:{ref}", now):
                # The approver's own supervisor (or HR): never the requester.
                target = find_approver(session, session.get(Employee, record.approver_id),
                                       exclude=frozenset({record.employee_id}))
                if target is not None:
                    target = on_duty(session, target, record.employee_id, now)
                    record_event(session, now, ref, "escalated", None, target.id,
                                 str(settings.approval_escalate_after_hours))
                    session.execute(update(model).where(model.id == record.id)
                                    .values(approver_id=target.id))
                    queue(session, now, "person", "notify.approval_escalated",
                          {"ref": ref, "hours": settings.approval_escalate_after_hours},
                          decision_actions(ref), employee_id=target.id)
                    sent += 1
                    continue
            if send_once(session, f"remind:{ref}:{today}", now):
                hours = int((now - waited).total_seconds() // 3600)
                queue(session, now, "person", "notify.approval_waiting",
                      {"ref": ref, "hours": hours}, decision_actions(ref),
                      employee_id=record.approver_id)
                sent += 1
    return sent


def run_reminders(session: Session, config: Policy, now: datetime) -> str:
    settings = config.rituals.reminders
    due = waivers.remind_due(session, config, now, timedelta(hours=settings.waiver_hours_before))
    overdue = waivers.escalate_overdue(session, config, now)
    handed = away.start_due(session, config, now)
    nudged = nudge_approvers(session, config, now)
    closed = pulse.close_pulses(session, now)
    opened = auto_open(session, config, now)
    heard = tell_all_reporters(session, config, now)
    chased = chase(session, config, now)
    summaries = daily_summary.send_due(session, config, now)
    return (f"{due} waiver reminders, {overdue} waiver escalations, {handed} requests handed "
            f"to delegates, {nudged} approval nudges, {closed} pulses closed, "
            f"{opened} council items opened, "
            f"{heard} reporters told their council item is worked on, "
            f"{chased} recovery call-back reminders and escalations, "
            f"{summaries} daily summaries")
