"""Signing in with a one-time link from chat, signing out, and the reader's language."""

from datetime import UTC, datetime

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from bot.webui import auth
from bot.webui.auth import SESSION_COOKIE
from bot.webui.deps import (
    CheckedForm,
    ConfigDep,
    EngineDep,
    PageError,
    PageViewer,
    SessionDep,
    checked_form,
    same_origin,
)
from bot.webui.pages.base import Run, done, page_router, public_page
from handlers.policy import LOCALES
from handlers.profile import SetLanguage
from storage.engine import transaction
from storage.enums import Role

public = page_router(public=True)
router = page_router()


@public.get("/signin")
def signin(request: Request, config: ConfigDep) -> Response:
    return public_page(request, config, "signin.html")


@public.get("/login/{code}")
def confirm_login(request: Request, code: str, config: ConfigDep) -> Response:
    # Opening the link changes nothing: chat apps fetch links to preview them. Its
    # button posts from this page; a post from another site is refused unopened.
    return public_page(request, config, "login.html", code=code)


@public.post("/login/{code}", dependencies=[Depends(same_origin)])
def login(code: str, engine: EngineDep, config: ConfigDep) -> Response:
    with transaction(engine) as session:  # a link tried is used up, even if it opens nothing
        opened = auth.open_session(session, config, code, datetime.now(UTC))
    if opened is None:
        raise PageError(400, "signin.bad_link")
    token, _row = opened
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=config.web.session_hours * 3600,
                        httponly=True, secure=True, samesite="lax", path="/")
    return response


@router.get("/")
def home(viewer: PageViewer) -> Response:
    role = viewer.employee.role
    return RedirectResponse("/team" if role == Role.SUPERVISOR else "/ledger", 303)


@router.post("/logout", dependencies=[Depends(checked_form)])
def logout(request: Request, session: SessionDep) -> Response:
    auth.close_session(session, request.cookies[SESSION_COOKIE], datetime.now(UTC))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/lang")
def language(form: CheckedForm, run: Run) -> Response:
    locale = form.get("locale", "")
    if locale not in LOCALES:
        raise PageError(400, "error.not_found")
    run(SetLanguage(locale))
    back = form.get("next", "/")
    return done(back if back.startswith("/") and not back.startswith("//") else "/")
