"""Who is asking: a browser session opened by a one-time link from chat, or an
integration's API token. Neither is stored in the clear: the database keeps the
SHA-256 of each, so a copy of it opens nothing."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy import update
from sqlmodel import Session, select

from bot.kit.config import Config
from handlers.linking import redeem_code
from storage.errors import FrontlineError
from storage.models import ApiToken, Employee, WebSession

SESSION_COOKIE = "frontline_session"
TOKEN_PREFIX = "fl_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Viewer:
    """A signed-in person (`employee`), or an integration (`employee` None, `token`)."""

    employee: Employee | None
    csrf_token: str = ""
    token: str = ""  # the API token's name

    @property
    def name(self) -> str:
        return self.employee.name if self.employee else self.token


class SignInNeeded(FrontlineError):
    """No valid session or token: pages send the reader to sign in, the API says 401."""


def open_session(session: Session, config: Config, code: str, now: datetime,
                 ) -> tuple[str, WebSession] | None:
    """Trade a sign-in link's code for a new browser session: (cookie value, row)."""
    employee = redeem_code(session, code, "login", now)
    if employee is None:
        return None
    token = secrets.token_urlsafe(32)
    row = WebSession(token_hash=_digest(token), employee_id=employee.id,
                     csrf_token=secrets.token_urlsafe(24), created_at=now,
                     expires_at=now + timedelta(hours=config.web.session_hours))
    session.add(row)
    return token, row


def close_session(session: Session, token: str, now: datetime) -> None:
    session.execute(update(WebSession).where(WebSession.token_hash == _digest(token))
                    .values(ended_at=now))


def from_cookie(session: Session, token: str, now: datetime) -> Viewer | None:
    found = session.exec(
        select(WebSession, Employee).join(Employee, Employee.id == WebSession.employee_id)
        .where(WebSession.token_hash == _digest(token), WebSession.ended_at.is_(None),
               WebSession.expires_at > now, Employee.active)).first()
    if found is None:
        return None
    row, employee = found
    return Viewer(employee, row.csrf_token)


def create_token(session: Session, name: str, now: datetime) -> str:
    """A new API token for an integration; shown once, stored hashed."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=_digest(token), created_at=now))
    return token


def revoke_token(session: Session, name: str, now: datetime) -> bool:
    return session.execute(update(ApiToken).where(
        ApiToken.name == name, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    ).rowcount == 1


def from_bearer(session: Session, token: str) -> Viewer | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    found = session.exec(select(ApiToken).where(
        ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None))).first()
    return None if found is None else Viewer(None, token=found.name)


def identify(session: Session, request: Request, now: datetime, *, bearer: bool) -> Viewer:
    """The viewer behind a request (an API route also takes a bearer token)."""
    if bearer:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token:
            viewer = from_bearer(session, token.strip())
            if viewer is None:
                raise SignInNeeded()
            return viewer
    cookie = request.cookies.get(SESSION_COOKIE)
    viewer = from_cookie(session, cookie, now) if cookie else None
    if viewer is None:
        raise SignInNeeded()
    return viewer


def csrf_ok(viewer: Viewer, submitted: str | None) -> bool:
    return bool(viewer.csrf_token) and secrets.compare_digest(viewer.csrf_token,
                                                              submitted or "")
