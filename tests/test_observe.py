"""Health and metrics: `/healthz` answers without the database, `/readyz` names what
is not ready (the database, its migrations, a platform), and `/metrics` shows the
commands that came in through a platform, the outbox, the rituals and the pool."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event

from bot import runtime
from bot.app import praise_api
from bot.app.web import create_app
from bot.kit.inbound import Inbound
from bot.kit.outbox import dispatch_pending
from handlers.grammar import parse
from storage import migrate
from storage.engine import make_engine, transaction
from storage.models import ChatIdentity, Outbox, RitualRun
from tests.support import count, employee
from tests.test_platforms import REGISTRY, echo_config

TOKEN = {"X-Echo-Token": "t0k"}


def samples(client: TestClient) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape, keyed by its name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def value(scraped, name: str, **labels) -> float | None:
    return scraped.get((name, frozenset(labels.items())))


class Failing:
    name = "echo"

    def wants(self, notification):
        return True

    def deliver(self, notification):
        raise ConnectionError("echo is down")


def test_metrics_show_the_commands_that_came_in_and_what_is_stored(org, monkeypatch):
    monkeypatch.setenv("ECHO_TOKEN", "t0k")
    config = echo_config({"echo": {"enabled": True}})
    with transaction(org) as session:
        for handle in ("alice", "wang"):
            session.add(ChatIdentity(employee_id=employee(org, handle).id, platform="echo",
                                     platform_user_id=f"E-{handle}"))
        session.add(RitualRun(ritual="morning_praise", team_id=1, period="2026-11-23",
                              status="done", scheduled_for=datetime.now(UTC),
                              ran_at=datetime.now(UTC)))
        for day in ("2026-11-21", "2026-11-22"):
            session.add(RitualRun(ritual="morning_praise", team_id=1, period=day,
                                  status="missed", scheduled_for=datetime.now(UTC),
                                  ran_at=datetime.now(UTC)))
    wired = runtime.wire(org, config, REGISTRY)
    routers = [*wired.routers, praise_api.router(org, config, "secret")]
    app = create_app(routers, wired.on_start, wired.on_stop, engine=org,
                     platforms=wired.readiness,
                     webhooks={**wired.webhooks, **praise_api.WEBHOOKS})
    said = [("E-wang", "praise @alice kind words", "1"),  # ok
            ("E-wang", "praise @alice kind words", "1"),  # the same event again: ok
            ("E-alice", "redeem nothing-like-it", "2"),  # refused
            ("E-alice", "approve", "3"),  # unparsed: the usage of approve
            ("E-alice", "hum hum", "4")]  # unparsed: no such verb
    with TestClient(app) as client:
        for user, text, event_id in said:
            assert client.post("/echo/hook", json={"user": user, "text": text, "id": event_id},
                               headers=TOKEN).status_code == 200
        assert client.post("/api/praise", json={}).status_code == 401
        dispatch_pending(org, [Failing()])
        scraped = samples(client)
    commands = "frontline_commands_total"
    assert value(scraped, commands, platform="echo", command="praise_log", outcome="ok") == 2
    assert value(scraped, commands, platform="echo", command="redeem", outcome="refused") == 1
    assert value(scraped, commands, platform="echo", command="approve",
                 outcome="unparsed") == 1
    assert value(scraped, commands, platform="echo", command="unknown",
                 outcome="unparsed") == 1
    assert value(scraped, "frontline_command_seconds_count", platform="echo",
                 command="praise_log") == 2
    assert value(scraped, "frontline_command_seconds_sum", platform="echo",
                 command="praise_log") > 0
    assert value(scraped, "frontline_ack_seconds_count", platform="praise_api") == 1
    # a new platform's routes are timed as it mounts them: nothing else names them
    assert value(scraped, "frontline_ack_seconds_count", platform="echo") == len(said)
    pending = count(org, Outbox, delivered_at=None)
    assert pending >= 1
    assert value(scraped, "frontline_outbox_pending") == pending
    assert value(scraped, "frontline_outbox_failing") == pending
    assert value(scraped, "frontline_outbox_oldest_pending_seconds") >= 0
    assert value(scraped, "frontline_outbox_delivery_failures_total", channel="echo") == pending
    assert value(scraped, "frontline_ritual_runs_total", ritual="morning_praise",
                 status="done") == 1
    assert value(scraped, "frontline_ritual_runs_total", ritual="morning_praise",
                 status="missed") == 2
    assert value(scraped, "frontline_store_up") == 1
    assert value(scraped, "frontline_db_pool_connections", state="size") >= 1


def test_each_app_counts_into_its_own_registry_and_only_while_it_serves(org, config, chat):
    first, second = (create_app([], engine=org) for _ in range(2))
    with TestClient(first) as client:
        chat.ok("wang", "praise @alice kind words")  # not through a platform: not counted
        Inbound(org, config, "console").run("wang", parse("praise @bob kind words"))
        counted = samples(client)
    assert value(counted, "frontline_commands_total", platform="console",
                 command="praise_log", outcome="ok") == 1
    Inbound(org, config, "console").run("wang", parse("praise @bob kind words"))  # nobody serving
    with TestClient(second) as client:
        assert value(samples(client), "frontline_commands_total", platform="console",
                     command="praise_log", outcome="ok") is None


def test_readyz_is_ready_only_on_a_current_schema_with_every_platform_started(
        database_url, monkeypatch):
    migrate.upgrade(database_url, "0003")  # one migration behind
    engine = make_engine(database_url)
    monkeypatch.setenv("ECHO_TOKEN", "t0k")
    wired = runtime.wire(engine, echo_config({"echo": {"enabled": True}}), REGISTRY)
    app = create_app(wired.routers, wired.on_start, wired.on_stop, engine=engine,
                     platforms=wired.readiness)
    try:
        client = TestClient(app)  # not started: its platform has not started either
        behind = client.get("/readyz")
        assert behind.status_code == 503
        assert behind.json()["failing"] == ["migrations", "platform:echo"]
        checks = {check["name"]: check for check in behind.json()["checks"]}
        assert checks["database"]["ok"] is True
        (head,) = migrate.heads()
        assert checks["migrations"]["detail"] == f"database at 0003; head {head}"
        migrate.upgrade(database_url)
        assert client.get("/readyz").json()["failing"] == ["platform:echo"]
        with TestClient(app) as started:
            ready = started.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["ready"] is True
            assert [check["name"] for check in ready.json()["checks"]] == [
                "database", "migrations", "platform:echo"]
            (echo,) = wired.platforms
            monkeypatch.setattr(echo, "ready", lambda: False)  # it says it lost its link
            assert started.get("/readyz").json()["failing"] == ["platform:echo"]
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["sqlite:////nonexistent-directory/frontline.db",
                                 "postgresql://postgres@127.0.0.1:9/frontline"])
def test_readyz_names_an_unreachable_database_and_healthz_still_answers(url):
    engine = make_engine(url)
    client = TestClient(create_app([], engine=engine))
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["failing"] == ["database", "migrations"]
    assert client.get("/healthz").json() == {"ok": True}
    assert value(samples(client), "frontline_store_up") == 0


def test_healthz_never_touches_the_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'frontline.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    connected, statements = [], []
    event.listen(engine, "connect", lambda *args: connected.append(1))
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with TestClient(create_app([], engine=engine)) as client:
        for _ in range(3):
            assert client.get("/healthz").json() == {"ok": True}
        assert connected == statements == []
        assert client.get("/readyz").status_code == 200
        assert statements  # the readiness check does ask it
    engine.dispose()


def test_the_oldest_pending_notification_ages(org, config, chat):
    chat.ok("wang", "praise @alice kind words", now=datetime.now(UTC) - timedelta(minutes=5))
    with TestClient(create_app([], engine=org)) as client:
        age = value(samples(client), "frontline_outbox_oldest_pending_seconds")
    assert 300 <= age < 400


def test_a_scrape_while_a_worker_creates_its_metrics_file_still_answers(tmp_path):
    """prometheus_client opens a worker's file before it sizes it: read empty, it would
    fail the whole scrape."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    from bot.kit.metrics import _SizedFilesCollector

    (tmp_path / "counter_4242.db").touch()
    stock = CollectorRegistry()
    MultiProcessCollector(stock, str(tmp_path))
    with pytest.raises(Exception):  # noqa: B017 - struct.error, whatever the version says
        generate_latest(stock)
    sized = CollectorRegistry()
    _SizedFilesCollector(sized, str(tmp_path))
    assert generate_latest(sized) == b""
