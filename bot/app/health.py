"""Readiness: whether this worker should be sent traffic. `/healthz` (in bot/app/web.py)
only says the process answers; `/readyz` checks the database is reachable, its schema
is at the newest migration, and every enabled platform has started and says it is
ready (`Platform.ready`)."""

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from storage import migrate

Readiness = Callable[[], Mapping[str, bool]]  # platform name -> ready


@dataclass(frozen=True)
class Check:
    name: str  # database | migrations | platform:<name>
    ok: bool
    detail: str = ""


def _database(engine: Engine) -> Check:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        return Check("database", False, f"unreachable: {error.__class__.__name__}")
    return Check("database", True)


def _migrations(engine: Engine) -> Check:
    try:
        found = migrate.database_revisions(engine)
    except SQLAlchemyError as error:
        return Check("migrations", False, f"unknown: {error.__class__.__name__}")
    wanted = migrate.heads()
    detail = f"database at {', '.join(sorted(found)) or 'no revision'}; " \
             f"head {', '.join(sorted(wanted))}"
    return Check("migrations", found == wanted, detail)


def checks(engine: Engine, platforms: Readiness) -> list[Check]:
    """Every check, in order; the migrations are not asked of an unreachable database."""
    database = _database(engine)
    found = [database, _migrations(engine) if database.ok
             else Check("migrations", False, "database unreachable")]
    for name, ready in platforms().items():
        found.append(Check(f"platform:{name}", ready, "ready" if ready else "not started"
                           " or not connected"))
    return found


def router(engine: Engine, platforms: Readiness) -> APIRouter:
    routes = APIRouter()

    @routes.get("/readyz")
    def readyz() -> JSONResponse:
        found = checks(engine, platforms)
        failing = [check.name for check in found if not check.ok]
        return JSONResponse({"ready": not failing, "failing": failing,
                             "checks": [asdict(check) for check in found]},
                            status_code=503 if failing else 200)

    return routes
