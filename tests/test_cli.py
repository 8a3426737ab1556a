"""The `frontline` command, run as a user runs it, on a migrated SQLite file and a
migrated PostgreSQL database."""

import json
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from tests.conftest import throwaway_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cli.db'}"
        return
    with throwaway_postgres("frontline_cli") as url:
        yield url


@pytest.fixture
def frontline(tmp_path, database_url):
    config = tmp_path / "frontline.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n\n[[catalog]]\nkey = "coffee"\n'
                      'name_en = "Coffee"\nname_zh = "咖啡"\ncost = 10\n', encoding="utf-8")

    def run(*args, stdin=""):
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "--config", str(config), *args], input=stdin,
            capture_output=True, text=True, timeout=120, cwd=tmp_path)

    assert run("db", "upgrade").returncode == 0
    return run


def test_migrations_match_the_models(frontline, database_url):
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
    assert (result.returncode, result.stdout.strip()) == (0, "imported 2 people")


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


def test_verify_exits_non_zero_on_a_mismatch(frontline, database_url):
    frontline("chat", "--as", "wang", stdin="praise @alice thanks\n")
    assert frontline("ledger", "verify").returncode == 0
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(text("UPDATE pointsaccount SET balance = balance + 5"))
    engine.dispose()
    result = frontline("ledger", "verify")
    assert result.returncode == 1
    assert "balance 15 but entries sum to 10" in result.stdout


def test_config_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[organisation]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot.cli", "--config", str(bad), "run"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("frontline: organisation.timezone: ")
