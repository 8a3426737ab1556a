"""The `frontline` command, run as a user runs it, on a migrated SQLite file and a
migrated PostgreSQL database."""

import functools
import json
import os
import pty
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from storage.models import CommandReceipt
from tests.http_servers import free_port
from tests.support import frontline as run_frontline
from tests.support import wait_until


def cli(config: Path):
    """`frontline --config CONFIG …` (in this process: tests/support.py)."""
    return functools.partial(run_frontline, config)


def config_for(tmp_path: Path, url: str) -> Path:
    config = tmp_path / "frontline.toml"
    config.write_text(f'[database]\nurl = "{url}"\n\n[[catalog]]\nkey = "coffee"\n'
                      'name_en = "Coffee"\nname_zh = "咖啡"\ncost = 10\n', encoding="utf-8")
    return config


@pytest.fixture
def frontline(tmp_path, migrated_url):
    """The command on a database at the newest migration."""
    return cli(config_for(tmp_path, migrated_url))


def test_db_upgrade_migrates_an_empty_database_to_match_the_models(tmp_path, database_url):
    assert cli(config_for(tmp_path, database_url))("db", "upgrade").returncode == 0
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    engine.dispose()


def test_scripted_chat_prints_replies_and_notifications(frontline):
    result = frontline("chat", "--as", "wang", stdin=(
        "praise @alice She found my lost ring\n/as alice\nme\nredeem coffee\n"
        "/as nobody\n/people\n"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "loaded the demo organisation" in out
    assert "已为 Alice Chen 登记表扬" in out  # wang reads Chinese
    assert "[all staff]" in out and "A customer praised Alice Chen" in out
    assert "Points: 10" in out
    assert "R1: Coffee for 10 points requested; balance 0" in out
    assert "No active person @nobody" in out
    again = frontline("chat", "--as", "alice", stdin="ledger\n")
    assert "balance 0, last 2 entries" in again.stdout  # the data persisted


def test_chat_as_someone_unknown(frontline):
    result = frontline("chat", "--as", "ghost", stdin="me\n")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("frontline: nobody called 'ghost'")


def test_directory_import_reports_bad_rows(frontline, tmp_path):
    staff = tmp_path / "staff.csv"
    staff.write_text("handle,name,role,supervisor\nmei,Mei,supervisor,\ntom,Tom,chef,mei\n",
                     encoding="utf-8")
    result = frontline("directory", "import", str(staff))
    assert result.returncode == 1
    assert "nothing imported" in result.stderr and "line 3: role 'chef'" in result.stderr
    staff.write_text("handle,name,role,supervisor\nmei,Mei,supervisor,\ntom,Tom,employee,mei\n",
                     encoding="utf-8")
    result = frontline("directory", "import", str(staff))
    assert (result.returncode, result.stdout.strip()) == (
        0, "2 added, 0 changed (0 deactivated), 0 unchanged")


def test_export_is_safe_for_spreadsheets(frontline, tmp_path):
    staff = tmp_path / "staff.csv"
    staff.write_text('handle,name,role\nboss,Boss,hr\nevil,"=HYPERLINK(""http://x"")",employee\n',
                     encoding="utf-8")
    assert frontline("directory", "import", str(staff)).returncode == 0
    frontline("chat", "--as", "boss", stdin="praise @evil +SUM(A1) @cmd -2\n")
    csv_out = frontline("ledger", "export", "--format", "csv").stdout
    assert "'=HYPERLINK" in csv_out and ",10," in csv_out
    entries = json.loads(frontline("ledger", "export", "--format", "json").stdout)
    assert [e["amount"] for e in entries] == [10]
    assert frontline("ledger", "export", "--since", "2999-01-01").stdout.count("\n") == 1
    assert frontline("ledger", "export", "--since", "soon").returncode == 2


def test_verify_exits_non_zero_on_a_mismatch(frontline, migrated_url):
    frontline("chat", "--as", "wang", stdin="praise @alice thanks\n")
    assert frontline("ledger", "verify").returncode == 0
    engine = create_engine(migrated_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(text("UPDATE pointsaccount SET balance = balance + 5"))
    engine.dispose()
    result = frontline("ledger", "verify")
    assert result.returncode == 1
    assert "@alice (employee 2): balance 15 but entries sum to 10" in result.stdout


def test_config_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[organisation]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot.cli", "--config", str(bad), "run"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("frontline: organisation.timezone: ")


def test_link_code_is_printed_once_and_stored_hashed(frontline, migrated_url):
    frontline("chat", "--as", "wang", stdin="me\n")  # loads the demo directory
    result = frontline("directory", "link-code", "alice", "--platform", "telegram")
    assert result.returncode == 0, result.stderr
    code = result.stdout.split()[0]
    assert len(code) == 10 and f"link {code}" in result.stdout
    engine = create_engine(migrated_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT code_hash, purpose FROM onetimecode")).all()
    engine.dispose()
    assert len(stored) == 1 and stored[0][1] == "link:telegram" and code not in stored[0][0]
    assert frontline("directory", "link-code", "ghost").returncode == 1


def test_link_code_prints_the_telegram_deep_link_when_the_bot_is_named(frontline, tmp_path):
    frontline("chat", "--as", "wang", stdin="me\n")  # loads the demo directory
    assert "t.me" not in frontline("directory", "link-code", "alice").stdout
    config = tmp_path / "frontline.toml"
    config.write_text(config.read_text(encoding="utf-8") + (
        '\n[platforms.telegram]\nbot_username = "frontline_bot"\n'), encoding="utf-8")
    result = frontline("directory", "link-code", "@Alice")
    assert result.returncode == 0, result.stderr
    code = result.stdout.split()[0]
    link = re.search(r"https://t\.me/frontline_bot\?start=(\S+)", result.stdout)
    assert link is not None and link[1] == code
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", code)  # what a start parameter takes
    assert "t.me" not in frontline("directory", "link-code", "alice", "--platform",
                                   "teams").stdout


def test_prune_prints_what_it_removed_per_table(frontline, migrated_url):
    now = datetime.now(UTC)
    engine = create_engine(migrated_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(CommandReceipt.__table__.insert(), [
            {"key": "slack:command:1", "reply": {}, "created_at": now - timedelta(days=31)},
            {"key": "slack:command:2", "reply": {}, "created_at": now - timedelta(days=1)}])
    result = frontline("prune")
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT key FROM commandreceipt")).scalars().all()
    engine.dispose()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "removed what was past its use for more than 30 days:"
    assert lines[1].split() == ["commandreceipt", "1"] and "outbox" in result.stdout
    assert kept == ["slack:command:2"]


def test_run_names_the_missing_platform_secret(tmp_path):
    config = tmp_path / "tg.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "tg.db"}"\n\n'
                      '[platforms.telegram]\nenabled = true\ntoken_env = "NO_SUCH_TOKEN_VAR"\n',
                      encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot.cli", "--config", str(config), "run"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == ("frontline: platforms.telegram.token_env: environment "
                                     "variable NO_SUCH_TOKEN_VAR is not set")


@pytest.mark.slow
@pytest.mark.http
def test_run_serves_telegram_with_the_outbox(frontline, tmp_path):
    """`frontline run` end to end: long polling against the fake Bot API, two staff
    linking their accounts, and an approval request reaching the supervisor."""
    import time

    from tests.fake_telegram import TOKEN, FakeTelegram

    frontline("chat", "--as", "wang", stdin="me\n")  # loads the demo directory
    codes = {who: frontline("directory", "link-code", who).stdout.split()[0]
             for who in ("alice", "wang")}
    fake = FakeTelegram()
    port = free_port()
    with fake.serve() as api_url:
        config = tmp_path / "frontline.toml"
        config.write_text(config.read_text(encoding="utf-8") + (
            f'\n[web]\nport = {port}\n\n[platforms.telegram]\nenabled = true\n'
            f'api_base = "{api_url}/bot"\nfile_base = "{api_url}/file/bot"\n'), encoding="utf-8")
        bot = subprocess.Popen([sys.executable, "-m", "bot.cli", "--config", str(config), "run"],
                               env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN},
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            for update_id, (user, text_) in enumerate([
                    (2001, f"/start {codes['alice']}"), (2002, f"/start {codes['wang']}"),
                    (2001, "/comp 500 refund #A7 broken on arrival")], start=1):
                fake.push({"update_id": update_id, "message": {
                    "message_id": update_id, "date": int(time.time()), "text": text_,
                    "chat": {"id": user, "type": "private"},
                    "from": {"id": user, "is_bot": False, "first_name": "x"},
                    "entities": [{"type": "bot_command", "offset": 0,
                                  "length": len(text_.split()[0])}]}})
            def approval_card_sent() -> bool:
                assert bot.poll() is None, bot.stderr.read().decode()
                return any("reply_markup" in m for m in fake.sent() if m["chat_id"] == "2002")

            wait_until(approval_card_sent, "the approval card to wang", 60)
        finally:
            bot.terminate()
            bot.wait(timeout=30)
    assert any("C1" in t for t in fake.texts_to(2001))
    assert any("Welcome" in t or "欢迎" in t for t in fake.texts_to(2002))


def test_help_describes_every_command():
    result = subprocess.run([sys.executable, "-m", "bot.cli", "--help"],
                            capture_output=True, text=True, timeout=60)
    described = re.findall(r"^    (\S+) +\S", result.stdout, re.MULTILINE)
    assert described == ["run", "chat", "directory", "feedback", "themes", "ledger", "redemptions",
                         "rituals", "prune", "api-token", "teams-package", "doctor", "db"]


@pytest.mark.parametrize("hours", ["-5", "0", "721", "soon"])
def test_link_code_hours_are_checked_in_one_line(frontline, hours):
    result = frontline("directory", "link-code", "alice", "--hours", hours)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"frontline directory link-code: argument --hours: {hours!r} is "
                             "not a whole number of hours from 1 to 720 (see `frontline "
                             "directory link-code --help`)\n")


def on_port(config: Path, port: int) -> None:
    config.write_text(config.read_text(encoding="utf-8") + f"\n[web]\nport = {port}\n",
                      encoding="utf-8")


class Started:
    """A `frontline` process whose output is read line by line as it comes."""

    def __init__(self, tmp_path: Path, *args: str, stdin) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--config", str(tmp_path / "frontline.toml"),
             *args], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            cwd=tmp_path, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line) for line in self.process.stdout],
                         daemon=True).start()

    def wait_for(self, pattern: str) -> re.Match:
        deadline, seen = time.monotonic() + 60, []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            seen.append(line)
            if found := re.search(pattern, line):
                return found
        raise AssertionError(f"no {pattern!r} in {seen}")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)


