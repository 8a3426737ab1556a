"""One-time codes: HR issues one from the CLI, a person sends it to the bot from a
chat account the directory does not know yet, and that account becomes theirs.
The same codes carry sign-in links; only their SHA-256 is stored."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from handlers.base import Context, Refusal, Reply
from handlers.registry import Command, handles, verb
from handlers.words import require
from storage.models import ChatIdentity, Employee, OneTimeCode

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


@dataclass(frozen=True)
class LinkAccount(Command):
    """A one-time code from HR that links this chat account to a directory entry: the
    one command someone not yet registered may send."""

    code: str


@verb("link")
def parse_link(rest: list[str]) -> LinkAccount:
    require(len(rest) == 1 and rest[0].isascii() and rest[0].isalnum() and len(rest[0]) <= 32)
    return LinkAccount(rest[0])


@dataclass(frozen=True)
class SignIn(Command):
    """Ask for a one-time link that signs this person in to the web console."""


@verb("login")
def parse_login(rest: list[str]) -> SignIn:
    require(not rest)
    return SignIn()


def digest(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def issue_code(session: Session, employee: Employee, purpose: str, now: datetime,
               valid_for: timedelta, length: int = 10) -> str:
    code = "".join(secrets.choice(ALPHABET) for _ in range(length))
    session.add(OneTimeCode(code_hash=digest(code), purpose=purpose, employee_id=employee.id,
                            created_at=now, expires_at=now + valid_for))
    return code


def redeem_code(session: Session, code: str, purpose: str, now: datetime) -> Employee | None:
    """The code's owner, marking it used; None when it is unknown, used or expired.
    The conditional update makes two simultaneous redemptions succeed once."""
    key = digest(code)
    won = session.execute(update(OneTimeCode).where(
        OneTimeCode.code_hash == key, OneTimeCode.purpose == purpose,
        OneTimeCode.used_at.is_(None), OneTimeCode.expires_at > now).values(used_at=now)).rowcount
    if not won:
        return None
    owner = session.get(Employee, session.get(OneTimeCode, key).employee_id)
    return owner if owner is not None and owner.active else None


def live_purpose(session: Session, code: str, now: datetime) -> str | None:
    """What an unused, unexpired code is for (`link:telegram`), or None; it stays unused."""
    found = session.get(OneTimeCode, digest(code))
    if found is None or found.used_at is not None or found.expires_at <= now:
        return None
    return found.purpose


@handles(SignIn)
def sign_in(ctx: Context, command: SignIn) -> Reply:
    """Send the person a one-time link to the web console, privately (a chat command
    may have come from a group): it expires soon and opens one session."""
    web = ctx.config.web
    code = issue_code(ctx.session, ctx.actor, "login", ctx.now,
                      timedelta(minutes=web.login_link_minutes), length=16)
    ctx.notify(ctx.actor.id, "notify.login_link", url=f"{web.public_url}/login/{code}",
               minutes=web.login_link_minutes)
    return Reply.of("login.sent", minutes=web.login_link_minutes)


def link_account(session: Session, platform: str, user_id: str, code: str,
                 now: datetime) -> Reply:
    taken = session.exec(select(ChatIdentity).where(
        ChatIdentity.platform == platform, ChatIdentity.platform_user_id == user_id)).first()
    if taken is not None:
        raise Refusal("refuse.already_linked")
    owner = redeem_code(session, code, f"link:{platform}", now)
    if owner is None:
        elsewhere = live_purpose(session, code, now)
        if elsewhere is not None and elsewhere.startswith("link:"):
            raise Refusal("refuse.link_code_platform", platform=elsewhere.removeprefix("link:"))
        raise Refusal("refuse.link_code")
    previous = session.exec(select(ChatIdentity).where(
        ChatIdentity.employee_id == owner.id, ChatIdentity.platform == platform)).first()
    if previous is not None:  # a new phone or account replaces the old one
        session.delete(previous)
        session.flush()
    session.add(ChatIdentity(employee_id=owner.id, platform=platform, platform_user_id=user_id))
    return Reply.of("linked", name=owner.name)
