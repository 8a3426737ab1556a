"""Signals, not accusations: patterns in goodwill worth a look — one customer
compensated by several staff, a person far above their team's usual, an approver who
approves nearly everything from one requester, amounts just under the limit again and
again. Each comes with the records behind it, for the people's supervisors and HR
only; HR can dismiss one with a note, which is kept."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from itertools import groupby
from operator import itemgetter

from sqlalchemy import and_, case, func
from sqlmodel import Session, or_, select

from handlers.base import money, to_minor
from handlers.calendar import month_bounds
from handlers.compensation import COUNTED
from handlers.policy import Policy
from handlers.scope import Scope
from storage.enums import CompensationStatus as Status
from storage.enums import Role
from storage.models import Compensation, Employee, SignalDismissal, SpendMonth, Thanks
from storage.month_sums import keep_months

KINDS = ("several_staff", "above_team", "approves_all", "near_limit", "thanks_pair",
         "thanks_ring")


@dataclass
class Signal:
    key: str  # stable, e.g. near_limit:7:2026-11; a dismissal names it
    kind: str  # one of KINDS: the message `signal.<kind>` says it with `params`
    about: tuple[int, ...]  # whose supervisors see it (besides HR)
    params: dict[str, str]
    records: list[Compensation] = field(default_factory=list)
    names: dict[str, tuple[int, ...]] = field(default_factory=dict)  # param -> people it names
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


def month_signals(session: Session, config: Policy, month: str,
                  scope: Scope | None = None) -> list[Signal]:
    """Every signal of a local month ("2026-11"), dismissed ones with their note. The
    database finds the candidates (grouped, counted, summed) and only the records behind
    a signal are loaded, so the cost follows what is found, not headcount or the month's
    volume. With a supervisor's `scope`, only what can be about the people in their care
    is looked at (`visible` still decides what they see)."""
    settings = config.signals
    start, end = month_bounds(month, config.organisation.tz)
    mine = None if scope is None or scope.everyone else scope.where
    in_month = (Compensation.created_at >= start, Compensation.created_at < end,
                Compensation.status != Status.DECLINED)
    in_window = (Compensation.decided_at >= end - timedelta(days=settings.approval_days),
                 Compensation.decided_at < end, Compensation.decided_by_id.is_not(None))
    found = [*_several_staff(session, settings, month, in_month, mine),
             *_above_team(session, config, month, in_month, mine),
             *_near_limit(session, config, month, in_month, mine),
             *_approves_all(session, settings, month, in_window, mine),
             *_thanks_pairs(session, settings, month, (start, end), mine),
             *_thanks_rings(session, settings, month, (start, end), mine)]
    names = dict(session.exec(select(Employee.id, Employee.name).where(
        Employee.id.in_({p for signal in found for people in signal.names.values()
                         for p in people}))).all()) \
        if found else {}
    for signal in found:
        signal.params.update({name: ", ".join(names.get(p, "?") for p in people)
                              for name, people in signal.names.items()})
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


def visible_to_each(signals: list[Signal]) -> Callable[[Scope], list[Signal]]:
    """`visible`, for many readers of the same signals (a digest's): a supervisor's share
    is found through the people in their care, not by reading every signal."""
    about: dict[int, list[int]] = defaultdict(list)  # person -> positions of their signals
    for position, signal in enumerate(signals):
        for person in signal.about:
            about[person].append(position)

    def for_scope(scope: Scope) -> list[Signal]:
        if scope.everyone:
            return signals
        mine = sorted({n for person in scope.employee_ids or () for n in about.get(person, ())})
        return visible([signals[n] for n in mine], scope)

    return for_scope


def _records(session: Session, *where) -> list[Compensation]:
    """The compensations behind a signal, as rows (read, never changed: building an
    object each cost a fifth of a busy month's signals)."""
    return list(session.execute(select(Compensation.__table__).where(*where)
                                .order_by(Compensation.id)))


def _records_of(session: Session, column, values: list, *where) -> list[Compensation]:
    """`_records` whose `column` is one of `values`, a thousand values a statement (a
    statement's parameters are bounded: SQLite's at 32,766)."""
    found = [record for start in range(0, len(values), 1000) for record in _records(
        session, *where, column.in_(values[start:start + 1000]))]
    return sorted(found, key=lambda record: record.id)


def _several_staff(session, settings, month, in_month, mine) -> list[Signal]:
    ref = func.lower(Compensation.customer_ref)
    candidates = select(ref).where(*in_month, Compensation.customer_ref != "")
    if mine is not None:  # customers someone in the viewer's care compensated
        candidates = candidates.where(ref.in_(select(ref).where(
            *in_month, mine(Compensation.employee_id)).correlate(None)))
    candidates = candidates.group_by(ref).having(
        func.count(Compensation.employee_id.distinct()) >= settings.several_staff)
    # found first, then their records by the index on the lowered reference: as a
    # subquery, the month was read once more to test each record against it
    found = list(session.exec(candidates))
    by_customer: dict[str, list[Compensation]] = defaultdict(list)
    for record in _records_of(session, ref, found, *in_month):
        by_customer[record.customer_ref.lower()].append(record)
    window, signals = timedelta(days=settings.window_days), []
    for key, records in by_customer.items():
        for last in records:
            inside = [r for r in records if last.created_at - window <= r.created_at
                      <= last.created_at]
            staff = sorted({r.employee_id for r in inside})
            if len(staff) >= settings.several_staff:
                signals.append(Signal(
                    f"several_staff:{key}:{month}", "several_staff", tuple(staff),
                    {"customer": f"#{records[0].customer_ref}", "count": str(len(staff)),
                     "days": str(settings.window_days)}, inside, {"who": tuple(staff)}))
                break  # one signal per customer and month
    return signals


def _above_team(session, config, month, in_month, mine) -> list[Signal]:
    settings, currency = config.signals, config.organisation.currency
    counted = (*in_month, Compensation.status.in_(COUNTED), Compensation.currency == currency)
    keep_months(session, config.organisation.tz)
    # each team's givers in order of their spend, from the (month, currency, team, spent)
    # index alone: its median is the middle one or two
    spending = select(SpendMonth.team_id, SpendMonth.employee_id, SpendMonth.counted_minor) \
        .where(SpendMonth.month == month, SpendMonth.currency == currency,
               SpendMonth.counted_minor > 0, SpendMonth.team_id.is_not(None))
    if mine is not None:  # the teams of the people in the viewer's care, whole
        spending = spending.where(SpendMonth.team_id.in_(
            select(Employee.team_id).where(mine(Employee.id)).correlate(None)))
    flagged: list[tuple[int, int, float]] = []
    for _team, givers in groupby(session.execute(spending.order_by(
            SpendMonth.team_id, SpendMonth.counted_minor)), key=itemgetter(0)):
        spent = [(member, int(total)) for _t, member, total in givers]
        if len(spent) < settings.team_min_givers:
            continue
        usual = (spent[(len(spent) - 1) // 2][1] + spent[len(spent) // 2][1]) / 2
        flagged += [(member, total, usual) for member, total in spent
                    if total > usual * settings.team_median_multiple]
    flagged.sort()
    records: dict[int, list[Compensation]] = defaultdict(list)
    for record in _records_of(session, Compensation.employee_id,
                              [member for member, _, _ in flagged], *counted):
        records[record.employee_id].append(record)
    return [Signal(f"above_team:{member}:{month}", "above_team", (member,),
                   {"amount": money(total, currency), "median": money(int(usual), currency),
                    "multiple": f"{total / usual:.1f}"}, records[member], {"who": (member,)})
            for member, total, usual in flagged]


def _near_limit(session, config, month, in_month, mine) -> list[Signal]:
    settings, currency = config.signals, config.organisation.currency
    limits = [(role, limit) for role in Role
              if (limit := to_minor(config.authority(role).per_incident_limit))]
    if not limits:
        return []
    near = [and_(Employee.role == role,
                 Compensation.amount_minor >= settings.near_limit_share * limit,
                 Compensation.amount_minor <= limit) for role, limit in limits]
    close = (*in_month, Compensation.status == Status.SELF_AUTHORISED,
             Compensation.currency == currency,
             # every role's range at once, read from the month's index: the person's role
             # is looked up only for an amount near some limit
             Compensation.amount_minor.between(
                 settings.near_limit_share * min(limit for _r, limit in limits),
                 max(limit for _r, limit in limits)),
             or_(*near), Employee.id == Compensation.employee_id)
    people = select(Compensation.employee_id).where(*close)
    if mine is not None:
        people = people.where(mine(Compensation.employee_id))
    people = people.group_by(Compensation.employee_id).having(
        func.count() >= settings.near_limit_count)
    found = list(session.exec(people))  # then only theirs, by the person's index
    records: dict[int, list[Compensation]] = defaultdict(list)
    for record in _records_of(session, Compensation.employee_id, found, *close):
        records[record.employee_id].append(record)
    return [Signal(f"near_limit:{who}:{month}", "near_limit", (who,),
                   {"count": str(len(found)), "share": f"{settings.near_limit_share:.0%}"},
                   found, {"who": (who,)}) for who, found in records.items()]


def _approves_all(session, settings, month, in_window, mine) -> list[Signal]:
    approved = func.sum(case((Compensation.status == Status.APPROVED, 1), else_=0))
    pairs = select(Compensation.decided_by_id, Compensation.employee_id, func.count(),
                   approved).where(*in_window)
    if mine is not None:
        pairs = pairs.where(mine(Compensation.decided_by_id))
    flagged = [(approver, requester) for approver, requester, count, yes in session.exec(
        pairs.group_by(Compensation.decided_by_id, Compensation.employee_id)
        .having(func.count() >= settings.approval_min_requests))
        if yes >= settings.approval_share * count]
    signals = []
    for approver, requester in sorted(flagged):
        records = _records(session, *in_window, Compensation.decided_by_id == approver,
                           Compensation.employee_id == requester)
        signals.append(Signal(
            f"approves_all:{approver}:{requester}:{month}", "approves_all", (approver,),
            {"approved": str(sum(r.status == Status.APPROVED for r in records)),
             "count": str(len(records)), "days": str(settings.approval_days)}, records,
            {"approver": (approver,), "who": (requester,)}))
    return signals


def _thanks_pairs(session, settings, month, bounds, mine) -> list[Signal]:
    """Two colleagues who each thanked the other at least `thanks_pair` times this month:
    thanks traded, perhaps for the points. Its records are thanks, named in `thanks`."""
    start, end = bounds
    in_month = (Thanks.created_at >= start, Thanks.created_at < end)
    often = select(Thanks.sender_id, Thanks.recipient_id).where(*in_month)
    if mine is not None:  # pairs with someone in the viewer's care
        often = often.where(or_(mine(Thanks.sender_id), mine(Thanks.recipient_id)))
    often = often.group_by(Thanks.sender_id, Thanks.recipient_id).having(
        func.count() >= settings.thanks_pair)
    directed = set(session.exec(often).all())
    pairs = sorted((a, b) for a, b in directed if a < b and (b, a) in directed)
    signals = []
    for a, b in pairs:
        records = list(session.exec(select(Thanks).where(
            *in_month, or_(and_(Thanks.sender_id == a, Thanks.recipient_id == b),
                           and_(Thanks.sender_id == b, Thanks.recipient_id == a)))
            .order_by(Thanks.id)))
        signals.append(Signal(
            f"thanks_pair:{a}:{b}:{month}", "thanks_pair", (a, b),
            {"count": str(sum(r.sender_id == a for r in records)),
             "back": str(sum(r.sender_id == b for r in records)),
             "points": str(sum(r.points for r in records)),
             "thanks": ", ".join(f"T{r.id}" for r in records)},
            names={"who": (a,), "other": (b,)}))
    return signals


def _thanks_rings(session, settings, month, bounds, mine) -> list[Signal]:
    """Three colleagues who thanked each other round a ring, A → B → C → A, each at
    least `thanks_pair` times this month: trading that no pair shows. Found by joining
    the month's frequent (sender, recipient) edges three times; each ring once, from its
    smallest id."""
    start, end = bounds
    in_month = (Thanks.created_at >= start, Thanks.created_at < end)
    edges = select(Thanks.sender_id.label("sender"), Thanks.recipient_id.label("recipient")) \
        .where(*in_month).group_by(Thanks.sender_id, Thanks.recipient_id) \
        .having(func.count() >= settings.thanks_pair).cte("edges")
    first, second, third = edges.alias("first"), edges.alias("second"), edges.alias("third")
    rings = select(first.c.sender, second.c.sender, third.c.sender).join_from(
        first, second, second.c.sender == first.c.recipient).join(
        third, and_(third.c.sender == second.c.recipient, third.c.recipient == first.c.sender)) \
        .where(first.c.sender < second.c.sender, first.c.sender < third.c.sender,
               second.c.sender != third.c.sender)
    if mine is not None:  # rings with someone in the viewer's care
        rings = rings.where(or_(*(mine(edge.c.sender) for edge in (first, second, third))))
    signals = []
    for ring in sorted(session.execute(rings).all()):
        a, b, c = ring
        records = list(session.exec(select(Thanks).where(*in_month, or_(*(
            and_(Thanks.sender_id == sender, Thanks.recipient_id == recipient)
            for sender, recipient in ((a, b), (b, c), (c, a))))).order_by(Thanks.id)))
        signals.append(Signal(
            f"thanks_ring:{a}:{b}:{c}:{month}", "thanks_ring", (a, b, c),
            {"count": str(len(records)), "points": str(sum(r.points for r in records)),
             "thanks": ", ".join(f"T{r.id}" for r in records)},
            names={"who": (a,), "second": (b,), "third": (c,)}))
    return signals


def dismiss(session: Session, key: str, by: Employee, note: str, now: datetime) -> bool:
    """Record HR's note on a signal; False when it was dismissed already."""
    if session.get(SignalDismissal, key) is not None:
        return False
    session.add(SignalDismissal(key=key, dismissed_by_id=by.id, note=note, created_at=now))
    return True
