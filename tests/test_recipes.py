"""The recipes in docs/architecture.md, followed in a copy of the code: adding a language
is adding its catalog (and the words that choose it) and nothing else. (Adding a platform
is its package and a registry line: tests/test_platforms.py, with tests/echo_platform/.)"""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SPEAKS_FRENCH = """
import handlers
from bot.demo import DEMO_STAFF
from bot.kit.config import parse_config
from handlers.directory import import_csv, reading_locales
from handlers.dispatch import execute
from handlers.grammar import parse
from handlers.i18n import render_reply
from handlers.policy import LOCALES
from storage.engine import create_all, make_engine, transaction

assert handlers.__file__.startswith({copy!r}), handlers.__file__  # the copy, not the tree
assert LOCALES == ("en", "fr", "zh", "zh-Hant"), LOCALES
engine = make_engine("sqlite:///frontline.db")
create_all(engine)
config = parse_config({{}})
with transaction(engine) as session:
    import_csv(session, config, DEMO_STAFF)
reply, locale = execute(engine, config, "console", "alice", parse("lang français"))
assert reply.ok and locale == "fr", (reply, locale)
reply, locale = execute(engine, config, "console", "alice", parse("help"))
assert "Relevé de points" in render_reply(reply, locale), render_reply(reply, locale)
with transaction(engine) as session:  # shared chats now carry French too
    assert "fr" in reading_locales(session)
"""


def test_a_language_is_its_catalog_and_the_words_that_choose_it(tmp_path):
    for package in ("bot", "handlers", "points", "rituals", "storage"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    locales = tmp_path / "handlers" / "locales"
    chosen_by = '\nmsgid "word.lang.fr"\nmsgstr "fr français french"\n'
    for catalog in locales.glob("*/LC_MESSAGES/frontline.po"):
        catalog.write_text(catalog.read_text(encoding="utf-8") + chosen_by, encoding="utf-8")
    french = (locales / "en" / "LC_MESSAGES" / "frontline.po").read_text(encoding="utf-8")
    (locales / "fr" / "LC_MESSAGES").mkdir(parents=True)
    (locales / "fr" / "LC_MESSAGES" / "frontline.po").write_text(
        french.replace('msgstr "Points ledger"', 'msgstr "Relevé de points"'),
        encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", SPEAKS_FRENCH.format(copy=str(tmp_path))],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
