"""Shared fixtures. Every storage test runs twice: on SQLite (a file, WAL) and on
the real PostgreSQL server named by FRONTLINE_TEST_POSTGRES."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from bot.config import DEMO_CATALOG, parse_config
from bot.demo import DEMO_STAFF
from bot.grammar import parse
from handlers.directory import import_csv
from handlers.dispatch import execute
from handlers.i18n import render_reply
from storage.engine import create_all, make_engine, transaction

POSTGRES_SERVER = os.environ.get(
    "FRONTLINE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@contextmanager
def throwaway_postgres(prefix: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server; dropped afterwards."""
    if POSTGRES_SERVER == "off":
        pytest.skip("PostgreSQL tests switched off (FRONTLINE_TEST_POSTGRES=off)")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_SERVER.rsplit("/", 1)[0] + "/" + name
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


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'frontline.db'}")
        create_all(engine)
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
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
