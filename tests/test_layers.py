"""The domain (handlers, points, rituals, storage) never reaches into bot/: platforms,
web and database settings stay there, and the domain's policy stays with the domain."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ("handlers", "points", "rituals", "storage")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_never_imports_bot(package):
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / package).rglob("*.py")
        for name in imported_modules(path)
        if name == "bot" or name.startswith("bot.")}
    assert not offenders, sorted(offenders)


def test_the_check_sees_imports():
    assert "bot.config" in imported_modules(ROOT / "bot" / "runtime.py")


def test_every_error_frontline_defines_derives_from_one_root():
    """Catching FrontlineError tells a refusal, a bad config or a forged request
    from a bug; an exception class rooted elsewhere would slip through."""
    strays = []
    for package in (*DOMAIN, "bot"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef) and node.name != "FrontlineError" and any(
                        isinstance(base, ast.Name) and base.id.endswith(("Exception", "Error"))
                        and base.id != "FrontlineError" for base in node.bases):
                    strays.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert not strays, strays
