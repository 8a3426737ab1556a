"""The platform contract: the registry, the config sections and the runtime agree;
each platform builds itself from its own section and secrets; a disabled
platform's SDK is never imported; and a platform added with one package and one
registry line (tests/echo_platform) is configured, served, started, stopped and
sends through the outbox like the others."""

import base64
import os
import subprocess
import sys
import tomllib
from importlib import import_module
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import Field, ValidationError, create_model

from bot import runtime
from bot.app.web import create_app
from bot.kit.config import DEMO_CATALOG, Config, ConfigError, parse_config, platforms_model
from bot.kit.inbound import Event, idempotency_key
from bot.kit.outbox import dispatch_pending
from bot.kit.platform import PLATFORMS, Platform, settings_model
from handlers.directory import import_csv
from storage.engine import transaction
from storage.models import Compensation
from tests.fake_slack import FakeSlack
from tests.support import count

EXAMPLE = Path(__file__).parent.parent / "config.example.toml"
REGISTRY = {**PLATFORMS, "echo": "tests.echo_platform"}  # the one line a platform adds
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
ROLES = {"employee": {"per_incident_limit": "200"}, "supervisor": {"per_incident_limit": "1000"},
         "hr": {"per_incident_limit": "1000"}}


def test_the_registry_the_config_sections_and_the_example_agree():
    assert list(type(Config().platforms).model_fields) == list(PLATFORMS)
    for name, package in PLATFORMS.items():
        assert settings_model(name).section == name
        declared = import_module(f"{package}.settings").PLATFORM
        assert declared == name
    with EXAMPLE.open("rb") as handle:
        assert list(tomllib.load(handle)["platforms"]) == list(PLATFORMS)
    assert Config().platforms.enabled() == []


def test_a_section_no_platform_owns_or_an_unknown_key_is_refused():
    with pytest.raises(ConfigError, match=r"^platforms\.irc: "):
        parse_config({"platforms": {"irc": {}}})
    with pytest.raises(ConfigError, match=r"^platforms\.slack\.colour: "):
        parse_config({"platforms": {"slack": {"colour": "red"}}})


@pytest.mark.http
def test_every_platform_builds_itself_from_its_section_and_secrets(engine, monkeypatch):
    for variable, value in {"SLACK_BOT_TOKEN": "xoxb-test-token",
                            "SLACK_SIGNING_SECRET": "s", "TELEGRAM_BOT_TOKEN": "1:T",
                            "TELEGRAM_WEBHOOK_SECRET": "w", "WECOM_SECRET": "app-secret",
                            "WECOM_TOKEN": "t", "WECOM_AES_KEY": AES_KEY,
                            "ROBOT_ALL": "key", "FEISHU_APP_SECRET": "fs",
                            "FEISHU_ENCRYPT_KEY": "k", "FEISHU_VERIFICATION_TOKEN": "v",
                            "TEAMS_APP_SECRET": "s", "DINGTALK_APP_KEY": "ding1",
                            "DINGTALK_APP_SECRET": "d"}.items():
        monkeypatch.setenv(variable, value)
    slack = FakeSlack()  # Bolt checks its token when it is built
    with slack.serve() as slack_url:
        config = parse_config({"platforms": {
            "slack": {"enabled": True, "api_base": f"{slack_url}/api/"},
            "telegram": {"enabled": True, "mode": "webhook",
                         "webhook_url": "https://frontline.example/telegram/webhook"},
            "wecom": {"enabled": True, "corp_id": "ww1", "all_staff_robot_envs": ["ROBOT_ALL"]},
            "feishu": {"enabled": True, "app_id": "cli_1", "mode": "http"},
            "teams": {"enabled": True, "app_id": "app"},
            "dingtalk": {"enabled": True, "mode": "http"}}})
        wired = runtime.wire(engine, config)
    assert [platform.name for platform in wired.platforms] == list(PLATFORMS)
    assert all(isinstance(platform, Platform) for platform in wired.platforms)
    client = TestClient(create_app(wired.routers))  # their routes answer (and refuse)
    assert client.post("/slack/events", content=b"{}").status_code == 401
    assert client.post("/telegram/webhook", json={}).status_code == 403
    assert client.get("/wecom/callback").status_code == 403
    assert client.post("/feishu/events", content=b"{}").status_code == 401
    assert client.post("/api/messages", json={}).status_code == 401
    assert client.post("/dingtalk/robot", json={}).status_code == 403
    assert set(PLATFORMS) <= {channel.name for channel in wired.channels}
    assert len(wired.on_start) == len(wired.on_stop) == len(PLATFORMS)


