"""What the console's routes depend on, as FastAPI dependencies: the engine and
configuration the app was built with, a transaction, who is asking (a session cookie;
the API also takes a bearer token), what they may see, their language, and the CSRF
check of a form.

`bot.webui.router` puts `bind` on every route, so it runs first. The routers then
identify the viewer before anything else, in a short transaction of its own; a
route's own transaction (`SessionDep`) opens after that. A route that runs a
command takes no `SessionDep` (nor a scope): the command is a transaction of its
own, and SQLite has one writer at a time."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, params
from sqlalchemy import Engine
from sqlmodel import Session

from bot.kit.config import Config
from bot.webui import auth
from bot.webui.auth import Viewer
from handlers.base import PRIVILEGED
from handlers.scope import Scope, scope_of
from storage.engine import transaction
from storage.enums import Role
from storage.errors import FrontlineError

SUPERVISING = (Role.SUPERVISOR, *PRIVILEGED)


class PageError(FrontlineError):
    """A refusal shown as a page in the reader's language (`key` names its text, `params`
    its parameters, e.g. `page_key="nav.fairness"` for the page refused)."""

    def __init__(self, status: int, key: str, **params: str) -> None:
        super().__init__(key)
        self.status, self.key, self.params = status, key, params


# --- the app's engine and configuration ------------------------------------------
def bind(engine: Engine, config: Config) -> params.Depends:
    """The dependency that hands every route this engine and configuration."""

    def bound(request: Request) -> None:
        request.state.engine, request.state.config = engine, config

    return Depends(bound)


def get_engine(request: Request) -> Engine:
    return request.state.engine


def get_config(request: Request) -> Config:
    return request.state.config


EngineDep = Annotated[Engine, Depends(get_engine)]
ConfigDep = Annotated[Config, Depends(get_config)]


def get_session(engine: EngineDep) -> Iterator[Session]:
    """The route's transaction: committed when the route has returned (before its
    answer is sent), rolled back when it raises."""
    with transaction(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


# --- who is asking ------------------------------------------------------------------
def _identify(request: Request, engine: Engine, *, bearer: bool) -> Viewer:
    with transaction(engine) as session:
        return auth.identify(session, request, datetime.now(UTC), bearer=bearer)


def page_viewer(request: Request, engine: EngineDep) -> Viewer:
    """The signed-in reader of a page. Without a session this raises
    `auth.SignInNeeded`, which pages answer with the sign-in page."""
    viewer = _identify(request, engine, bearer=False)
    request.state.locale = viewer.employee.locale  # an error page speaks it too
    return viewer


def api_viewer(request: Request, engine: EngineDep) -> Viewer:
    """An integration's bearer token, or a signed-in browser; neither: 401."""
    try:
        return _identify(request, engine, bearer=True)
    except auth.SignInNeeded:
        raise HTTPException(401, "a bearer API token or a signed-in session is needed",
                            headers={"WWW-Authenticate": "Bearer"}) from None


PageViewer = Annotated[Viewer, Depends(page_viewer)]
ApiViewer = Annotated[Viewer, Depends(api_viewer)]


def supervisor(viewer: PageViewer) -> Viewer:
    """The reader, if a supervisor, HR or an admin (the reports and the team page)."""
    if viewer.employee.role not in SUPERVISING:
        raise PageError(403, "error.role")
    return viewer


def page_scope(viewer: PageViewer, session: SessionDep) -> Scope:
    return scope_of(session, viewer.employee)


def api_scope(viewer: ApiViewer, session: SessionDep) -> Scope:
    return scope_of(session, viewer.employee)


PageScope = Annotated[Scope, Depends(page_scope)]
ApiScope = Annotated[Scope, Depends(api_scope)]


def reader_locale(viewer: PageViewer) -> str:
    return viewer.employee.locale


Locale = Annotated[str, Depends(reader_locale)]


# --- forms ----------------------------------------------------------------------------
async def checked_form(request: Request, viewer: PageViewer) -> dict[str, str]:
    """A posted form's fields, once its CSRF token is the reader's session's."""
    form = {key: value for key, value in (await request.form()).items()
            if isinstance(value, str)}
    if not auth.csrf_ok(viewer, form.get("csrf")):
        raise PageError(403, "error.csrf")
    return form


CheckedForm = Annotated[dict[str, str], Depends(checked_form)]


def same_origin(request: Request, config: ConfigDep) -> None:
    """Refuses a post a browser sent from another site (for a form that has no
    session yet to bind a CSRF token to, such as signing in). Browsers say where a
    post comes from in `Sec-Fetch-Site`; older ones only in `Origin`, which they
    always send on a cross-site POST ("null" from a page that sends no referrer, as
    the sign-in page does, so `Sec-Fetch-Site` decides when there is one). A client
    that sends neither is not a browser another site's page can drive."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        if fetch_site not in ("same-origin", "none"):
            raise PageError(403, "signin.cross_site")
        return
    origin = request.headers.get("origin")
    if origin is None:
        return
    own = {request.headers.get("host", ""), urlsplit(config.web.public_url).netloc}
    if urlsplit(origin).netloc not in own - {""}:
        raise PageError(403, "signin.cross_site")
