"""Shared fixtures. Every storage test runs twice: on SQLite (a file, WAL) and on
PostgreSQL (the server tests/postgres_server.py finds or starts for the run)."""

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from bot.demo import DEMO_STAFF
from bot.kit.config import DEMO_CATALOG, parse_config
from handlers.directory import import_csv
from handlers.dispatch import execute
from handlers.grammar import parse
from handlers.i18n import render_reply
from storage import migrate
from storage.engine import create_all, make_engine, transaction
from tests import postgres_server

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


# --- the run: one PostgreSQL server for every worker, markers ----------------
def pytest_configure(config):
    if hasattr(config, "workerinput"):  # an xdist worker: the controller found it
        return
    if "not postgres" in (config.option.markexpr or ""):  # make test-fast: none needed
        server = postgres_server.Server(postgres_server.OFF, "PostgreSQL half not selected")
    else:
        server = postgres_server.find_or_start()
    os.environ[postgres_server.VARIABLE] = server.url  # the workers inherit it
    config.stash[SERVER] = server


def pytest_unconfigure(config):
    if (server := config.stash.get(SERVER, None)) is not None:
        server.stop()


def pytest_terminal_summary(terminalreporter, config):
    if (server := config.stash.get(SERVER, None)) is not None:
        terminalreporter.write_line(server.note, yellow=server.url == postgres_server.OFF)


def pytest_collection_modifyitems(items):
    """A test run on PostgreSQL is marked `postgres`, so `-m "not postgres"` leaves it."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgresql" in callspec.params.values():
            item.add_marker(pytest.mark.postgres)


SERVER = pytest.StashKey[postgres_server.Server]()


def postgres_server_url() -> str:
    return os.environ.get(postgres_server.VARIABLE, postgres_server.OFF)


@contextmanager
def throwaway_postgres(prefix: str, template: str = "template1") -> Iterator[str]:
    """A new database on the PostgreSQL server, empty or a copy of `template`'s URL;
    dropped afterwards."""
    server = postgres_server_url()
    if server == postgres_server.OFF:
        pytest.skip("no PostgreSQL for this run (its summary says why)")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE '
                                f'"{template.rsplit("/", 1)[-1]}"'))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """An empty database of each store, for tests that run Frontline on its own URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'frontline.db'}"
        return
    with throwaway_postgres("frontline_own") as url:
        yield url


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory):
    """Per store, a database at the newest migration, migrated once per worker when
    first asked for; tests get copies of it."""
    made: dict[str, str] = {}

    def template(store: str) -> str:
        if store not in made:
            if store == "sqlite":
                made[store] = f"sqlite:///{tmp_path_factory.mktemp('migrated') / 'frontline.db'}"
            else:
                made[store] = templates.enter_context(throwaway_postgres("frontline_migrated"))
            engine = make_engine(made[store], poolclass=NullPool)  # no connection left open:
            with engine.begin() as connection:  # PostgreSQL copies only an unused database
                migrate.upgrade(made[store], connection=connection)
            engine.dispose()
        return made[store]

    with ExitStack() as templates:
        yield template


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_url(request, tmp_path, migrated_templates):
    """A database of each store at the newest migration, as `frontline db upgrade`
    leaves it (a copy of one migrated once, not migrated again for every test)."""
    template = migrated_templates(request.param)
    if request.param == "sqlite":
        shutil.copyfile(template.removeprefix("sqlite:///"), tmp_path / "frontline.db")
        yield f"sqlite:///{tmp_path / 'frontline.db'}"
        return
    with throwaway_postgres("frontline_own", template) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url():
    """One throw-away database per test run, emptied between tests."""
    with throwaway_postgres("frontline_test") as url:
        yield url


@pytest.fixture(scope="session")
def postgres_engine(postgres_url):
    engine = make_engine(postgres_url, pool_size=10, max_overflow=60)
    create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A SQLite file with the schema, made once per worker; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "frontline.db"
    engine = make_engine(f"sqlite:///{path}")
    create_all(engine)
    engine.dispose()  # the last connection folds the WAL into the file
    return path


# Empties every table and restarts every id, as TRUNCATE … RESTART IDENTITY would, in a
# fraction of its time on tables this small: replica mode skips the triggers (the foreign
# keys and the ledger's append-only guard), so the order of the deletes does not matter.
EMPTY_POSTGRES = "SET LOCAL session_replication_role = replica;\n" + "".join(
    f'DELETE FROM "{table.name}";\n' for table in SQLModel.metadata.sorted_tables) + (
    "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n "
    "ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = current_schema();")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "frontline.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        engine = make_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    raw = engine.raw_connection()
    try:
        raw.cursor().execute(EMPTY_POSTGRES)
        raw.commit()
    finally:
        raw.close()
    yield engine


@pytest.fixture
def config():
    return parse_config({
        "organisation": {"timezone": "Asia/Shanghai", "currency": "CNY",
                         "other_currencies": ["USD"]},
        "roles": {"employee": {"per_incident_limit": "200", "daily_budget": "500"},
                  "supervisor": {"per_incident_limit": "1000"},
                  "hr": {"per_incident_limit": "1000"}},
        "catalog": DEMO_CATALOG,
    })


@pytest.fixture
def org(engine, config):
    """The demo organisation: wang supervises alice, bob and lilei; hana is HR."""
    with transaction(engine) as session:
        import_csv(session, config, DEMO_STAFF)
    return engine


class Chat:
    """Drive the bot the way a platform adapter does: text in, rendered reply out."""

    def __init__(self, engine, config):
        self.engine, self.config, self.now = engine, config, NOW

    def reply(self, handle, line, key=None, now=None):
        reply, _locale = execute(self.engine, self.config, "console", handle, parse(line),
                                 idempotency_key=key, now=now or self.now)
        return reply

    def __call__(self, handle, line, key=None, now=None):
        reply = self.reply(handle, line, key, now)
        return render_reply(reply, "en")

    def ok(self, handle, line, **kwargs):
        reply = self.reply(handle, line, **kwargs)
        assert reply.ok, render_reply(reply, "en")
        return reply

    def refused(self, handle, line, key, **kwargs):
        reply = self.reply(handle, line, **kwargs)
        assert not reply.ok, f"expected a refusal, got {render_reply(reply, 'en')}"
        assert reply.messages[0].key == key, render_reply(reply, "en")
        return reply


@pytest.fixture
def chat(org, config):
    return Chat(org, config)
