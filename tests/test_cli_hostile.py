"""Every `frontline` command meets hostile arguments and ends with one clear line and a
non-zero exit, never a traceback. The commands and their arguments are read from the
parser itself, so a command added later is covered without a line here."""

import argparse
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from unittest import mock

import pytest

from bot import cli
from tests.fake_teams import APP_ID
from tests.support import frontline

HOSTILE = {
    "empty": "",
    "10,000 characters": "x" * 10_000,
    "control characters": "bad\x1b[31m\r\nline\x07",
    "a path out of the folder": "../../../../../../../../no-such-frontline-folder/etc/passwd",
    "a missing folder": "no-such-folder/out.zip",
    "a folder": ".",
    "a URL": "https://https://frontline.example.com/a path",
    "not a GUID": "not-a-guid",
    "negative": "-5",
    "huge": "9" * 30,
    "month 13": "2026-13",
}
# Free-form names take these as they are: they may succeed, still in one piece.
NAMES = {"not-a-guid", "9" * 30, "2026-13"}
FITTING = {("api-token create", "name"): NAMES, ("api-token revoke", "name"): NAMES,
           ("teams-package", "out"): {*NAMES, "-5"}, ("directory export", "out"): {*NAMES, "-5"},
           ("db backup", "file"): {*NAMES, "-5"},
           # a reason is free text: any printable line within its limit may be one
           ("directory erase", "reason"): {value for value in HOSTILE.values()
                                           if value.strip() and value.isprintable()
                                           and len(value) <= 1000}}
# A value that lets the other arguments pass, by destination.
GOOD = {"name": "alice", "as_": "alice", "host": "frontline.example.com", "month": "2026-11",
        "file": "staff.csv", "to": "postgresql://frontline@db.example.com/frontline",
        "reason": "left the company"}
LONGEST_LINE = cli.LONGEST_LINE  # the most one error line may take


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(words, parser) of every command that runs something."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for word, sub in action.choices.items():
                yield from commands(sub, (*path, word))
    if parser.get_default("func") is not None:
        yield path, parser


def takes_a_value(action: argparse.Action) -> bool:
    return action.nargs != 0 and not isinstance(
        action, (argparse._HelpAction, argparse._SubParsersAction))


def good(action: argparse.Action) -> str:
    if action.choices:
        return next(iter(action.choices))
    assert action.dest in GOOD, f"tests/test_cli_hostile.py: add a good {action.dest}"
    return GOOD[action.dest]


def argv(words: tuple[str, ...], parser: argparse.ArgumentParser,
         tried: argparse.Action | None = None, value: str = "") -> list[str]:
    """The command with `value` for `tried` and a good value for every other required
    argument."""
    line = [*words]
    for action in parser._actions:
        if not takes_a_value(action) or (action is not tried and not action.required):
            continue
        given = value if action is tried else good(action)
        line += [given] if not action.option_strings else [action.option_strings[0], given]
    return line


ROOT = cli.build_parser()
COMMANDS = dict(commands(ROOT))
ROOT_OPTIONS = [a for a in ROOT._actions if takes_a_value(a) and a.option_strings]


@pytest.fixture
def config(tmp_path_factory, migrated_templates) -> Path:
    """A migrated SQLite store of its own for each test: a value a command accepts (a
    file written, a person erased) never meets another test's command."""
    folder = tmp_path_factory.mktemp("hostile")
    shutil.copyfile(migrated_templates("sqlite").removeprefix("sqlite:///"),
                    folder / "frontline.db")
    (folder / "staff.csv").write_text("handle,name,role\n", encoding="utf-8")
    path = folder / "frontline.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{folder / "frontline.db"}"\n\n'
                    f'[platforms.teams]\napp_id = "{APP_ID}"\n', encoding="utf-8")
    return path


def run(config: Path, *line: str):
    """The command's output, an exception escaping it shown as the traceback it would
    print."""
    try:
        return frontline(config, *line)
    except Exception as error:  # the very thing looked for
        return subprocess.CompletedProcess(line, None, "", f"Traceback: {error!r:.200}")


def refused_cleanly(result) -> str | None:
    """What is wrong with a refusal's output, or None."""
    if "Traceback" in result.stdout + result.stderr:
        return f"a traceback: {result.stderr[-300:]!r}"
    if result.returncode in (0, None):
        return f"exit {result.returncode}"
    lines = result.stderr.splitlines()
    if len(lines) != 1 or not result.stderr.endswith("\n"):
        return f"not one line: {result.stderr[:300]!r}"
    if not lines[0].startswith("frontline") or len(lines[0]) > LONGEST_LINE:
        return f"not a clear line: {lines[0][:300]!r}"
    if any(not char.isprintable() for char in lines[0]):
        return f"control characters: {lines[0][:300]!r}"
    return None


def test_the_parser_names_every_command():
    assert {" ".join(words) for words in COMMANDS} >= {
        "run", "chat", "directory import", "directory link-code", "teams-package", "doctor",
        "redemptions export", "ledger export", "api-token create", "db upgrade"}