@pytest.mark.parametrize(("section", "environment", "message"), [
    ({"slack": {"enabled": True}}, {},
     "platforms.slack.bot_token_env: environment variable SLACK_BOT_TOKEN is not set"),
    ({"slack": {"enabled": True, "mode": "socket"}}, {"SLACK_BOT_TOKEN": "x"},
     "platforms.slack.app_token_env: environment variable SLACK_APP_TOKEN is not set"),
    ({"telegram": {"enabled": True, "mode": "webhook"}}, {"TELEGRAM_BOT_TOKEN": "1:T"},
     "platforms.telegram.webhook_url: webhook mode needs the public https URL of "
     "/telegram/webhook"),
    ({"wecom": {"enabled": True}}, {"WECOM_TOKEN": "t", "WECOM_AES_KEY": "short"},
     "platforms.wecom.aes_key_env: the EncodingAESKey must be 43 characters of base64"),
    ({"wecom": {"enabled": True, "team_robot_envs": {"Harbour": ["ROBOT_HARBOUR"]}}},
     {"WECOM_TOKEN": "t", "WECOM_AES_KEY": AES_KEY, "WECOM_SECRET": "s"},
     "platforms.wecom: environment variable ROBOT_HARBOUR is not set"),
    ({"feishu": {"enabled": True}}, {},
     "platforms.feishu.app_id: the app's App ID (cli_…) is not set"),
    ({"feishu": {"enabled": True, "app_id": "cli_1", "mode": "http"}},
     {"FEISHU_APP_SECRET": "s"},
     "platforms.feishu.encrypt_key_env: environment variable FEISHU_ENCRYPT_KEY is not set"),
    ({"feishu": {"enabled": True, "app_id": "cli_1", "domain": "http://open.example.com"}},
     {"FEISHU_APP_SECRET": "s"},
     "platforms.feishu.domain: domain must use https scheme (got 'http://open.example.com')"),
    ({"teams": {"enabled": True, "app_id": "app"}}, {},
     "platforms.teams.secret_env: environment variable TEAMS_APP_SECRET is not set"),
    ({"dingtalk": {"enabled": True}}, {},
     "platforms.dingtalk.app_key_env: environment variable DINGTALK_APP_KEY is not set"),
    ({"dingtalk": {"enabled": True, "all_staff_robots": [
        {"url_env": "ROBOT_HARBOUR", "secret_env": "ROBOT_HARBOUR_SECRET"}]}},
     {"DINGTALK_APP_KEY": "ding1", "DINGTALK_APP_SECRET": "s"},
     "platforms.dingtalk: environment variable ROBOT_HARBOUR is not set"),
    ({"dingtalk": {"enabled": True, "mode": "http", "corp_id": "ding0"}},
     {"DINGTALK_APP_KEY": "ding1", "DINGTALK_APP_SECRET": "s", "DINGTALK_EVENT_TOKEN": "t",
      "DINGTALK_EVENT_AES_KEY": "short"},
     "platforms.dingtalk.event_aes_key_env: the EncodingAESKey must be 43 characters of base64"),
])
def test_a_platform_names_what_it_misses(engine, monkeypatch, section, environment, message):
    for variable in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN",
                     "TELEGRAM_BOT_TOKEN", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY",
                     "ROBOT_HARBOUR", "FEISHU_APP_SECRET", "FEISHU_ENCRYPT_KEY",
                     "TEAMS_APP_SECRET", "DINGTALK_APP_KEY", "DINGTALK_APP_SECRET",
                     "DINGTALK_EVENT_TOKEN", "DINGTALK_EVENT_AES_KEY"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        runtime.wire(engine, parse_config({"platforms": section}))
    assert str(raised.value) == message


