"""The team cockpit: one team's month with the voice of the customer (NPS, CSAT,
complaints, praise) beside the voice of the employee (eNPS from the pulse, waivers,
suggestions, pulse comments), and the themes that hurt both sides: mirror problems,
ranked by the weaker side first (a theme is only as shared as its smaller count)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal
from sqlmodel import Session, SQLModel, select

from handlers import themes
from handlers.policy import Policy
from handlers.pulse import PulseFigures, pulse_ids, team_pulse
from handlers.reports.voices import CustomerVoice, customer_voice, theme_voice
from storage.enums import PraiseStatus
from storage.models import Employee, Praise, PulseAnswer, Suggestion, Waiver


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


def _tally(session: Session, config: Policy, model: type[SQLModel], *where) -> list[int]:
    """Per theme of the vocabulary, how many of the model's rows matching `where` are
    tagged with it: one aggregate query."""
    if not config.themes:
        return []
    return [int(n) for n in session.exec(select(*themes.counted(model.themes, config.themes))
                                         .where(model.themes != "", *where)).one()]


def cockpit(session: Session, config: Policy, team_id: int, since: datetime,
            until: datetime) -> Cockpit:
    """The team's voices over [since, until): the cockpit's month in the team's own
    timezone, so that a response at 23:30 on its last local day is the month's."""
    customers = customer_voice(session, since, until, [team_id]).get(team_id, CustomerVoice())
    members = select(Employee.id).where(Employee.team_id == team_id)
    praise = int(session.exec(select(func.count()).select_from(Praise).where(
        Praise.status == PraiseStatus.CREDITED, Praise.created_at >= since,
        Praise.created_at < until, Praise.employee_id.in_(members))).one())
    pulse = team_pulse(session, config, team_id, since, until)
    waived = (Waiver.employee_id.in_(members), Waiver.occurred_at >= since,
              Waiver.occurred_at < until)
    suggested = (Suggestion.employee_id.in_(members), Suggestion.created_at >= since,
                 Suggestion.created_at < until)
    waivers = int(session.exec(select(func.count()).select_from(Waiver).where(*waived)).one())
    suggestions = int(session.exec(select(func.count()).select_from(Suggestion)
                                   .where(*suggested)).one())
    by_theme = theme_voice(session, since, until, team_id)
    heard = [by_theme[theme.key].unhappy if theme.key in by_theme else 0
             for theme in config.themes]
    felt = [sum(counts) for counts in zip(
        _tally(session, config, Waiver, *waived), _tally(session, config, Suggestion, *suggested),
        # pulse comments count only where the team's pulse figures may be shown
        _tally(session, config, PulseAnswer, PulseAnswer.pulse_id.in_(pulse_ids(
            team_id, since, until)), literal(pulse.enps is not None)), strict=True)]
    ranked = sorted((ThemeSides(theme.key, customer, staff) for theme, customer, staff
                     in zip(config.themes, heard, felt, strict=True) if customer or staff),
                    key=lambda t: (-min(t.customers, t.staff), -(t.customers + t.staff)))
    return Cockpit(customers, praise, pulse, waivers, suggestions, ranked)
