"""What customers and staff of one team said about one theme over a window: the counts
a council item's business case prices, and that its validation compares before and
after the fix."""

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, or_
from sqlmodel import Session, SQLModel, select

from handlers.base import from_minor
from handlers.compensation import COUNTED
from handlers.policy import Policy, Theme
from handlers.pulse import pulse_ids, team_pulse
from handlers.reports.voices import CustomerVoice, customer_voice, theme_voice
from handlers.scores import DETRACTOR
from handlers.themes import themes_of
from storage.models import (
    Compensation,
    Employee,
    Feedback,
    PulseAnswer,
    Suggestion,
    Waiver,
)

CENTS = Decimal("0.01")
RULE = "rule:"  # an item opened for a waived rule: the rule's own text is its keyword


@dataclass(frozen=True)
class ThemeVoices:
    complaints: int  # complaints on the theme
    detractors: int  # NPS 0-6 whose comment is on the theme
    goodwill_minor: int  # compensation given for reasons on the theme (organisation currency)
    waivers: int  # rules waived on the theme
    staff_mentions: int  # suggestions and pulse comments on the theme
    nps: int | None  # the team's NPS over the window
    enps: int | None  # its pulse eNPS, when enough answered

    def as_dict(self) -> dict:
        return asdict(self)


def _matcher(config: Policy, theme: str) -> Callable[[str], bool]:
    themes = ([Theme.model_construct(key=theme, names={}, keywords=[theme[len(RULE):]])]
              if theme.startswith(RULE) else [t for t in config.themes if t.key == theme])
    return lambda text: bool(themes_of(text, themes))


def theme_voices(session: Session, config: Policy, theme: str, team_id: int,
                 since: datetime, until: datetime) -> ThemeVoices:
    """A theme of the vocabulary is counted in the database from the tags its records
    keep; an item's own waived rule (`rule:…`) is looked for in the texts."""
    if theme.startswith(RULE):
        return _searched(session, config, theme, team_id, since, until)
    tagged = f"%|{theme}|%"
    members = select(Employee.id).where(Employee.team_id == team_id)

    def count(model: type[SQLModel], *where) -> int:
        return int(session.exec(select(func.count()).select_from(model).where(
            model.themes.like(tagged), *where)).one())

    heard = theme_voice(session, since, until, team_id).get(theme, CustomerVoice())
    waivers = count(Waiver, Waiver.employee_id.in_(members), Waiver.occurred_at >= since,
                    Waiver.occurred_at < until)
    pulse = team_pulse(session, config, team_id, since, until)
    mentions = count(Suggestion, Suggestion.employee_id.in_(members),
                     Suggestion.created_at >= since, Suggestion.created_at < until) + (
        count(PulseAnswer, PulseAnswer.pulse_id.in_(pulse_ids(team_id, since, until)))
        if pulse.enps is not None else 0)  # pulse comments only where the pulse may show
    voice = customer_voice(session, since, until, [team_id]).get(team_id, CustomerVoice())
    goodwill = _goodwill(session, config, theme, team_id, since, until)
    return ThemeVoices(heard.complaints, heard.detractors, goodwill, waivers, mentions,
                       voice.nps, pulse.enps)


def _goodwill(session: Session, config: Policy, theme: str, team_id: int, since: datetime,
              until: datetime) -> int:
    """Compensation given for reasons on the theme (organisation currency, minor units)."""
    on_theme = _matcher(config, theme)
    members = select(Employee.id).where(Employee.team_id == team_id)
    return int(sum(amount for amount, reason in session.exec(select(
        Compensation.amount_minor, Compensation.reason).where(
        Compensation.employee_id.in_(members), Compensation.status.in_(COUNTED),
        Compensation.currency == config.organisation.currency,
        Compensation.created_at >= since, Compensation.created_at < until)).all()
        if on_theme(reason)))


def _searched(session: Session, config: Policy, theme: str, team_id: int,
              since: datetime, until: datetime) -> ThemeVoices:
    on_theme = _matcher(config, theme)
    said = session.exec(select(Feedback.kind, Feedback.score, Feedback.text).where(
        Feedback.team_id == team_id, Feedback.received_at >= since,
        Feedback.received_at < until, Feedback.text != "",
        or_(Feedback.kind == "complaint", (Feedback.kind == "nps") & (Feedback.score <= DETRACTOR)),
    )).all()
    complaints = sum(kind == "complaint" and on_theme(text) for kind, _score, text in said)
    detractors = sum(kind == "nps" and score <= DETRACTOR and on_theme(text)
                     for kind, score, text in said)
    members = select(Employee.id).where(Employee.team_id == team_id)
    waivers = sum(on_theme(" ".join(parts)) for parts in session.exec(select(
        Waiver.rule, Waiver.done_instead, Waiver.why).where(
        Waiver.employee_id.in_(members), Waiver.occurred_at >= since,
        Waiver.occurred_at < until)).all())
    pulse = team_pulse(session, config, team_id, since, until, with_comments=True)
    suggested = session.exec(select(Suggestion.text).where(
        Suggestion.employee_id.in_(members), Suggestion.created_at >= since,
        Suggestion.created_at < until)).all()
    mentions = sum(on_theme(text) for text in [*suggested, *pulse.comments])
    voice = customer_voice(session, since, until, [team_id]).get(team_id, CustomerVoice())
    return ThemeVoices(int(complaints), int(detractors),
                       _goodwill(session, config, theme, team_id, since, until),
                       int(waivers), int(mentions), voice.nps, pulse.enps)


def losses(config: Policy, voices: ThemeVoices) -> tuple[Decimal, Decimal]:
    """(what the customers' side costs, what the staff's side costs), in the organisation
    currency: complaints and detractors at their configured value plus the goodwill paid;
    every workaround (waiver, suggestion, pulse comment) at its hours and hourly cost."""
    rules = config.council
    customers = (voices.complaints * rules.complaint_cost
                 + voices.detractors * rules.detractor_value + from_minor(voices.goodwill_minor))
    staff = (voices.waivers + voices.staff_mentions) * rules.workaround_hours * rules.hourly_cost
    return customers.quantize(CENTS), staff.quantize(CENTS)


def reporters(session: Session, config: Policy, theme: str, team_id: int, since: datetime,
              until: datetime) -> list[int]:
    """The team's people who waived a rule or made a suggestion on the theme."""
    on_theme = _matcher(config, theme)
    members = select(Employee.id).where(Employee.team_id == team_id)
    waived = session.exec(select(Waiver.employee_id, Waiver.rule, Waiver.done_instead,
                                 Waiver.why).where(
        Waiver.employee_id.in_(members), Waiver.occurred_at >= since,
        Waiver.occurred_at < until)).all()
    suggested = session.exec(select(Suggestion.employee_id, Suggestion.text).where(
        Suggestion.employee_id.in_(members), Suggestion.created_at >= since,
        Suggestion.created_at < until)).all()
    return sorted({person for person, *texts in [*waived, *suggested]
                   if on_theme(" ".join(texts))})