def test_a_disabled_platforms_sdk_is_never_imported(tmp_path):
    """In a fresh interpreter: WeCom enabled and wired, Slack's and Telegram's SDKs
    (and their adapters) never loaded."""
    script = f"""
import sys
from bot import cli, runtime
from bot.kit.config import parse_config
from storage.engine import create_all, make_engine

engine = make_engine("sqlite:///{tmp_path / 'sdk.db'}")
create_all(engine)
config = parse_config({{"platforms": {{"wecom": {{"enabled": True, "corp_id": "ww1"}}}}}})
wired = runtime.wire(engine, config)
print([platform.name for platform in wired.platforms])
print(sorted(name for name in sys.modules
             if name.split(".")[0] in ("slack_bolt", "slack_sdk", "telegram", "lark_oapi",
                                       "microsoft_agents", "dingtalk_stream")
             or name.startswith(tuple(f"bot.platforms.{{other}}." for other in (
                 "slack", "telegram", "feishu", "teams", "dingtalk")))))
"""
    environment = {**os.environ, "WECOM_SECRET": "s", "WECOM_TOKEN": "t",
                   "WECOM_AES_KEY": AES_KEY}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, env=environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == [
        "['wecom']", str([f"bot.platforms.{other}.settings" for other in (
            "dingtalk", "feishu", "slack", "teams", "telegram")])]


def test_idempotency_keys_have_one_format_and_never_collide():
    assert idempotency_key("telegram", Event("update", 7001)) == "telegram:update:7001"
    assert idempotency_key("slack", Event("view", "V1:x")) == "slack:view:V1:x"
    assert idempotency_key("slack", Event("view", "V1")) != idempotency_key("slack",
                                                                            Event("event", "V1"))
    for platform, kind in (("slack", "view:V1"), ("sl:ack", "view"), ("slack", "")):
        with pytest.raises(ValueError):
            idempotency_key(platform, Event(kind, "x"))


def echo_config(platforms: dict) -> Config:
    """The config as it is when the registry has the echo line."""
    section = platforms_model(REGISTRY)
    model = create_model("EchoConfig", __base__=Config,
                         platforms=(section, Field(default_factory=section)))
    return model.model_validate({"roles": ROLES, "catalog": DEMO_CATALOG,
                                 "platforms": platforms})


def test_a_platform_added_with_one_package_and_one_registry_line(org, monkeypatch):
    config = echo_config({"echo": {"enabled": True, "all_staff_room": "lobby"}})
    assert config.platforms.enabled() == ["echo"]
    assert config.platforms.slack.enabled is False  # the others are still there
    with pytest.raises(ValidationError) as refused:
        echo_config({"echo": {"colour": "red"}})
    assert refused.value.errors()[0]["loc"] == ("platforms", "echo", "colour")
    monkeypatch.delenv("ECHO_TOKEN", raising=False)
    with pytest.raises(ConfigError) as raised:
        runtime.wire(org, config, REGISTRY)
    assert str(raised.value) == ("platforms.echo.token_env: environment variable ECHO_TOKEN "
                                 "is not set")

    monkeypatch.setenv("ECHO_TOKEN", "t0k")
    with transaction(org) as session:  # the directory has its column, as every platform's
        import_csv(session, config, "handle,name,role,team,supervisor,locale,echo_id\n"
                   "alice,Alice Chen,employee,Harbour Street Store,wang,en,E-alice\n"
                   "wang,王芳 Wang Fang,supervisor,Harbour Street Store,,zh,E-wang\n")
    wired = runtime.wire(org, config, REGISTRY)
    assert wired.webhooks == {"/echo/hook": "echo"}  # its acknowledgements timed
    assert wired.body_limits == {"/echo/hook": 8 * 1024}  # and the bodies it takes
    (echo,) = wired.platforms
    assert isinstance(echo, Platform) and echo.name == "echo"
    token = {"X-Echo-Token": "t0k"}
    with TestClient(create_app(wired.routers, wired.on_start, wired.on_stop,
                               body_limits=wired.body_limits)) as client:
        assert echo.running
        assert client.post("/echo/hook", content=b"x" * (8 * 1024 + 1),
                           headers=token).status_code == 413
        said = {"user": "E-alice", "text": "comp 500 refund #A7 broken on arrival", "id": "41"}
        first = client.post("/echo/hook", json=said, headers=token).json()
        again = client.post("/echo/hook", json=said, headers=token).json()  # delivered twice
        assert first == again and "C1" in first["text"]
        assert count(org, Compensation) == 1
        assert client.post("/echo/hook", json=said, headers={"X-Echo-Token": "no"}
                           ).status_code == 403
        stranger = {"user": "E-nobody", "text": "me", "id": "42"}
        assert "not registered" in client.post("/echo/hook", json=stranger,
                                               headers=token).json()["text"]
        assert dispatch_pending(org, wired.channels) == 1
        (to, text), = echo.channel.delivered
        assert to == "E-wang" and "C1" in text
    assert not echo.running