@pytest.mark.parametrize("words", list(COMMANDS), ids=" ".join)
def test_every_argument_refuses_hostile_values_in_one_line(config, words):
    parser, problems = COMMANDS[words], []
    tried = [*(a for a in parser._actions if takes_a_value(a)), *ROOT_OPTIONS]
    # a hostile value `run` took would serve until stopped: fail instead
    with mock.patch.object(cli, "cmd_run", lambda *_: pytest.fail("run started")):
        for action in tried:
            for label, value in HOSTILE.items():
                if action in ROOT_OPTIONS:  # --config, before the command
                    line = [action.option_strings[0], value, *argv(words, parser)]
                else:
                    line = argv(words, parser, action, value)
                result = run(config, *line)
                if result.returncode == 0 and value in FITTING.get(
                        (" ".join(words), action.dest), ()):
                    continue
                if (problem := refused_cleanly(result)) is not None:
                    problems.append(f"{action.dest} = {label}: {problem}")
    assert problems == []


@pytest.mark.parametrize("host", ["frontline.acme.example", "https://frontline.acme.example/",
                                  "HTTPS://Frontline.Acme.Example", "frontline.acme.example."])
def test_teams_package_takes_a_host_or_its_https_address(config, host):
    out = config.parent / "teams.zip"
    result = frontline(config, "teams-package", "--out", str(out), "--host", host)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as archive:
        packaged = json.loads(archive.read("manifest.json"))
    assert packaged["validDomains"] == ["frontline.acme.example"]
    assert packaged["developer"]["websiteUrl"] == "https://frontline.acme.example/"


@pytest.mark.parametrize(("host", "why"), [
    ("https://https://frontline.acme.example/ x", "is not a host name"),
    ("https://frontline.acme.example/frontline", "path"),
    ("http://frontline.acme.example", "https"),
    ("frontline.acme.example:8443", "port"),
    ("192.0.2.7", "is not a host name"),
    ("frontline", "is not a host name"),
    ("bad-.example", "is not a host name")])
def test_teams_package_refuses_what_teams_would(config, host, why):
    result = frontline(config, "teams-package", "--out", str(config.parent / "t.zip"),
                       "--host", host)
    assert result.returncode == 2 and refused_cleanly(result) is None, result.stderr
    assert "argument --host" in result.stderr and why in result.stderr


def test_teams_package_refuses_an_app_id_that_is_not_a_guid(config, tmp_path):
    bad = tmp_path / "frontline.toml"
    bad.write_text(config.read_text(encoding="utf-8").replace(APP_ID, "my-bot"),
                   encoding="utf-8")
    result = frontline(bad, "teams-package", "--out", str(tmp_path / "t.zip"),
                       "--host", "frontline.acme.example")
    assert result.returncode == 1 and refused_cleanly(result) is None, result.stderr
    assert "platforms.teams.app_id" in result.stderr and "GUID" in result.stderr
    assert not (tmp_path / "t.zip").exists()


def test_a_config_that_is_not_text_is_one_line(config):
    binary = config.parent / "binary.toml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xd0\xff")
    result = frontline(config, "--config", str(binary), "ledger", "verify")
    assert result.returncode == 1 and refused_cleanly(result) is None, result.stderr
    assert "not valid TOML" in result.stderr


@pytest.mark.parametrize("url", ["nonsense", "mysql://frontline:s3cret@db/frontline",
                                 "postgresql://frontline:s3cret@db:port/frontline"])
def test_a_database_url_frontline_cannot_use_is_one_line_without_its_password(tmp_path, url):
    config = tmp_path / "frontline.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    result = frontline(config, "ledger", "verify")
    assert result.returncode == 1 and refused_cleanly(result) is None, result.stderr
    assert "database.url: not a SQLite or PostgreSQL URL" in result.stderr
    assert "s3cret" not in result.stderr


def test_teams_package_into_a_missing_folder_is_one_line(config):
    result = frontline(config, "teams-package", "--out", "no/such/folder/t.zip",
                       "--host", "frontline.acme.example")
    assert result.returncode == 2 and refused_cleanly(result) is None, result.stderr
    assert "no such folder" in result.stderr


def test_an_os_error_during_the_work_is_one_line(config, monkeypatch):
    from bot.platforms.teams import manifest

    def full(*_args) -> None:
        raise OSError(28, "No space left on device", "teams.zip")

    monkeypatch.setattr(manifest, "package", full)
    result = frontline(config, "teams-package", "--host", "frontline.acme.example")
    assert result.returncode == 1 and refused_cleanly(result) is None, result.stderr
    assert result.stderr == "frontline: teams.zip: No space left on device\n"


def test_a_bug_is_one_line_with_a_hint_and_shows_its_traceback_when_asked(config,
                                                                           monkeypatch):
    def broken(*_args) -> None:
        raise KeyError("oops")

    monkeypatch.setattr(cli, "cmd_prune", broken)
    result = frontline(config, "prune")
    assert result.returncode == 70 and refused_cleanly(result) is None, result.stderr
    assert "KeyError" in result.stderr and "--traceback" in result.stderr
    with pytest.raises(KeyError):
        frontline(config, "--traceback", "prune")
