"""The `chat` fixture: the conformance suite runs once per platform driver (and, as
every storage test, on SQLite and PostgreSQL)."""

from importlib import import_module

import pytest

from bot.kit.platform import PLATFORMS

DRIVERS = sorted(PLATFORMS)  # every registered platform has a driver: tests/platforms/<name>.py


@pytest.fixture(params=DRIVERS)
def chat(request, org):
    with import_module(f"tests.platforms.{request.param}").driver(org) as driver:
        yield driver
