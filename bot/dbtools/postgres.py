"""PostgreSQL's own tools, pg_dump and pg_restore, run for a database URL: the password
goes through the environment, not the command line that `ps` shows."""

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import make_url

from bot.dbtools import DbToolError
from storage.engine import normalise_url


def pg_run(tool: str, url: str | None, *args: str, what: str = "") -> str:
    """Run `tool` (on the database at `url`, when given) and return its output; a
    failure is one line, `what` or the tool's last word."""
    found = shutil.which(tool)
    if found is None:
        raise DbToolError(f"{tool} is not installed: install PostgreSQL's client tools "
                          "(e.g. apt install postgresql-client), of the server's version "
                          "or newer")
    env = dict(os.environ)
    command = [found, *args]
    if url is not None:
        parsed = make_url(normalise_url(url))
        if parsed.password:
            env["PGPASSWORD"] = str(parsed.password)
        plain = parsed.set(drivername="postgresql", password=None)
        command.append(f"--dbname={plain.render_as_string(hide_password=False)}")
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        said = [line for line in done.stderr.splitlines() if line.strip()]
        raise DbToolError(what or f"{tool}: {said[-1] if said else 'failed'}")
    return done.stdout


def pg_restore(url: str, file: Path) -> None:
    """Restore the archive `file` into the database at `url`, all or nothing: what it
    holds replaces the tables of the same names."""
    pg_run("pg_restore", url, "--clean", "--if-exists", "--no-owner", "--single-transaction",
           "--exit-on-error", str(file))
