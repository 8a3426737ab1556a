"""Council items that open by themselves: a rule waived too often in a team."""

from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from handlers.base import PRIVILEGED, Context
from handlers.council.case import open_with_case
from handlers.policy import Policy
from handlers.reports.theme_voices import RULE
from storage.enums import CouncilStatus as Status
from storage.models import CouncilItem, Employee, Waiver


def auto_open(session: Session, config: Policy, now: datetime) -> int:
    """Open an item by itself for every rule waived more than the configured number of
    times in a team within the window, unless one is open for it already; its theme is
    the rule itself (`rule:<rule>`), owned by HR, and HR is told."""
    limit = config.council.auto_open_waivers
    hr = session.exec(select(Employee).where(Employee.role.in_(PRIVILEGED), Employee.active)
                      .order_by(Employee.role != "hr", Employee.id)).first()
    if not limit or hr is None:
        return 0
    since = now - timedelta(days=config.council.window_days)
    frequent = session.exec(select(Employee.team_id, Waiver.rule).join(
        Employee, Employee.id == Waiver.employee_id).where(
        Waiver.occurred_at >= since, Employee.team_id.is_not(None))
        .group_by(Employee.team_id, Waiver.rule).having(func.count() > limit)).all()
    ctx, opened = Context(session, config, hr, now), 0
    for team_id, rule in frequent:
        theme = f"{RULE}{rule}"
        items = session.exec(select(CouncilItem.status, CouncilItem.closed_at).where(
            CouncilItem.team_id == team_id, CouncilItem.theme == theme)).all()
        if any(status != Status.VALIDATED for status, _closed in items):
            continue
        # After an item was validated, only the waivers since then count toward a new one.
        counted_from = max([since, *(closed for _status, closed in items if closed)])
        again = session.exec(select(func.count()).select_from(Waiver).join(
            Employee, Employee.id == Waiver.employee_id).where(
            Employee.team_id == team_id, Waiver.rule == rule,
            Waiver.occurred_at >= counted_from)).one()
        if again <= limit:
            continue
        case = open_with_case(ctx, theme, hr, team_id)
        for person in session.exec(select(Employee.id).where(
                Employee.role.in_(PRIVILEGED), Employee.active)).all():
            ctx.notify(person, "notify.council_auto", limit=limit, **case)
        opened += 1
    return opened
