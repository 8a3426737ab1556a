"""The PostgreSQL server a test run uses, found or started once for the whole run.

In order: the server FRONTLINE_TEST_POSTGRES names ("off" switches the PostgreSQL half
off); else one answering at 127.0.0.1:5432; else a throw-away cluster started from the
machine's PostgreSQL binaries in a temp dir (pytest-postgresql's executor), stopped at
the end; else none, and the run says in one line why the PostgreSQL half was skipped.
"""

import glob
import os
import shutil
import tempfile
from dataclasses import dataclass, field

import psycopg
from pytest_postgresql.executors import PostgreSQLExecutor

from tests.http_servers import free_port

VARIABLE = "FRONTLINE_TEST_POSTGRES"
LOCAL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
OFF = "off"


@dataclass
class Server:
    url: str  # SQLAlchemy URL of the maintenance database, or OFF
    note: str  # one line for the run's summary
    cluster: PostgreSQLExecutor | None = None
    folder: str | None = field(default=None, repr=False)

    def stop(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def answers(url: str) -> bool:
    try:
        psycopg.connect(url.replace("+psycopg", ""), connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


def pg_ctl() -> str | None:
    """The machine's pg_ctl: on PATH, or where Debian and Ubuntu keep each version."""
    found = shutil.which("pg_ctl")
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                      key=lambda path: int(path.split("/")[-3]))
    return found or (versions[-1] if versions else None)


def find_or_start() -> Server:
    named = os.environ.get(VARIABLE)
    if named:
        return Server(named, "PostgreSQL half switched off (FRONTLINE_TEST_POSTGRES=off)"
                      if named == OFF else f"PostgreSQL half on {named}")
    if answers(LOCAL):
        return Server(LOCAL, f"PostgreSQL half on {LOCAL}")
    executable = pg_ctl()
    if executable is None:
        return Server(OFF, "PostgreSQL half skipped: no server at 127.0.0.1:5432 and no "
                           "PostgreSQL binaries (pg_ctl) to start one")
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        return Server(OFF, "PostgreSQL half skipped: no server at 127.0.0.1:5432, and "
                           "PostgreSQL will not start a cluster as root")
    return start_cluster(executable)


def start_cluster(executable: str) -> Server:
    folder = tempfile.mkdtemp(prefix="frontline-pg-")
    port = free_port()
    cluster = PostgreSQLExecutor(
        executable=executable, host="127.0.0.1", port=port, datadir=f"{folder}/data",
        unixsocketdir=folder, logfile=f"{folder}/log", startparams="-w", dbname="postgres",
        user="postgres",
        # A throw-away cluster: nothing it writes needs to survive a crash.
        postgres_options="-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                         "-c max_connections=300")
    try:
        cluster.start()
    except Exception as error:
        shutil.rmtree(folder, ignore_errors=True)
        return Server(OFF, f"PostgreSQL half skipped: a throw-away cluster from {executable} "
                           f"did not start ({type(error).__name__}: {error})")
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    return Server(url, f"PostgreSQL half on a throw-away cluster ({executable}, port {port})",
                  cluster, folder)
