"""What the bench scripts share: the empty databases they measure on, and `--smoke`."""

import argparse
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def fresh_store(store: str, postgres: str = POSTGRES) -> Iterator[str]:
    """The URL of a new, empty database: a file in a temporary folder for "sqlite", a
    database on the server `postgres` reaches for "postgresql"; removed afterwards."""
    if store == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    name = f"frontline_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def parse_args(parser: argparse.ArgumentParser, smoke: str) -> argparse.Namespace:
    """The command line, with `--smoke`: the size arguments in `smoke` (sizes that run in
    seconds) override those given, to check that the script runs and prints its table."""
    parser.add_argument("--smoke", action="store_true", help=f"run at {smoke}")
    args = parser.parse_args()
    # The smoke sizes parsed after what was typed: argparse keeps an option's last value.
    return parser.parse_args([*sys.argv[1:], *smoke.split()]) if args.smoke else args
