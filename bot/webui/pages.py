"""The web console's pages: server-rendered HTML in the reader's language, no
JavaScript. Every page reads inside one transaction, narrowed to what its reader
may see; every form that changes something carries the session's CSRF token and
runs as one Frontline command (the same rules and notifications as in chat)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import Config
from bot.grammar import REFERENCE
from bot.webui import auth, charts
from bot.webui.auth import SESSION_COOKIE, Viewer
from bot.webui.text import text
from handlers import approvals, reports
from handlers import commands as c
from handlers.base import PRIVILEGED, Context, Reply
from handlers.dispatch import execute
from handlers.i18n import MESSAGES, language_tag, render_reply
from handlers.policy import LOCALES
from handlers.reports import Scope
from points import export, history, ledger
from storage.engine import transaction
from storage.models import Employee, Redemption, Team

TEMPLATES = Path(__file__).parent / "templates"
FLASH_COOKIE = "frontline_flash"
REASONS = sorted(key.removeprefix("reason.") for key in MESSAGES if key.startswith("reason."))
SUPERVISING = ("supervisor", *PRIVILEGED)
PICK_LIMIT = 150  # more people than this: the person filter is typed, not picked
# No script runs on these pages at all; forms post only to the console itself.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # sign-in links must not leak through Referer
    "Cache-Control": "no-store",
}


class PageError(Exception):
    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status, self.key = status, key


class _SignIn(Exception):
    pass


class _PageRoute(APIRoute):
    """Refusals become a page in the reader's language; no session, the sign-in page."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                response = await handler(request)
            except _SignIn:
                response = RedirectResponse("/signin", status_code=303)
            except PageError as error:
                response = _error_page(request, error)
            response.headers.update(SECURITY_HEADERS)
            return response

        return guarded


_templates = Jinja2Templates(directory=TEMPLATES)
_templates.env.globals.update(REASONS=REASONS, text=text, LOCALES=LOCALES,
                              language_tag=language_tag)


def _error_page(request: Request, error: PageError) -> HTMLResponse:
    locale = getattr(request.state, "locale", "en")
    return _templates.TemplateResponse(request, "error.html", {
        "t": _translator(locale), "locale": locale, "viewer": None, "message": error.key,
        "nav": []}, status_code=error.status)


def _translator(locale: str) -> Callable[..., str]:
    return lambda key, **params: text(key, locale, **params)


def _local_date(value: str | None, tz) -> datetime | None:
    """A YYYY-MM-DD query value as the local midnight it starts; None when empty."""
    if not value:
        return None
    try:
        return reports.local_midnight(date.fromisoformat(value), tz)
    except ValueError:
        raise PageError(400, "error.date") from None


SMALL_ID, BIG_ID = 2**31 - 1, 2**63 - 1  # the database's id ranges


def _int(value: str | None, largest: int = SMALL_ID) -> int | None:
    """An id from a query string; one that cannot exist is simply not found."""
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= largest:
        raise PageError(404, "error.not_found")
    return int(value)


def _nav(viewer: Viewer) -> list[tuple[str, str]]:
    role = viewer.employee.role
    if role == "employee":
        return [("/ledger", "nav.ledger"), ("/redemptions", "nav.redemptions")]
    items = [("/ledger", "nav.ledger"), ("/redemptions", "nav.redemptions"),
             ("/compensation", "nav.compensation"), ("/waivers", "nav.waivers"),
             ("/recognition", "nav.recognition"), ("/team", "nav.team")]
    return items[-1:] + items[:-1] if role == "supervisor" else items