def opens(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status == 200 and "<form" in response.read().decode()


@pytest.mark.slow
@pytest.mark.http
def test_run_serves_the_console_and_its_links_on_the_configured_port(frontline, tmp_path):
    port = free_port()
    on_port(tmp_path / "frontline.toml", port)
    bot = Started(tmp_path, "run", stdin=subprocess.PIPE)
    try:
        bot.wait_for(rf"Web console: http://localhost:{port} ")
        bot.process.stdin.write("login\n")
        bot.process.stdin.flush()
        link = bot.wait_for(rf"http://localhost:{port}/login/\w+").group(0)
        assert opens(link)
    finally:
        bot.stop()


@pytest.mark.slow
@pytest.mark.http
def test_run_stops_in_one_line_when_its_port_is_taken(frontline, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        on_port(tmp_path / "frontline.toml", port)
        result = frontline("run")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"frontline: web.port: {port} is in use on 127.0.0.1 ")
    assert result.stderr.count("\n") == 1


@pytest.mark.slow
@pytest.mark.http
def test_chat_at_a_terminal_serves_the_web_console(frontline, tmp_path):
    port = free_port()
    on_port(tmp_path / "frontline.toml", port)
    terminal, stdin = pty.openpty()
    bot = Started(tmp_path, "chat", "--as", "alice", stdin=stdin)
    try:
        bot.wait_for(rf"Web console: http://localhost:{port} ")
        os.write(terminal, b"login\n")
        assert opens(bot.wait_for(rf"http://localhost:{port}/login/\w+").group(0))
    finally:
        bot.stop()
        os.close(terminal)
        os.close(stdin)


@pytest.mark.slow
@pytest.mark.http
def test_chat_at_a_terminal_leaves_a_taken_port_to_the_frontline_holding_it(frontline,
                                                                            tmp_path):
    terminal, stdin = pty.openpty()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        on_port(tmp_path / "frontline.toml", port)
        bot = Started(tmp_path, "chat", "--as", "alice", stdin=stdin)
        try:
            bot.wait_for(rf"Web console: port {port} is taken, .* point to "
                         rf"http://localhost:{port}$")
            os.write(terminal, b"me\n")
            bot.wait_for("Points: 0")
        finally:
            bot.stop()
            os.close(terminal)
            os.close(stdin)


def test_scripted_chat_says_its_sign_in_link_needs_a_served_console(frontline):
    result = frontline("chat", "--as", "alice", stdin="login\n")
    assert result.returncode == 0, result.stderr
    assert "This scripted console serves no web console" in result.stdout
    assert "Web console:" not in result.stdout


def test_redemptions_export_for_payroll(frontline):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo
    result = frontline("chat", "--as", "wang", stdin=(
        "praise @alice She found my lost ring\n/as alice\nredeem coffee\n/as hana\n"
        "approve R1\n"))
    assert result.returncode == 0, result.stderr
    month = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    exported = frontline("redemptions", "export", "--month", month)
    assert exported.returncode == 0, exported.stderr
    header, row = exported.stdout.strip().splitlines()
    assert header.startswith("redemption,fulfilled_at,handle,name,team,item,item_name,category")
    assert row.startswith("R1,") and ",alice,Alice Chen," in row
    assert ",coffee,Coffee,other,10,," in row
    assert "exported 1 fulfilled redemptions" in exported.stderr
    assert frontline("redemptions", "export", "--month", "2026-13").returncode == 2
    assert frontline("redemptions", "export").returncode == 2


def test_themes_retag_tags_every_record_again(frontline):
    result = frontline("themes", "retag")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("re-tagged with the current themes: 0 feedback, "
                                     "0 waiver, 0 suggestion, 0 pulseanswer")
