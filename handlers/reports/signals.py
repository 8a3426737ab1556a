"""Signals, not accusations: patterns in goodwill worth a look — one customer
compensated by several staff, a person far above their team's usual, an approver who
approves nearly everything from one requester, amounts just under the limit again and
again. Each comes with the records behind it, for the people's supervisors and HR
only; HR can dismiss one with a note, which is kept."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from statistics import median

from sqlmodel import Session, or_, select

from handlers.base import money, to_minor
from handlers.calendar import month_bounds
from handlers.compensation import COUNTED
from handlers.policy import Policy
from handlers.scope import Scope
from storage.enums import CompensationStatus as Status
from storage.models import Compensation, Employee, SignalDismissal

KINDS = ("several_staff", "above_team", "approves_all", "near_limit")


@dataclass
class Signal:
    key: str  # stable, e.g. near_limit:7:2026-11; a dismissal names it
    kind: str  # one of KINDS: the message `signal.<kind>` says it with `params`
    about: tuple[int, ...]  # whose supervisors see it (besides HR)
    params: dict[str, str]
    records: list[Compensation] = field(default_factory=list)
    dismissal: SignalDismissal | None = None

    @property
    def refs(self) -> str:
        return ", ".join(f"C{record.id}" for record in self.records)

    def details(self, names: dict[int, str], tz: tzinfo) -> str:
        """The records behind it, one per line, as a digest shows them: reference,
        person, amount, customer, local day."""
        return "".join(
            f"\n   C{r.id} · {names.get(r.employee_id, '?')} · {money(r.amount_minor, r.currency)}"
            f"{f' · #{r.customer_ref}' if r.customer_ref else ''}"
            f" · {r.created_at.astimezone(tz).date().isoformat()}" for r in self.records)


def month_signals(session: Session, config: Policy, month: str) -> list[Signal]:
    """Every signal of a local month ("2026-11"), dismissed ones with their note."""
    settings, tz = config.signals, config.organisation.tz
    start, end = month_bounds(month, tz)
    currency = config.organisation.currency
    in_month = (Compensation.created_at >= start, Compensation.created_at < end,
                Compensation.status != Status.DECLINED)
    in_window = (Compensation.decided_at >= end - timedelta(days=settings.approval_days),
                 Compensation.decided_at < end, Compensation.decided_by_id.is_not(None))
    given = list(session.exec(select(Compensation).where(*in_month)
                              .order_by(Compensation.id)).all())
    decided = list(session.exec(select(Compensation).where(*in_window)
                                .order_by(Compensation.id)).all())
    # only the people the month's records name: the cost follows activity, not headcount
    people = {e.id: e for e in session.exec(select(Employee).where(or_(
        Employee.id.in_(select(Compensation.employee_id).where(*in_month)),
        Employee.id.in_(select(Compensation.employee_id).where(*in_window)),
        Employee.id.in_(select(Compensation.decided_by_id).where(*in_window))))).all()}
    found = [*_several_staff(given, settings, month, people),
             *_above_team(given, config, month, people, currency),
             *_near_limit(given, config, month, people, currency),
             *_approves_all(decided, settings, month, people)]
    notes = {d.key: d for d in session.exec(select(SignalDismissal).where(
        SignalDismissal.key.in_([s.key for s in found]))).all()} if found else {}
    for signal in found:
        signal.dismissal = notes.get(signal.key)
    return found


def visible(signals: list[Signal], scope: Scope) -> list[Signal]:
    """HR sees every signal; a supervisor those about the people in their care (never
    one about themselves or about a fellow supervisor); nobody else any."""
    if scope.everyone:
        return signals
    me = scope.viewer.id if scope.viewer else None
    return [s for s in signals if me not in s.about and not scope.peers & set(s.about)
            and any(scope.sees(p) for p in s.about)]


def _name(people: dict[int, Employee], employee_id: int) -> str:
    found = people.get(employee_id)
    return found.name if found else "?"


def _several_staff(given, settings, month, people) -> list[Signal]:
    by_customer: dict[str, list[Compensation]] = defaultdict(list)
    for record in given:
        if record.customer_ref:
            by_customer[record.customer_ref.lower()].append(record)
    window, signals = timedelta(days=settings.window_days), []
    for ref, records in by_customer.items():
        for last in records:
            inside = [r for r in records if last.created_at - window <= r.created_at
                      <= last.created_at]
            staff = sorted({r.employee_id for r in inside})
            if len(staff) >= settings.several_staff:
                signals.append(Signal(
                    f"several_staff:{ref}:{month}", "several_staff", tuple(staff),
                    {"customer": f"#{records[0].customer_ref}", "count": str(len(staff)),
                     "days": str(settings.window_days),
                     "who": ", ".join(_name(people, p) for p in staff)}, inside))
                break  # one signal per customer and month
    return signals


def _above_team(given, config, month, people, currency) -> list[Signal]:
    settings = config.signals
    spent: dict[int, int] = defaultdict(int)
    records: dict[int, list[Compensation]] = defaultdict(list)
    for record in given:
        if record.status in COUNTED and record.currency == currency:
            spent[record.employee_id] += record.amount_minor
            records[record.employee_id].append(record)
    by_team: dict[int, list[int]] = defaultdict(list)
    for employee_id in spent:
        team = people[employee_id].team_id if employee_id in people else None
        if team is not None:
            by_team[team].append(employee_id)
    signals = []
    for members in by_team.values():
        if len(members) < settings.team_min_givers:
            continue
        usual = median(spent[m] for m in members)
        for member in members:
            if spent[member] > usual * settings.team_median_multiple:
                signals.append(Signal(
                    f"above_team:{member}:{month}", "above_team", (member,),
                    {"who": _name(people, member), "amount": money(spent[member], currency),
                     "median": money(int(usual), currency),
                     "multiple": f"{spent[member] / usual:.1f}"}, records[member]))
    return signals


def _near_limit(given, config, month, people, currency) -> list[Signal]:
    settings = config.signals
    near: dict[int, list[Compensation]] = defaultdict(list)
    for record in given:
        if record.status != Status.SELF_AUTHORISED or record.currency != currency:
            continue
        employee = people.get(record.employee_id)
        limit = to_minor(config.authority(employee.role).per_incident_limit) if employee else 0
        if limit and settings.near_limit_share * limit <= record.amount_minor <= limit:
            near[record.employee_id].append(record)
    return [Signal(f"near_limit:{who}:{month}", "near_limit", (who,),
                   {"who": _name(people, who), "count": str(len(records)),
                    "share": f"{settings.near_limit_share:.0%}"}, records)
            for who, records in near.items() if len(records) >= settings.near_limit_count]


def _approves_all(decided, settings, month, people) -> list[Signal]:
    pairs: dict[tuple[int, int], list[Compensation]] = defaultdict(list)
    for record in decided:
        pairs[(record.decided_by_id, record.employee_id)].append(record)
    signals = []
    for (approver, requester), records in pairs.items():
        approved = sum(r.status == Status.APPROVED for r in records)
        if len(records) >= settings.approval_min_requests and \
                approved >= settings.approval_share * len(records):
            signals.append(Signal(
                f"approves_all:{approver}:{requester}:{month}", "approves_all", (approver,),
                {"approver": _name(people, approver), "who": _name(people, requester),
                 "approved": str(approved), "count": str(len(records)),
                 "days": str(settings.approval_days)}, records))
    return signals


def dismiss(session: Session, key: str, by: Employee, note: str, now: datetime) -> bool:
    """Record HR's note on a signal; False when it was dismissed already."""
    if session.get(SignalDismissal, key) is not None:
        return False
    session.add(SignalDismissal(key=key, dismissed_by_id=by.id, note=note, created_at=now))
    return True