def router(engine: Engine, config: Config) -> APIRouter:
    pages = APIRouter(route_class=_PageRoute, include_in_schema=False)
    tz = config.organisation.tz

    @contextmanager
    def signed_in(request: Request, *roles: str) -> Iterator[tuple[Session, Viewer, Scope]]:
        with transaction(engine) as session:
            try:
                viewer = auth.identify(session, request, datetime.now(UTC), bearer=False)
            except auth.SignInNeeded:
                raise _SignIn() from None
            request.state.locale = viewer.employee.locale
            if roles and viewer.employee.role not in roles:
                raise PageError(403, "error.role")
            yield session, viewer, reports.scope_of(session, viewer.employee)

    def render(request: Request, viewer: Viewer, template: str, **context: Any) -> Response:
        locale = viewer.employee.locale
        flash = request.cookies.get(FLASH_COOKIE)
        response = _templates.TemplateResponse(request, template, {
            "t": _translator(locale), "locale": locale, "viewer": viewer, "nav": _nav(viewer),
            "path": request.url.path, "flash": unquote(flash) if flash else None,
            "local": lambda moment: moment.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            **context})
        if flash:
            response.delete_cookie(FLASH_COOKIE, path="/")
        return response

    def done(target: str, reply: Reply | None = None, locale: str = "en") -> Response:
        """Post/redirect/get: the command's answer is shown once on the next page."""
        response = RedirectResponse(target, status_code=303)
        if reply is not None:
            response.set_cookie(FLASH_COOKIE, quote(render_reply(Reply(reply.messages), locale)),
                                max_age=60, httponly=True, secure=True, samesite="lax")
        return response

    async def checked_form(request: Request, viewer: Viewer) -> dict[str, str]:
        form = {key: value for key, value in (await request.form()).items()
                if isinstance(value, str)}
        if not auth.csrf_ok(viewer, form.get("csrf")):
            raise PageError(403, "error.csrf")
        return form

    def run(viewer: Viewer, command: c.Command) -> tuple[Reply, str]:
        return execute(engine, config, "web", viewer.employee.handle, command)

    # --- signing in and out -------------------------------------------------
    @pages.get("/")
    def home(request: Request) -> Response:
        with signed_in(request) as (_session, viewer, _scope):
            role = viewer.employee.role
            return RedirectResponse("/team" if role == "supervisor" else "/ledger", 303)

    @pages.get("/signin")
    def signin(request: Request) -> Response:
        locale = config.organisation.default_locale
        return _templates.TemplateResponse(request, "signin.html", {
            "t": _translator(locale), "locale": locale, "viewer": None, "nav": []})

    @pages.get("/login/{code}")
    def confirm_login(request: Request, code: str) -> Response:
        # Opening the link changes nothing: chat apps fetch links to preview them.
        locale = config.organisation.default_locale
        return _templates.TemplateResponse(request, "login.html", {
            "t": _translator(locale), "locale": locale, "viewer": None, "nav": [],
            "code": code})

    @pages.post("/login/{code}")
    def login(request: Request, code: str) -> Response:
        with transaction(engine) as session:
            opened = auth.open_session(session, config, code, datetime.now(UTC))
        if opened is None:
            raise PageError(400, "signin.bad_link")
        token, _row = opened
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, token, max_age=config.web.session_hours * 3600,
                            httponly=True, secure=True, samesite="lax", path="/")
        return response

    @pages.post("/logout")
    async def logout(request: Request) -> Response:
        with signed_in(request) as (session, viewer, _scope):
            await checked_form(request, viewer)
            auth.close_session(session, request.cookies[SESSION_COOKIE], datetime.now(UTC))
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @pages.post("/lang")
    async def language(request: Request) -> Response:
        with signed_in(request) as (_session, viewer, _scope):
            form = await checked_form(request, viewer)
        locale = form.get("locale", "")
        if locale not in LOCALES:
            raise PageError(400, "error.not_found")
        run(viewer, c.SetLanguage(locale))
        back = form.get("next", "/")
        return done(back if back.startswith("/") and not back.startswith("//") else "/")

    # --- ledger ---------------------------------------------------------------
    def wanted(session: Session, scope: Scope, query) -> history.LedgerFilter:
        since = _local_date(query.get("from"), tz)
        until = _local_date(query.get("to"), tz)
        reason = query.get("reason") or None
        if reason is not None and reason not in REASONS:
            raise PageError(404, "error.not_found")
        found = reports.ledger_filter(
            session, scope, person=query.get("person") or None, team_id=_int(query.get("team")),
            reason=reason, since=since, until=until + timedelta(days=1) if until else None)
        if found is None:
            raise PageError(404, "error.not_found")
        return found

    @pages.get("/ledger")
    def ledger_page(request: Request) -> Response:
        query = request.query_params
        with signed_in(request) as (session, viewer, scope):
            filters = wanted(session, scope, query)
            page = history.page(session, filters, before=_int(query.get("before"), BIG_ID),
                                after=_int(query.get("after"), BIG_ID))
            person = None
            if filters.employee_ids is not None and len(filters.employee_ids) == 1:
                person = session.get(Employee, next(iter(filters.employee_ids)))
            kept = {key: query[key] for key in ("person", "team", "reason", "from", "to")
                    if query.get(key)}
            return render(
                request, viewer, "ledger.html", page=page, kept=kept, query=urlencode(kept),
                person=person, balance=ledger.balance(session, person.id) if person else None,
                people=reports.people(session, scope, PICK_LIMIT + 1),
                pick_limit=PICK_LIMIT, teams=reports.teams(session, scope),
                urlencode=urlencode)

    @pages.get("/ledger.csv")
    def ledger_csv(request: Request) -> Response:
        with signed_in(request) as (session, _viewer, scope):
            filters = wanted(session, scope, request.query_params)

        def stream() -> Iterator[str]:  # its own transaction: it outlives this handler
            with transaction(engine) as session:
                yield from export.csv_chunks(export.rows(session, filters))

        stamp = datetime.now(tz).strftime("%Y%m%d-%H%M")
        return StreamingResponse(stream(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="frontline-ledger-{stamp}.csv"'})

    # --- redemptions ----------------------------------------------------------
    @pages.get("/redemptions")
    def redemptions_page(request: Request) -> Response:
        settled = request.query_params.get("show") == "settled"
        statuses = reports.SETTLED_REDEMPTIONS if settled else reports.OPEN_REDEMPTIONS
        with signed_in(request) as (session, viewer, scope):
            return render(request, viewer, "redemptions.html", settled=settled,
                          queue=reports.redemption_queue(session, scope, statuses),
                          catalog={item.key: item for item in config.catalog},
                          decides=viewer.employee.role in PRIVILEGED)

    @pages.post("/redemptions/{redemption_id}")
    async def settle_redemption(request: Request, redemption_id: int) -> Response:
        with signed_in(request) as (session, viewer, scope):
            form = await checked_form(request, viewer)
            redemption = session.get(Redemption, redemption_id) \
                if 0 < redemption_id <= SMALL_ID else None
            if redemption is None or not scope.sees(redemption.employee_id):
                raise PageError(404, "error.not_found")
            if viewer.employee.role not in PRIVILEGED:
                raise PageError(403, "error.hr_only")
        outcome = form.get("outcome", "")
        if outcome not in ("approved", "fulfilled", "rejected"):
            raise PageError(400, "error.not_found")
        reply, locale = run(viewer, c.SettleRedemption(redemption_id, outcome,
                                                       form.get("comment", "").strip()[:500]))
        return done("/redemptions", reply, locale)

    # --- reports ----------------------------------------------------------------
    def month_of(request: Request) -> str:
        month = request.query_params.get("month") or datetime.now(tz).strftime("%Y-%m")
        try:
            reports.month_bounds(month, tz)
        except ValueError:
            raise PageError(400, "web.error.month") from None
        return month

    @pages.get("/compensation")
    def compensation_page(request: Request) -> Response:
        with signed_in(request, *SUPERVISING) as (session, viewer, scope):
            report = reports.compensation(session, config, scope, month_of(request))
            return render(request, viewer, "compensation.html", report=report,
                          trend=charts.bar_chart("compensation.trend", [
                              (m[5:], spent) for m, spent in report.trend]),
                          kinds=charts.bar_chart("compensation.kinds", [
                              (text(f"kind.{k}", viewer.employee.locale), v)
                              for k, v in report.kinds.items()]))

    @pages.get("/waivers")
    def waivers_page(request: Request) -> Response:
        query = request.query_params
        with signed_in(request, *SUPERVISING) as (session, viewer, scope):
            now = datetime.now(UTC)
            since, until = reports.default_window(now, tz)
            since = _local_date(query.get("from"), tz) or since
            to = _local_date(query.get("to"), tz)
            until = to + timedelta(days=1) if to else until
            report = reports.waivers(session, config, scope, since, until, now)
            return render(request, viewer, "waivers.html", report=report,
                          shown_until=(until - timedelta(days=1)).date(),
                          chart=charts.bar_chart("waivers.chart", [
                              (rule.rule[:14], rule.waived) for rule in report.rules[:10]]))

    @pages.get("/recognition")
    def recognition_page(request: Request) -> Response:
        with signed_in(request, *SUPERVISING) as (session, viewer, scope):
            report = reports.recognition(session, config, scope, month_of(request))
            return render(request, viewer, "recognition.html", report=report,
                          chart=charts.bar_chart("recognition.praise", [
                              (m[5:], n) for m, n in report.totals]))

    @pages.get("/team")
    def team_page(request: Request) -> Response:
        with signed_in(request, *SUPERVISING) as (session, viewer, scope):
            visible = reports.teams(session, scope)
            team_id = _int(request.query_params.get("team"))
            if team_id is None:
                team_id = viewer.employee.team_id or (visible[0].id if visible else None)
            team = session.get(Team, team_id) if team_id is not None else None
            if team is None or not scope.sees_team(team.id):
                raise PageError(404, "error.not_found")
            ctx = Context(session, config, viewer.employee, datetime.now(UTC))
            return render(request, viewer, "team.html", team=team, teams=visible,
                          members=reports.team_members(session, config, scope, team.id, ctx.now),
                          waiting=reports.pending_items(session, approvals.waiting_for(ctx)),
                          currency=config.organisation.currency)

    @pages.post("/decide")
    async def decide(request: Request) -> Response:
        with signed_in(request, *SUPERVISING) as (_session, viewer, _scope):
            form = await checked_form(request, viewer)
        reference, verdict = REFERENCE.match(form.get("ref", "")), form.get("verdict")
        if reference is None or verdict not in ("approve", "decline"):
            raise PageError(400, "error.not_found")
        reply, locale = run(viewer, c.Decide(
            reference.group(1).upper(), int(reference.group(2)), verdict == "approve",
            form.get("comment", "").strip()[:500]))
        return done("/team", reply, locale)

    return pages

