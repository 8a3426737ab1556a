"""Whether a council item's fix worked: the theme's voices over equal windows before the
fix and after it, for one item and for the monthly digest of those validated or
reopened."""

from datetime import datetime, timedelta

from sqlmodel import Session, select

from handlers.base import Context, queue
from handlers.policy import Policy
from handlers.reports.theme_voices import ThemeVoices, theme_voices
from handlers.themes import theme_names
from storage.enums import CouncilStatus as Status
from storage.models import CouncilItem, CouncilUpdate, Employee, Team


def validation(ctx: Context, item: CouncilItem) -> dict:
    """Equal windows before the fix began and after it was done (the after-window as
    long as has passed, at most the configured days), on both sides."""
    started = item.fixing_at or item.opened_at
    length = min(timedelta(days=ctx.config.council.window_days), ctx.now - item.fixed_at)
    before = theme_voices(ctx.session, ctx.config, item.theme, item.team_id,
                          started - length, started)
    after = theme_voices(ctx.session, ctx.config, item.theme, item.team_id,
                         item.fixed_at, item.fixed_at + length)
    return {"ref": f"X{item.id}", "days": length.days, **_compare(before, after)}


def _compare(before: ThemeVoices, after: ThemeVoices) -> dict:
    def shown(value: int | None) -> str:
        return "—" if value is None else str(value)

    customers = before.complaints + before.detractors, after.complaints + after.detractors
    staff = before.waivers + before.staff_mentions, after.waivers + after.staff_mentions
    fell = (customers[1] < customers[0], staff[1] < staff[0])
    verdict = {(True, True): "both", (True, False): "customers", (False, True): "staff",
               (False, False): "neither"}[fell]
    return {"complaints": f"{before.complaints} → {after.complaints}",
            "detractors": f"{before.detractors} → {after.detractors}",
            "waivers": f"{before.waivers} → {after.waivers}",
            "mentions": f"{before.staff_mentions} → {after.staff_mentions}",
            "nps": f"{shown(before.nps)} → {shown(after.nps)}",
            "enps": f"{shown(before.enps)} → {shown(after.enps)}",
            "verdict_key": f"council.verdict.{verdict}"}


def month_digest(session: Session, config: Policy, month: str, since: datetime,
                 until: datetime, now: datetime) -> int:
    """The monthly digest's council part: every item validated or reopened within the
    month, with its before/after counts, told to its team and to the council's members."""
    moved = session.exec(select(CouncilItem, Team.name).join(Team, Team.id == CouncilItem.team_id)
                         .where(CouncilItem.id.in_(select(CouncilUpdate.item_id).where(
                             CouncilUpdate.status.in_((Status.VALIDATED, Status.REOPENED)),
                             CouncilUpdate.created_at >= since, CouncilUpdate.created_at < until)))
                         .order_by(CouncilItem.id)).all()
    members = [person.id for person in session.exec(select(Employee).where(Employee.active))
               if config.council.has_member(person.handle, person.role)]
    for item, team in moved:
        params = {**item.case["validation"], "month": month,
                  "theme_names": theme_names(config, item.theme), "team": team}
        queue(session, now, "team", "ritual.council_month", params, team_id=item.team_id)
        for member in members:
            queue(session, now, "person", "ritual.council_month", params, employee_id=member)
    return len(moved)
