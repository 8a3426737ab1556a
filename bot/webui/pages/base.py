"""What every page shares: its router and route class (security headers, refusals
as pages), rendering in the reader's language, post/redirect/get with a one-time
notice, running a command, and reading query values."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlmodel import Session
from starlette import types as asgi

from bot.kit.config import Config
from bot.webui.auth import SignInNeeded, Viewer
from bot.webui.deps import (
    ConfigDep,
    EngineDep,
    Locale,
    PageError,
    PageViewer,
    page_viewer,
    supervisor,
)
from bot.webui.text import text
from handlers import limits
from handlers.base import Reply
from handlers.calendar import local_midnight, local_time
from handlers.dispatch import execute
from handlers.i18n import MESSAGES, language_tag, render_reply
from handlers.policy import LOCALES
from handlers.registry import Command
from handlers.scope import Scope, teams
from storage.enums import Role
from storage.models import Team

TEMPLATES = Path(__file__).parent.parent / "templates"
FLASH_COOKIE = "frontline_flash"
REASONS = sorted(key.removeprefix("reason.") for key in MESSAGES if key.startswith("reason."))
# No script runs on these pages at all; forms post only to the console itself.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # sign-in links must not leak through Referer
    "Cache-Control": "no-store",
}
SMALL_ID, BIG_ID = 2**31 - 1, 2**63 - 1  # the database's id ranges

templates = Jinja2Templates(directory=TEMPLATES)
# Every template escapes what it prints, whatever its name ends with (an .svg or .txt
# one too): the default escapes .html and .xml only.
templates.env.autoescape = True
templates.env.globals.update(REASONS=REASONS, text=text, LOCALES=LOCALES,
                             language_tag=language_tag, urlencode=urlencode,
                             limit=limits.limit)  # a form field's maxlength


class PageRoute(APIRoute):
    """Every answer carries the security headers. A refusal becomes a page in the
    reader's language, and a missing session the sign-in page; both are caught out
    here, after the route's dependencies have closed (its transaction rolled back)."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def secured(request: Request) -> Response:
            response = await handler(request)
            response.headers.update(SECURITY_HEADERS)
            return response

        return secured

    async def handle(self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        try:
            await super().handle(scope, receive, send)
        except SignInNeeded:
            response = RedirectResponse("/signin", status_code=303)
        except PageError as error:
            response = _error_page(Request(scope, receive), error)
        else:
            return
        response.headers.update(SECURITY_HEADERS)
        await response(scope, receive, send)


def page_router(*, public: bool = False, supervisors_only: bool = False) -> APIRouter:
    """A router of pages, kept out of the API's schema. Unless `public`, each of its
    pages needs a signed-in reader, identified before anything else the page does;
    `supervisors_only`: a supervisor, HR or an admin (anyone else gets 403)."""
    needs = [] if public else [Depends(page_viewer)]
    if supervisors_only:
        needs.append(Depends(supervisor))
    return APIRouter(route_class=PageRoute, include_in_schema=False, dependencies=needs)


def translator(locale: str) -> Callable[..., str]:
    return lambda key, **params: text(key, locale, **params)


def _error_page(request: Request, error: PageError) -> HTMLResponse:
    locale = getattr(request.state, "locale", "en")
    say = translator(locale)

    def t(key: str, **params: str) -> str:  # the refusal's own parameters fill its text
        return say(key, **(error.params if key == error.key else {}), **params)

    return templates.TemplateResponse(request, "error.html", {
        "t": t, "locale": locale, "viewer": None, "message": error.key,
        "nav": []}, status_code=error.status)


def public_page(request: Request, config: Config, template: str, **context: Any) -> Response:
    """A page for someone not signed in, in the organisation's language."""
    locale = config.organisation.default_locale
    return templates.TemplateResponse(request, template, {
        "t": translator(locale), "locale": locale, "viewer": None, "nav": [], **context})


def _nav(viewer: Viewer) -> list[tuple[str, str]]:
    role = viewer.employee.role
    if role == Role.EMPLOYEE:
        return [("/ledger", "nav.ledger"), ("/redemptions", "nav.redemptions"),
                ("/season", "nav.season"), ("/me", "nav.me")]
    items = [("/ledger", "nav.ledger"), ("/redemptions", "nav.redemptions"),
             ("/compensation", "nav.compensation"), ("/waivers", "nav.waivers"),
             ("/recognition", "nav.recognition"), ("/signals", "nav.signals"),
             ("/authority", "nav.authority"), ("/cockpit", "nav.cockpit"), ("/cases", "nav.cases"),
             ("/season", "nav.season"), ("/team", "nav.team")]
    if role == Role.SUPERVISOR:
        return [*items[-1:], *items[:-1], ("/me", "nav.me")]
    return [*items, ("/fairness", "nav.fairness"), ("/me", "nav.me")]


@dataclass(frozen=True)
class Renderer:
    """Renders a template for the signed-in reader: their language, the navigation,
    local times, and the notice a form left for this page."""

    request: Request
    viewer: Viewer
    locale: str
    tz: tzinfo

    def __call__(self, template: str, **context: Any) -> Response:
        flash = self.request.cookies.get(FLASH_COOKIE)
        response = templates.TemplateResponse(self.request, template, {
            "t": translator(self.locale), "locale": self.locale, "viewer": self.viewer,
            "nav": _nav(self.viewer), "path": self.request.url.path,
            "flash": unquote(flash) if flash else None,
            "local": lambda moment: local_time(moment, self.tz),
            **context})
        if flash:
            response.delete_cookie(FLASH_COOKIE, path="/")
        return response


def renderer(request: Request, viewer: PageViewer, locale: Locale,
             config: ConfigDep) -> Renderer:
    return Renderer(request, viewer, locale, config.organisation.tz)


Render = Annotated[Renderer, Depends(renderer)]


@dataclass(frozen=True)
class Runner:
    """Runs a command as the reader, exactly as if sent in chat (its own transaction,
    the same rules, refusals and notifications): (reply, the reader's language)."""

    engine: Engine
    config: Config
    handle: str

    def __call__(self, command: Command) -> tuple[Reply, str]:
        return execute(self.engine, self.config, "web", self.handle, command)


def runner(viewer: PageViewer, engine: EngineDep, config: ConfigDep) -> Runner:
    return Runner(engine, config, viewer.employee.handle)


Run = Annotated[Runner, Depends(runner)]


def done(target: str, reply: Reply | None = None, locale: str = "en") -> Response:
    """Post/redirect/get: the command's answer is shown once on the next page."""
    response = RedirectResponse(target, status_code=303)
    if reply is not None:
        response.set_cookie(FLASH_COOKIE, quote(render_reply(Reply(reply.messages), locale)),
                            max_age=60, httponly=True, secure=True, samesite="lax")
    return response


def local_date(value: str | None, tz: tzinfo) -> datetime | None:
    """A YYYY-MM-DD query value as the local midnight it starts; None when empty."""
    if not value:
        return None
    try:
        return local_midnight(date.fromisoformat(value), tz)
    except ValueError:
        raise PageError(400, "error.date") from None


def chosen_team(session: Session, scope: Scope, viewer: Viewer,
                team: str | None) -> tuple[Team, list[Team]]:
    """The team a team page shows (asked for by id, else the viewer's own, else the
    first they may see) and every team they may see; 404 for one out of their sight."""
    visible = teams(session, scope)
    team_id = as_id(team)
    if team_id is None:
        team_id = viewer.employee.team_id or (visible[0].id if visible else None)
    shown = session.get(Team, team_id) if team_id is not None else None
    if shown is None or not scope.sees_team(shown.id):
        raise PageError(404, "error.not_found")
    return shown, visible


def as_id(value: str | None, largest: int = SMALL_ID) -> int | None:
    """An id from a query string; one that cannot exist is simply not found."""
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= largest:
        raise PageError(404, "error.not_found")
    return int(value)
