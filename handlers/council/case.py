"""A council item's business case: the customers' and the staff's losses on its theme
in its team, priced from the records over the window before it is opened."""

from datetime import timedelta

from handlers.base import Context, money, to_minor
from handlers.council.notices import record
from handlers.policy import Policy
from handlers.reports.theme_voices import losses, theme_voices
from handlers.themes import theme_names
from storage.enums import CouncilStatus as Status
from storage.models import CouncilItem, Employee
from storage.rows import insert_row


def open_with_case(ctx: Context, theme: str, owner: Employee, team_id: int) -> dict:
    """Open an item with its business case priced over the last window; tell the owner
    and the team. Returns the case's message parameters."""
    since = ctx.now - timedelta(days=ctx.config.council.window_days)
    voices = theme_voices(ctx.session, ctx.config, theme, team_id, since, ctx.now)
    customers, staff = losses(ctx.config, voices)
    item = insert_row(ctx.session, CouncilItem(
        theme=theme, team_id=team_id, owner_id=owner.id, opened_by_id=ctx.actor.id,
        status=Status.PROPOSED, currency=ctx.config.organisation.currency,
        customer_loss_minor=to_minor(customers), staff_loss_minor=to_minor(staff),
        opened_at=ctx.now,
        case={**voices.as_dict(), "since": ctx.local(since), "until": ctx.local(ctx.now)}))
    record(ctx, item, Status.PROPOSED, "")
    case = case_params(ctx.config, item)
    if owner.id != ctx.actor.id:
        ctx.notify(owner.id, "notify.council_owner", **case)
    return case


def case_params(config: Policy, item: CouncilItem) -> dict:
    """The business case as message parameters (its validation, once any, told apart)."""
    case = {key: value for key, value in item.case.items() if key != "validation"}
    return {**case, "ref": f"X{item.id}", "theme_names": theme_names(config, item.theme),
            "customer_loss": money(item.customer_loss_minor, item.currency),
            "staff_loss": money(item.staff_loss_minor, item.currency),
            "goodwill": money(item.case["goodwill_minor"], item.currency)}
