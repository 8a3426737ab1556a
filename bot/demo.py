"""A demo organisation, so Frontline can be tried with no chat account at all."""

from sqlmodel import Session, select

from bot.kit.config import Config
from handlers.directory import import_csv
from storage.models import Employee

DEMO_STAFF = """handle,name,role,team,timezone,supervisor,locale
wang,王芳 Wang Fang,supervisor,Harbour Street Store,Asia/Shanghai,,zh
alice,Alice Chen,employee,Harbour Street Store,,wang,en
bob,Bob Li,employee,Harbour Street Store,,wang,en
lilei,李雷 Li Lei,employee,Harbour Street Store,,wang,zh
hana,Hana Xu,hr,Head Office,Asia/Shanghai,,en
"""


def seed_if_empty(session: Session, config: Config) -> bool:
    """Load the demo staff into an empty directory; returns True when it did."""
    if session.exec(select(Employee)).first() is not None:
        return False
    import_csv(session, config, DEMO_STAFF)
    return True
