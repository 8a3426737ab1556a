"""The team cockpit: one team's month with the voice of the customer (NPS, CSAT,
complaints, praise) beside the voice of the employee (eNPS from the pulse, waivers,
suggestions, pulse comments), and the themes that hurt both sides: mirror problems,
ranked by the weaker side first (a theme is only as shared as its smaller count)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, select

from handlers import themes
from handlers.policy import Policy
from handlers.pulse import PulseFigures, team_pulse
from handlers.reports.voices import CustomerVoice, customer_voice
from storage.enums import PraiseStatus
from storage.models import Employee, Feedback, Praise, Suggestion, Waiver


@dataclass(frozen=True)
class ThemeSides:
    key: str
    customers: int  # complaints and detractors' comments on it
    staff: int  # waivers, suggestions and pulse comments on it

    @property
    def mirror(self) -> bool:
        return self.customers > 0 and self.staff > 0


@dataclass(frozen=True)
class Cockpit:
    customers: CustomerVoice
    praise: int
    pulse: PulseFigures
    waivers: int
    suggestions: int
    themes: list[ThemeSides]  # every theme with a voice on either side, mirror ones first

    @property
    def mirror(self) -> list[ThemeSides]:
        return [theme for theme in self.themes if theme.mirror]


def customer_texts(session: Session, team_id: int, since: datetime, until: datetime
                   ) -> list[str]:
    """Complaints, and what detractors (NPS 0-6, CSAT 1-2) said."""
    return list(session.exec(select(Feedback.text).where(
        Feedback.team_id == team_id, Feedback.received_at >= since,
        Feedback.received_at < until, Feedback.text != "",
        or_(Feedback.kind == "complaint", (Feedback.kind == "nps") & (Feedback.score <= 6),
            (Feedback.kind == "csat") & (Feedback.score <= 2)))).all())


def staff_texts(session: Session, team_id: int, since: datetime, until: datetime,
                pulse: PulseFigures) -> tuple[list[str], int, int]:
    """(waived rules with why, suggestions and pulse comments; waivers; suggestions)."""
    members = select(Employee.id).where(Employee.team_id == team_id)
    waived = [" ".join(parts) for parts in session.exec(select(
        Waiver.rule, Waiver.done_instead, Waiver.why).where(
        Waiver.employee_id.in_(members), Waiver.occurred_at >= since,
        Waiver.occurred_at < until)).all()]
    suggested = list(session.exec(select(Suggestion.text).where(
        Suggestion.employee_id.in_(members), Suggestion.created_at >= since,
        Suggestion.created_at < until)).all())
    return [*waived, *suggested, *pulse.comments], len(waived), len(suggested)


def cockpit(session: Session, config: Policy, team_id: int, since: datetime,
            until: datetime) -> Cockpit:
    customers = customer_voice(session, since, until, [team_id]).get(team_id, CustomerVoice())
    praise = int(session.exec(select(func.count()).select_from(Praise).where(
        Praise.status == PraiseStatus.CREDITED, Praise.created_at >= since,
        Praise.created_at < until, Praise.employee_id.in_(
            select(Employee.id).where(Employee.team_id == team_id)))).one())
    pulse = team_pulse(session, config, team_id, since, until, with_comments=True)
    texts, waivers, suggestions = staff_texts(session, team_id, since, until, pulse)
    heard = themes.tally(customer_texts(session, team_id, since, until), config)
    felt = themes.tally(texts, config)
    ranked = sorted((ThemeSides(key, heard[key], felt[key]) for key in heard
                     if heard[key] or felt[key]),
                    key=lambda t: (-min(t.customers, t.staff), -(t.customers + t.staff)))
    return Cockpit(customers, praise, pulse, waivers, suggestions, ranked)
