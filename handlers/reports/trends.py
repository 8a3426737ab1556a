"""A team's last months side by side, for the cockpit's trend lines: the customers' NPS
and CSAT beside the staff's pulse eNPS and waivers. Four aggregate queries however many
months: each row is put in its local month by the database (`bucket`). Whole UTC days
are summed from the counts kept per day, the UTC days a local month starts in from
their responses."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import Label, and_, case, func, or_
from sqlmodel import Session, select

from handlers.calendar import month_bounds, months_back
from handlers.feedback_days import COUNTS, day_of, start_of
from handlers.policy import Policy
from handlers.pulse import percent
from handlers.reports.recovery_figures import custom_plans
from handlers.reports.voices import COLUMNS, CustomerVoice
from handlers.scores import DETRACTOR, PROMOTER
from storage.models import Employee, Feedback, FeedbackDay, Pulse, PulseAnswer, Waiver


@dataclass(frozen=True)
class MonthPoint:
    month: str  # "2026-11"
    nps: int | None
    csat: int | None  # % of CSAT answers 4-5
    enps: int | None  # None below the pulse's minimum of answers
    waivers: int


def bucket(column, bounds: list) -> Label[int]:
    """The index i of the window [bounds[i], bounds[i + 1]) holding `column`; labelled,
    so GROUP BY names it rather than repeating it with bound values of its own."""
    return case(*((column < end, index) for index, end in enumerate(bounds[1:-1])),
                else_=len(bounds) - 2).label("bucket")


def team_trend(session: Session, config: Policy, team_id: int, month: str, tz: tzinfo,
               count: int = 12) -> list[MonthPoint]:
    """The `count` local months ending with `month`, oldest first."""
    custom_plans(session)
    months = months_back(month, count)
    bounds = [month_bounds(m, tz)[0] for m in months] + [month_bounds(month, tz)[1]]
    voices = _customers(session, team_id, bounds)
    enps = _pulse(session, config, team_id, bounds)
    members = select(Employee.id).where(Employee.team_id == team_id)
    which = bucket(Waiver.occurred_at, bounds)
    waived = dict(session.exec(select(which, func.count()).where(
        Waiver.employee_id.in_(members), Waiver.occurred_at >= bounds[0],
        Waiver.occurred_at < bounds[-1]).group_by(which)).all())
    return [MonthPoint(m, voices[i].nps, voices[i].csat, enps.get(i), int(waived.get(i, 0)))
            for i, m in enumerate(months)]


def _customers(session: Session, team_id: int, bounds: list[datetime],
               ) -> dict[int, CustomerVoice]:
    totals: dict[int, Counter] = defaultdict(Counter)
    split = sorted({day_of(b) for b in bounds if b > start_of(day_of(b))})
    days = [day_of(b) + (b > start_of(day_of(b))) for b in bounds]  # whole days from
    which = bucket(FeedbackDay.day, days)
    for index, *values in session.execute(select(
            which, *(func.sum(getattr(FeedbackDay, name)) for name in COUNTS)).where(
            FeedbackDay.team_id == team_id, FeedbackDay.employee_id == 0,
            FeedbackDay.theme == "", FeedbackDay.day >= days[0], FeedbackDay.day < days[-1],
            FeedbackDay.day.not_in(split) if split else True).group_by(which)):
        totals[index].update(dict(zip(COUNTS, values, strict=True)))
    if split:
        which = bucket(Feedback.received_at, bounds)
        # each split day's own range of the (team, time) index, within the window: with
        # the team outside the OR, SQLite read all the team's responses
        for index, *values in session.execute(select(which, *COLUMNS).where(or_(*(and_(
                Feedback.team_id == team_id,
                Feedback.received_at >= max(start_of(day), bounds[0]),
                Feedback.received_at < min(start_of(day + 1), bounds[-1]))
                for day in split))).group_by(which)):
            totals[index].update(dict(zip(COUNTS, values, strict=False)))
    return defaultdict(CustomerVoice, {i: CustomerVoice(**{n: int(c[n]) for n in COUNTS})
                                       for i, c in totals.items()})


def _pulse(session: Session, config: Policy, team_id: int, bounds: list[datetime],
           ) -> dict[int, int]:
    """Month index -> eNPS, where the month's pulses had enough answers to show."""
    which = bucket(Pulse.opened_at, bounds)
    shown = {}
    for index, answers, promoters, detractors in session.execute(select(
            which, func.count(), func.sum(case((PulseAnswer.enps >= PROMOTER, 1), else_=0)),
            func.sum(case((PulseAnswer.enps <= DETRACTOR, 1), else_=0)))
            .select_from(PulseAnswer).join(Pulse, Pulse.id == PulseAnswer.pulse_id).where(
            Pulse.team_id == team_id, Pulse.opened_at >= bounds[0],
            Pulse.opened_at < bounds[-1]).group_by(which)):
        if answers >= config.rituals.pulse.min_answers:
            shown[index] = percent(int(promoters) - int(detractors), int(answers))
    return shown
