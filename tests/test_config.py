from decimal import Decimal
from pathlib import Path

import pytest

from bot.kit.config import ConfigError, load_config, parse_config

EXAMPLE = Path(__file__).parent.parent / "config.example.toml"


def test_the_example_config_is_valid():
    config = load_config(EXAMPLE)
    assert config.authority("employee").per_incident_limit == Decimal("200")
    assert config.catalog_item("training").stock == 5
    assert config.organisation.tz.key == "Asia/Shanghai"


def test_catalog_names_fall_back_from_traditional_to_simplified_chinese():
    config = load_config(EXAMPLE)
    leave, training = config.catalog_item("leave-day"), config.catalog_item("training")
    assert [leave.name(locale) for locale in ("en", "zh", "zh-Hant")] == [
        "A day of paid leave", "一天带薪假", "一天有薪假"]
    assert training.name("zh-Hant") == "一个培训名额" == training.name("zh")
    assert training.name("xx") == "A place on a training course"


@pytest.mark.parametrize(("change", "message"), [
    ({"organisation": {"timezone": "Mars/Base"}}, "organisation.timezone: "),
    ({"organisation": {"currency": "yuan"}}, "organisation.currency: "),
    ({"roles": {"employee": {"per_incident_limit": "12.345"}}},
     "roles.employee.per_incident_limit: "),
    ({"roles": {"chef": {}}}, "roles: "),
    ({"points": {"praise": -1}}, "points.praise: "),
    ({"catalog": [{"key": "a", "name_en": "A", "name_zh": "甲", "cost": 1}] * 2}, "catalog: "),
    ({"organisation": {"colour": "red"}}, "organisation.colour: "),
    ({"organisation": {"default_locale": "zh-TW"}}, "organisation.default_locale: "),
    ({"catalog": [{"key": "a", "name_en": "A", "name_zh": "甲", "names": {"fr": "Un"},
                   "cost": 1}]}, "catalog.0.names: "),
    ({"platforms": {"irc": {}}}, "platforms.irc: "),
])
def test_a_wrong_config_names_the_key(change, message):
    with pytest.raises(ConfigError, match=f"^{message}"):
        parse_config(change)


def test_secrets_come_from_the_environment(monkeypatch):
    config = parse_config({"database": {"url_env": "FRONTLINE_TEST_DB"}})
    with pytest.raises(ConfigError, match="FRONTLINE_TEST_DB is not set"):
        config.database_url()
    monkeypatch.setenv("FRONTLINE_TEST_DB", "postgresql://u:p@db/frontline")
    assert config.database_url() == "postgresql://u:p@db/frontline"


def test_invalid_toml(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[organisation\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_the_example_shows_the_built_in_defaults():
    """config.example.toml says its values are the defaults: every section it shows
    equals what Frontline runs with when there is no config at all."""
    example, built_in = load_config(EXAMPLE).model_dump(), parse_config({}).model_dump()
    for marked_as_example in ("corp_id", "agent_id"):
        del example["platforms"]["wecom"][marked_as_example]
        del built_in["platforms"]["wecom"][marked_as_example]
    assert set(example) == set(built_in)
    for section in example:
        assert example[section] == built_in[section], section
    assert built_in["roles"]["employee"]["daily_budget"] == Decimal("600")


def test_sections_a_config_leaves_out_keep_their_defaults():
    config = parse_config({"database": {"url": "sqlite:///x.db"}, "web": {"port": 18097}})
    assert [item.key for item in config.catalog] == [
        "leave-day", "training", "innovation-100", "coffee"]
    only_employee = parse_config({"roles": {"employee": {"per_incident_limit": "50"}}})
    assert only_employee.authority("employee").per_incident_limit == Decimal("50")
    assert only_employee.authority("employee").daily_budget is None  # the table given
    assert only_employee.authority("supervisor").per_incident_limit == Decimal("1000")
    assert only_employee.authority("hr").per_incident_limit == Decimal("1000")
    assert parse_config({"catalog": []}).catalog == []


@pytest.mark.parametrize(("web", "url"), [
    ({}, "http://localhost:8080"),
    ({"port": 18097}, "http://localhost:18097"),
    ({"host": "0.0.0.0", "port": 9000}, "http://localhost:9000"),
    ({"host": "10.1.2.3", "port": 9000}, "http://10.1.2.3:9000"),
    ({"host": "fd00::5"}, "http://[fd00::5]:8080"),
    ({"port": 9000, "public_url": "https://fl.example.com/"}, "https://fl.example.com"),
])
def test_sign_in_links_point_where_the_console_is_served(web, url):
    assert parse_config({"web": web}).web.public_url == url
