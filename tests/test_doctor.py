"""`frontline doctor`: the database, the schema, each enabled platform's configuration
and the public URL, as a checklist in the installer's language. (Each platform's live
credentials and permissions, against its fake: tests/platforms/test_conformance.py.)"""

from pathlib import Path

from tests.http_servers import free_port
from tests.support import frontline

TELEGRAM = """
[platforms.telegram]
enabled = true
mode = "webhook"
webhook_url = "https://bot.example.com/telegram/webhook"
"""


def configured(tmp_path: Path, url: str, more: str = "") -> Path:
    config = tmp_path / "frontline.toml"
    config.write_text(f'[database]\nurl = "{url}"\n{more}', encoding="utf-8")
    return config


def test_a_ready_install_passes_every_check(tmp_path, migrated_url):
    done = frontline(configured(tmp_path, migrated_url), "doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["✓ The database answers.",
                                        "✓ The database schema is at the newest migration.",
                                        "", "Everything checked holds."]


def test_a_database_behind_its_schema_is_named_with_the_command_that_fixes_it(
        tmp_path, database_url):
    done = frontline(configured(tmp_path, database_url), "doctor", "--lang", "zh")
    assert done.returncode == 1
    assert "✗ 数据库结构不是最新版本。\n    → 运行：frontline db upgrade" in done.stdout
    assert done.stdout.rstrip().endswith("有 1 项需要处理；处理后请再次运行 frontline doctor。")


def test_a_missing_secret_and_an_unreachable_webhook_url_are_named(tmp_path, migrated_url,
                                                                     monkeypatch):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    config = configured(tmp_path, migrated_url, TELEGRAM)
    done = frontline(config, "doctor", "--lang", "zh-Hant")
    assert done.returncode == 1
    assert "✗ telegram：platforms.telegram.token_env: environment variable " \
           "TELEGRAM_BOT_TOKEN is not set" in done.stdout
    assert "步驟見 docs/platforms/telegram.md" in done.stdout

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "s3cret")
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing serves there
    config.write_text(config.read_text() + f'\n[web]\npublic_url = "{nobody}"\n')
    done = frontline(config, "doctor")
    assert "✓ telegram: configured, its secrets set." in done.stdout
    assert f"✗ Webhooks cannot reach this server at {nobody} over https." in done.stdout
    assert "set web.public_url to that address" in done.stdout
