"""The customer's good news, carried on as it arrives, in the transaction that keeps it:
a good score naming someone is told to them (their praise tells them already: +10), and
a later good word from a customer who had a case is that case's recovery yield — a line
of its history, told to its holder, counted in the weekly digest. The response is kept
once, so a re-import or a retried webhook tells nobody again. Someone who chose the daily
summary is told in it instead (handlers/summary.py)."""

from datetime import datetime

from sqlalchemy import String, cast, func, literal
from sqlmodel import Session, select

from handlers import summary
from handlers.base import outbox_row, queue, record_event
from handlers.policy import Policy, Recovery
from handlers.recovery.cases import LETTER, SCORED, ref_of
from handlers.recovery.masking import mask
from storage.models import Feedback, RecoveryCase, RequestEvent

QUOTED = 200  # characters of the customer's words a history line quotes


def what(kind: str, score: int | None, text: str) -> str:
    """`NPS 10`, `CSAT 5/5`, or a praise's words (masked, cut short)."""
    if kind in SCORED:
        return SCORED[kind].format(score=score)
    words = mask(text)
    return f"“{words[:QUOTED]}…”" if len(words) > QUOTED else f"“{words}”"


def better(rules: Recovery, case: RecoveryCase, kind: str, score: int | None) -> bool:
    """Praise or a good score, or a score of the case's kind above the one it opened
    with that the rules no longer call unhappy."""
    if rules.happy(kind, score):
        return True
    if kind != case.kind or score is None or case.score is None or rules.unhappy(kind, score):
        return False
    return score < case.score if kind == "ces" else score > case.score


def arrived(session: Session, policy: Policy, now: datetime, *, ref: str, kind: str,
            score: int | None, text: str, customer_ref: str, employee_id: int | None,
            received_at: datetime) -> int:
    """Tell the person named a good score, and credit the customer's earlier cases
    (`ref`: the response's own, F17 or P4); returns how many cases were credited."""
    rules = policy.recovery
    if kind in SCORED and employee_id is not None and rules.live_voice \
            and rules.happy(kind, score):
        shown = {"what": what(kind, score, text), "text": mask(text)}
        summary.queue_or_keep(session, [outbox_row(
            now, "person", "notify.customer_voice" if text.strip()
            else "notify.customer_voice_score", shown, employee_id=employee_id)])
    if not customer_ref:
        return 0
    earlier = session.exec(select(RecoveryCase).join(
        Feedback, Feedback.id == RecoveryCase.feedback_id).where(
        func.lower(RecoveryCase.customer_ref) == customer_ref.lower(),
        Feedback.received_at < received_at).order_by(RecoveryCase.id)).all()
    credited = 0
    for case in earlier:
        if not better(rules, case, kind, score):
            continue
        detail = f"{ref} {what(kind, score, text)}"
        record_event(session, now, ref_of(case), "case_yield", None, None, detail)
        queue(session, now, "person", "notify.recovery_yield",
              {"ref": ref_of(case), "customer": case.customer_ref, "detail": detail},
              employee_id=case.holder_id)
        credited += 1
    return credited


def case_ref():
    """A case's reference (`K3`) in SQL, to meet its history's lines."""
    return literal(LETTER) + cast(RecoveryCase.id, String)


def came_back(session: Session, team_id: int, since: datetime, until: datetime) -> int:
    """The team's cases whose customer came back (a yield) in [since, until)."""
    return int(session.exec(select(func.count(func.distinct(RecoveryCase.id))).join(
        RequestEvent, RequestEvent.ref == case_ref()).where(
        RecoveryCase.team_id == team_id, RequestEvent.event == "case_yield",
        RequestEvent.created_at >= since, RequestEvent.created_at < until)).one())
