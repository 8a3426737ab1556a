"""A team's page: members, balances, this month's spend and open waivers, and what
waits for the reader's decision, decided here as the same command as in chat; and a
request's history."""

from datetime import UTC, date, datetime

from fastapi.responses import Response

from bot.webui.deps import CheckedForm, ConfigDep, PageError, PageScope, PageViewer, SessionDep
from bot.webui.pages.base import Render, Run, chosen_team, done, page_router
from handlers import approvals, inquiry
from handlers.approvals import Decide
from handlers.away import Away, last_day, upcoming
from handlers.base import Context, Refusal, away
from handlers.inquiry import Ask, History
from handlers.registry import DECIDABLE, FOLLOWED
from handlers.reports.team import pending_items, team_members
from handlers.words import REFERENCE
from storage.models import Employee

router = page_router(supervisors_only=True)
everyone = page_router()  # a request's history: whoever may see it in chat




@router.get("/team")
def team_page(viewer: PageViewer, scope: PageScope, session: SessionDep, config: ConfigDep,
              render: Render, team: str | None = None) -> Response:
    shown, visible = chosen_team(session, scope, viewer, team)
    ctx = Context(session, config, viewer.employee, datetime.now(UTC))
    delegation = away(session, viewer.employee.id, ctx.now)
    ahead = upcoming(session, viewer.employee.id, ctx.now)
    shown_away, tz = delegation or ahead, config.organisation.tz
    ahead_days = (ahead.starts_at.astimezone(tz).date().isoformat(),
                  last_day(ahead, tz)) if ahead else None
    return render("team.html", team=shown, teams=visible, delegation=delegation, ahead=ahead_days,
                  delegate=session.get(Employee, shown_away.delegate_id) if shown_away else None,
                  members=team_members(session, config, scope, shown.id, ctx.now),
                  waiting=pending_items(ctx, approvals.waiting_for(ctx)),
                  currency=config.organisation.currency)


@everyone.get("/history")
def history_page(viewer: PageViewer, session: SessionDep, config: ConfigDep, render: Render,
                 ref: str = "") -> Response:
    """A request's history, as `history C12` shows it in chat: moved, escalated, asked,
    answered, decided; to whoever may see it there."""
    found = REFERENCE.match(ref[:12]) if ref else None
    if found is None:
        return render("history.html", ref=ref[:12], lines=None)
    letter, record_id = found.group(1).upper(), int(found.group(2))
    if letter not in DECIDABLE and letter not in FOLLOWED:  # a case (K3) too
        raise PageError(404, "error.not_found")
    ctx = Context(session, config, viewer.employee, datetime.now(UTC))
    try:
        reply = inquiry.history(ctx, History(letter, record_id))
    except Refusal:
        raise PageError(404, "error.not_found") from None
    return render("history.html", ref=f"{letter}{record_id}", lines=reply.messages)


@router.post("/decide")
def decide(form: CheckedForm, run: Run) -> Response:
    reference, verdict = REFERENCE.match(form.get("ref", "")), form.get("verdict")
    if reference is None or verdict not in ("approve", "decline", "ask"):
        raise PageError(400, "error.not_found")
    letter, record_id = reference.group(1).upper(), int(reference.group(2))
    comment = form.get("comment", "").strip()  # bounded by the command's check
    reply, locale = run(Ask(letter, record_id, comment) if verdict == "ask" else
                        Decide(letter, record_id, verdict == "approve", comment))
    return done("/team", reply, locale)


@router.post("/away")
def set_away(form: CheckedForm, run: Run) -> Response:
    """Out of office from the console: the same command as `away [from …] until … @…`
    in chat."""
    if form.get("off"):
        reply, locale = run(Away(off=True))
    else:
        try:
            until = date.fromisoformat(form.get("until", ""))
            start = date.fromisoformat(form["from"]) if form.get("from") else None
        except ValueError:
            raise PageError(400, "error.date") from None
        delegate = form.get("delegate", "").strip().lstrip("@").lower()[:64]
        if not delegate:
            raise PageError(400, "error.not_found")
        reply, locale = run(Away(until, delegate, start=start))
    return done("/team", reply, locale)
