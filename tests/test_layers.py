"""What the import contracts (`lint-imports`, pyproject.toml) cannot say: a migration
imports no live code, and every error Frontline defines has one root."""

import ast
import sys
from pathlib import Path

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


# A migration replayed later must build what it built when written: besides the standard
# library it may use alembic, SQLAlchemy and SQLModel, the column types, and the frozen
# copies of what migrations compute (storage/migrations/frozen.py).
MIGRATIONS = ROOT / "storage" / "migrations"
ALLOWED_IN_MIGRATIONS = ("alembic", "sqlalchemy", "sqlmodel", "storage.types",
                         "storage.migrations.frozen")


def test_migrations_import_no_live_code():
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in [*(MIGRATIONS / "versions").glob("*.py"), MIGRATIONS / "frozen.py"]
        for name in imported_modules(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not any(name == allowed or name.startswith(f"{allowed}.")
                    for allowed in ALLOWED_IN_MIGRATIONS)}
    assert not offenders, sorted(offenders)


def test_the_check_sees_imports():
    assert "storage.migrations.frozen" in imported_modules(
        MIGRATIONS / "versions" / "0014_feedback_days.py")


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


def test_every_name_the_kits_face_offers_is_there_and_loads_only_its_module():
    import subprocess

    probe = ("import sys, bot.kit as kit\n"
             "names = {n: getattr(kit, n) for n in kit.__all__}\n"
             "assert all(v is not None for v in names.values())\n")
    subprocess.run([sys.executable, "-c", probe], check=True)
    lone = subprocess.run([sys.executable, "-c", "import sys; from bot.kit import MsgCrypt;"
                           "print('bot.kit.inbox' in sys.modules)"],
                          check=True, capture_output=True, text=True)
    assert lone.stdout.strip() == "False"  # one name does not load the whole kit
