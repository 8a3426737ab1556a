"""Someone the bot cannot write to. Telegram lets a bot message a person only once they
have started it (pressed Start in its chat, or written to it): otherwise sendMessage
answers 403 "Forbidden: bot can't initiate conversation with a user", and the same
once they block it (https://core.telegram.org/bots/features#what-features-do-bots-have).
Retrying does not help until they act, so HR, who gave them their link code, is told
in chat who must open the bot and press Start: once a day per person at most."""

import logging
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.platforms.telegram.settings import PLATFORM
from handlers.base import queue
from storage.engine import transaction
from storage.enums import Role
from storage.models import Employee, SentOnce

log = logging.getLogger(__name__)


def tell_hr(engine: Engine, person: Employee, bot: str, error: str,
            now: datetime | None = None) -> bool:
    """Queues, for every active HR person, who cannot be reached on Telegram and what
    they must do (message `telegram.unreachable`); False when HR was told about them
    today already (or there is no HR to tell)."""
    now = now or datetime.now(UTC)
    key = f"{PLATFORM}:unreachable:{person.id}:{now.date().isoformat()}"
    try:
        with transaction(engine) as session:
            hr = session.exec(select(Employee.id).where(
                Employee.role == Role.HR, Employee.active.is_(True))).all()
            if not hr:
                log.warning("nobody in HR to tell that %s cannot be reached on Telegram",
                            person.handle)
                return False
            session.add(SentOnce(key=key, created_at=now))
            session.flush()  # a second worker's notice for today stops here
            for employee_id in hr:
                queue(session, now, "person", "telegram.unreachable",
                      {"name": person.name, "handle": person.handle, "bot": bot,
                       "error": error[:200]}, employee_id=employee_id)
    except IntegrityError:
        return False
    log.warning("%s cannot be reached on Telegram (%s): HR told", person.handle, error)
    return True
