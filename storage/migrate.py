"""Alembic, driven from code: `frontline db upgrade` and the tests call these."""

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from storage.engine import normalise_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head", connection: Connection | None = None) -> None:
    """Migrate the database at `url` (through `connection` when one is given)."""
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def heads() -> set[str]:
    """The newest migration(s) this code knows."""
    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def database_revisions(engine: Engine) -> set[str]:
    """The migration(s) the database is at (empty when it was never migrated)."""
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest migration."""
    return database_revisions(engine) == heads()
