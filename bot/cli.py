"""The `frontline` command. Errors are one clear line and a non-zero exit.

What only `run` and `chat` need (the web app, the platforms, metrics) is imported when
they start, so that every other command starts in a fraction of the time."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import re
import socket
import stat
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import select

from bot.console import Console
from bot.demo import seed_if_empty
from bot.kit.config import Config, ConfigError, load_config
from bot.kit.outbox import ConsoleChannel, dispatch_pending
from bot.kit.platform import PLATFORMS
from handlers import feedback, linking, shifts, themes
from handlers.base import ACTIVE_BY_HANDLE
from handlers.calendar import local_midnight, month_bounds
from handlers.directory import HANDLE, DirectoryError, import_csv
from handlers.personal_data import PersonalDataError, erase, export_person
from handlers.policy import LOCALES
from handlers.reports import payroll
from points import export, ledger, redemptions
from points.history import LedgerFilter
from rituals import retention, schedule
from storage import migrate
from storage.engine import make_engine, refresh_statistics, transaction
from storage.errors import FrontlineError
from storage.models import ApiToken, Employee, RitualRun
from storage.month_sums import keep_months

if TYPE_CHECKING:
    from bot.runtime import Platforms


class CliError(FrontlineError):
    pass


def open_database(config: Config, *, upgrade_sqlite: bool = True) -> Engine:
    url = config.database_url()
    engine = make_engine(url)
    if url.startswith("sqlite") and upgrade_sqlite:
        _upgrade(engine)  # the embedded store keeps itself current
    elif not migrate.is_current(engine):
        raise CliError("the database schema is not current: run `frontline db upgrade`")
    with transaction(engine) as session:
        redemptions.sync_stock(session, {i.key: i.stock for i in config.catalog
                                         if i.stock is not None})
        keep_months(session, config.organisation.tz)  # after an upgrade, not at HR's first page
    return engine


def _start_console(config: Config, handle: str | None, *, with_rituals: bool = False) -> None:
    """The local console. `run` serves the web console beside it, or stops when its port
    is taken; `chat` at a terminal serves it too unless another Frontline already does;
    a scripted `chat` (no terminal) ends with its input, so it serves none."""
    from bot.app.background import Background
    from bot.app.serving import listen

    web = listen(config.web) if with_rituals else _listen_for_chat(config)
    engine = open_database(config)
    if seed_if_empty(engine, config, with_history=with_rituals) is not None:
        print("Empty directory: loaded the demo organisation"
              f"{' and its last six months' if with_rituals else ''} (try /people).")
    with transaction(engine) as session:
        if handle is None:
            first = session.exec(select(Employee).where(
                Employee.active, Employee.role == "employee").order_by(Employee.id)).first()
            handle = first.handle if first else ""
        elif session.exec(select(Employee).where(Employee.handle == handle.lower())).first() \
                is None:
            raise CliError(f"nobody called {handle!r} in the directory (see /people)")
    console = Console(engine, config, handle, web_console=web is not None or _interactive())
    if with_rituals:
        outcome = schedule.catch_up(engine, config, datetime.now(UTC))
        for target, period, status in outcome:
            if status == "done":
                print(f"ran the missed {target.ritual.name} for "
                      f"{target.team_name or 'all staff'} ({period})")
        missed = sum(status == "missed" for _target, _period, status in outcome)
        if missed:
            print(f"{missed} ritual runs missed while Frontline was stopped are recorded as "
                  "missed (see `frontline rituals list`)")
        background = Background(engine, config, [console.channel])
        background.start()
    if web is not None:
        _serve_web_console(engine, config, web)
    try:
        console.run()
    finally:
        if with_rituals:
            background.stop()


def _interactive() -> bool:
    return sys.stdin.isatty()


def _listen_for_chat(config: Config) -> socket.socket | None:
    from bot.app.serving import listen

    if not _interactive():
        return None
    sock = listen(config.web, taken_is_fine=True)
    if sock is None:
        print(f"Web console: port {config.web.port} is taken, presumably by a running "
              f"`frontline run`; sign-in links point to {config.web.public_url}")
    return sock


def _serve_web_console(engine: Engine, config: Config, sock: socket.socket) -> None:
    """Beside the local console, the web app with no platform on it: the web console
    (so `login` there gives a working link) and the praise webhook if configured."""
    from bot import runtime
    from bot.app import serving
    from bot.app.web import create_app

    wired = runtime.wire(engine, config)
    serving.serve(create_app(wired.routers, engine=engine, webhooks=wired.webhooks,
                             body_limits=wired.body_limits),
                  config.web, sock, background=True)
    print(f"Web console: {config.web.public_url} (send `login` here for a sign-in link)")


def cmd_run(config: Config, args: argparse.Namespace) -> None:
    workers = getattr(args, "workers", 1)
    if workers > 1 and config.database_url().startswith("sqlite"):
        raise CliError(f"--workers {workers}: SQLite serves one process only (one writer "
                       "at a time); use PostgreSQL ([database] url) for several workers")
    if not config.platforms.enabled():
        if workers > 1:
            raise CliError("--workers: no platform is enabled, and the local console is "
                           "one process")
        _start_console(config, None, with_rituals=True)
        return
    _serve_platforms(config, workers)


def _serve_platforms(config: Config, workers: int = 1) -> None:
    """Every enabled platform, the rituals and the outbox, in this process or in
    `workers` processes that share the port and the database (bot/app/workers.py)."""
    from bot import runtime
    from bot.app.serving import listen
    from bot.kit import metrics

    engine = open_database(config)
    wired = runtime.wire(engine, config)  # a missing secret stops the start here
    sock = listen(config.web)  # before any ritual runs: a port in use stops the start
    schedule.catch_up(engine, config, datetime.now(UTC))
    if workers == 1:
        _serve_worker(config, engine, wired, sock)
        return
    from bot.app.workers import supervise

    engine.dispose()  # each worker builds its own platforms and connections

    def worker(sock: socket.socket) -> None:
        own = make_engine(config.database_url())
        _serve_worker(config, own, runtime.wire(own, config), sock)

    with metrics.shared_by_workers():  # a scrape of any worker counts them all
        failed = supervise(workers, sock, worker, metrics.worker_ended)
    if failed:
        raise CliError("a worker could not start (see above)")


def _serve_worker(config: Config, engine: Engine, wired: Platforms,
                  sock: socket.socket) -> None:
    """One web app with every enabled platform, the rituals and the outbox."""
    from bot.app import serving
    from bot.app.background import Background
    from bot.app.web import create_app

    background = Background(engine, config, wired.channels)

    async def start_background() -> None:  # after the platforms, so the outbox can send
        background.start()

    async def stop_background() -> None:  # before the platforms, so the last send goes out
        # in a thread: a platform's channel may send through this very event loop
        await asyncio.to_thread(background.stop)

    app = create_app(wired.routers, [*wired.on_start, start_background],
                     [stop_background, *wired.on_stop], engine=engine,
                     platforms=wired.readiness, webhooks=wired.webhooks,
                     body_limits=wired.body_limits)
    serving.serve(app, config.web, sock)


def _read_text(path: str, encoding: str = "utf-8") -> str:
    """An input file's text; a file that cannot be read, or is not text, is one line."""
    try:
        with open(path, encoding=encoding) as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"{path}: {getattr(error, 'strerror', None) or error}") from None


def cmd_chat(config: Config, args: argparse.Namespace) -> None:
    _start_console(config, args.as_)


def cmd_directory_import(config: Config, args: argparse.Namespace) -> None:
    text = _read_text(args.file)
    engine = open_database(config)
    try:
        with transaction(engine) as session:
            done = import_csv(session, config, text)
    except DirectoryError as error:
        raise CliError(f"{args.file}: nothing imported:\n" + "\n".join(error.problems)) from None
    if done.added or done.changed:
        refresh_statistics(engine)
    print(f"{done.added} added, {done.changed} changed ({done.deactivated} deactivated), "
          f"{done.unchanged} unchanged")


def cmd_feedback_import(config: Config, args: argparse.Namespace) -> None:
    text = _read_text(args.file, "utf-8-sig")
    engine = open_database(config)
    try:
        with transaction(engine) as session:
            done = feedback.import_csv(session, text, datetime.now(UTC), config.themes,
                                       config)
    except feedback.ImportErrors as error:
        raise CliError(f"{args.file}: nothing imported:\n" + "\n".join(error.problems)) from None
    print(f"imported {done.added} responses ({done.duplicates} seen before)")


def cmd_themes_retag(config: Config, args: argparse.Namespace) -> None:
    engine = open_database(config)
    with transaction(engine) as session:
        changed = themes.retag(session, config)
    print("re-tagged with the current themes: "
          + ", ".join(f"{count} {table}" for table, count in changed.items()))


def cmd_directory_shifts(config: Config, args: argparse.Namespace) -> None:
    text = _read_text(args.file)
    try:
        with transaction(open_database(config)) as session:
            done = shifts.import_csv(session, config, text)
    except DirectoryError as error:
        raise CliError(f"{args.file}: nothing imported:\n" + "\n".join(error.problems)) from None
    print(f"{done} shifts imported")


def cmd_directory_link_code(config: Config, args: argparse.Namespace) -> None:
    engine = open_database(config)
    with transaction(engine) as session:
        person = session.exec(ACTIVE_BY_HANDLE, params={"handle": args.name.lower()}).first()
        if person is None:
            raise CliError(f"nobody called {args.name!r} in the directory")
        code = linking.issue_code(session, person, f"link:{args.platform}", datetime.now(UTC),
                                  timedelta(hours=args.hours))
    print(f"{code}\n{person.name} sends `link {code}` (or `绑定 {code}`) to the bot on "
          f"{args.platform} within {args.hours} h; the code works once.")
    if args.platform == "telegram" and (bot := config.platforms.telegram.bot_username):
        # A start parameter takes up to 64 of A-Z a-z 0-9 _ -: a code is 10 of A-Z 2-9.
        print(f"Or send {person.name} https://t.me/{bot}?start={code} : it opens the bot, "
              "and pressing Start links them.")


def cmd_directory_export(config: Config, args: argparse.Namespace) -> None:
    try:
        with transaction(open_database(config)) as session:
            found = export_person(session, args.name, datetime.now(UTC))
    except PersonalDataError as error:
        raise CliError(str(error)) from None
    text = json.dumps(found, ensure_ascii=False, indent=1) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return
    # personal data: readable by its owner only, whatever the umask
    with os.fdopen(os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                   "w", encoding="utf-8") as out:
        out.write(text)
    print(f"{args.out}: everything held about {args.name} "
          f"({sum(map(len, found['records'].values()))} records)")


def cmd_directory_erase(config: Config, args: argparse.Namespace) -> None:
    try:
        with transaction(open_database(config)) as session:
            done = erase(session, args.name, reason=args.reason, by=_operator(),
                         keep_free_text=config.privacy.keep_free_text_on_erase,
                         now=datetime.now(UTC))
    except PersonalDataError as error:
        raise CliError(str(error)) from None
    kept = "kept" if config.privacy.keep_free_text_on_erase else f"{done.blanked} blanked"
    print(f"erased {args.name}: now {done.pseudonym}; {done.renamed} records renamed, "
          f"{done.removed} removed (chat ids, sign-ins, notifications), their texts {kept}; "
          f"{done.entries} ledger entries kept, balance {done.balance}")


def _operator() -> str:
    """Who ran the erasure, for its record: the login of this process."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


MAX_LINK_HOURS = 720  # a link code is a secret: 30 days is long enough to reach anyone


def _hours(value: str) -> int:
    try:
        hours = int(value)
    except ValueError:
        hours = 0
    if not 1 <= hours <= MAX_LINK_HOURS:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a whole number of hours from 1 to {MAX_LINK_HOURS}")
    return hours


def _workers(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = 0
    if not 1 <= count <= 64:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of workers from 1 to 64")
    return count


FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)  # a day's week and month exist


def _date(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-23 "
                                         f"(from {FIRST_DAY} to {LAST_DAY})")
    return day


def _day(value: str) -> datetime:
    return local_midnight(_date(value), UTC)


def cmd_ledger_export(config: Config, args: argparse.Namespace) -> None:
    engine = open_database(config)
    with transaction(engine) as session:
        count = export.write(sys.stdout, export.rows(
            session, LedgerFilter(since=args.since, until=args.until)), args.format)
    print(f"exported {count} entries", file=sys.stderr)


def _month(value: str) -> str:
    try:  # the bounds the export asks for: 0000-01 has no start, 9999-12 no end
        fits = bool(re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", value)) and bool(
            month_bounds(value, UTC))
    except ValueError:
        fits = False
    if not fits:
        raise argparse.ArgumentTypeError(f"{value!r} is not a month like 2026-11")
    return value


def cmd_redemptions_export(config: Config, args: argparse.Namespace) -> None:
    engine = open_database(config)
    with transaction(engine) as session:
        count = payroll.write_csv(sys.stdout, payroll.rows(session, config, args.month))
    print(f"exported {count} fulfilled redemptions", file=sys.stderr)


def cmd_ledger_verify(config: Config, args: argparse.Namespace) -> None:
    engine = open_database(config)
    with transaction(engine) as session:
        problems = ledger.verify(session)
    for problem in problems:
        print(f"@{problem.handle} (employee {problem.employee_id}): balance {problem.balance} "
              f"but entries sum to {problem.ledger_sum}")
    if problems:
        raise CliError(f"ledger verify: {len(problems)} balance(s) disagree with the entries")
    print("ledger verify: every balance matches its entries")


def cmd_rituals_list(config: Config, args: argparse.Namespace) -> None:
    engine = open_database(config)
    now = datetime.now(UTC)
    with transaction(engine) as session:
        for target in schedule.targets(engine, config):
            upcoming = target.trigger(config).get_next_fire_time(None, now)
            where = target.team_name or "all staff"
            print(f"{target.ritual.name:<20} {where:<24} next "
                  f"{upcoming.astimezone(target.tz):%Y-%m-%d %H:%M %Z}")
            for run in session.exec(select(RitualRun).where(
                    RitualRun.ritual == target.ritual.name, RitualRun.team_id == target.team_id)
                    .order_by(RitualRun.scheduled_for.desc()).limit(3)).all():
                print(f"{'':<20} {'':<24} {run.period}: {run.status} {run.detail}")


def cmd_rituals_run(config: Config, args: argparse.Namespace) -> None:
    if args.name not in schedule.RITUALS:
        raise CliError(f"no ritual {args.name!r}; rituals: {', '.join(schedule.RITUALS)}")
    engine = open_database(config)
    chosen = [t for t in schedule.targets(engine, config, [args.name])
              if args.team is None or t.team_name == args.team]
    if not chosen:
        raise CliError(f"no team {args.team!r} (see `frontline rituals list`)"
                       if args.team is not None else
                       f"{args.name}: no team to run it for (see `frontline rituals list`)")
    now = datetime.now(UTC)
    for target in chosen:
        fired = now
        if args.date is not None:
            fired = schedule.scheduled_for(target, config, args.date) or datetime.combine(
                args.date, time(12), tzinfo=target.tz)
        detail = schedule.run_once(engine, config, target, fired, now)
        outcome = f"already ran for {target.period(fired)}" if detail is None else detail
        print(f"{args.name} {target.team_name or 'all staff'} {target.period(fired)}: {outcome}")
    dispatch_pending(engine, [ConsoleChannel()], policy=config)  # quiet hours kept


def cmd_prune(config: Config, args: argparse.Namespace) -> None:
    days = config.rituals.retention.days
    removed = retention.prune(open_database(config), days, datetime.now(UTC))
    print(f"removed what was past its use for more than {days} days:")
    for table, count in removed.items():
        print(f"  {table:<16} {count}")


def cmd_api_token_create(config: Config, args: argparse.Namespace) -> None:
    from bot.webui import auth

    engine = open_database(config)
    try:
        with transaction(engine) as session:
            token = auth.create_token(session, args.name, datetime.now(UTC))
    except IntegrityError:
        raise CliError(f"there is already a token called {args.name!r}") from None
    print(f"{token}\nGive this to {args.name} as `Authorization: Bearer <token>`; it is "
          "shown only now (Frontline keeps its hash) and reads the whole organisation's "
          "ledger, balances and redemptions.")


def cmd_api_token_revoke(config: Config, args: argparse.Namespace) -> None:
    from bot.webui import auth

    with transaction(open_database(config)) as session:
        if not auth.revoke_token(session, args.name, datetime.now(UTC)):
            raise CliError(f"no active token called {args.name!r}")
    print(f"revoked {args.name}")


def cmd_api_token_list(config: Config, args: argparse.Namespace) -> None:
    with transaction(open_database(config)) as session:
        for token in session.exec(select(ApiToken).order_by(ApiToken.name)).all():
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            print(f"{token.name}\tcreated {token.created_at:%Y-%m-%d}\t{state}")


def cmd_teams_package(config: Config, args: argparse.Namespace) -> None:
    from bot.platforms.teams import manifest  # only this command needs it

    app_id = config.platforms.teams.app_id
    if not app_id:
        raise ConfigError("platforms.teams.app_id: the bot's Microsoft App ID is required")
    if not GUID.fullmatch(app_id):  # Teams refuses a package whose id is not a GUID
        raise ConfigError(f"platforms.teams.app_id: {app_id!r} is not a GUID like "
                          f"{manifest.PLACEHOLDER_ID} (the bot's Microsoft App ID is one)")
    manifest.package(Path(args.out), app_id, args.host)
    print(f"{args.out}: upload it in Teams (Apps → Manage your apps → Upload an app).")


def cmd_doctor(config: Config, args: argparse.Namespace) -> None:
    from bot import doctor  # only this command asks the platforms' APIs

    engine = make_engine(config.database_url())
    try:
        found = doctor.examine(engine, config)
    finally:
        engine.dispose()
    print(doctor.report(found, args.lang or config.organisation.default_locale))
    if not all(finding.ok for finding in found):
        raise SystemExit(1)


def _upgrade(engine: Engine) -> None:
    """Migrate on the command's own engine (alembic would open a second one)."""
    with engine.begin() as connection:
        migrate.upgrade(engine.url.render_as_string(hide_password=False), connection=connection)


def cmd_db_upgrade(config: Config, args: argparse.Namespace) -> None:
    _upgrade(make_engine(config.database_url()))
    print("database is at the newest schema")


def cmd_db_backup(config: Config, args: argparse.Namespace) -> None:
    from bot.dbtools import backup

    print(_db_tool(backup.backup, config.database_url(), Path(args.file), args.force))


def cmd_db_restore(config: Config, args: argparse.Namespace) -> None:
    from bot.dbtools import backup

    print(_db_tool(backup.restore, config.database_url(), Path(args.file), args.force))


def cmd_db_move(config: Config, args: argparse.Namespace) -> None:
    from bot.dbtools import move

    def shown(table: str, done: int, total: int) -> None:  # a line a batch, long tables
        if done == total or total > move.BATCH:
            print(f"{table}: {done}/{total} rows", file=sys.stderr, flush=True)

    print(_db_tool(move.move, config.database_url(), args.to, shown))


def _db_tool(action, *args):
    from bot.dbtools import DbToolError

    try:
        return action(*args)
    except DbToolError as error:
        raise CliError(str(error)) from None


def _database_url(value: str) -> str:
    from bot.dbtools import DbToolError, move

    try:
        return move.target_url(value)
    except DbToolError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _handle(value: str) -> str:
    """A directory handle as the directory keeps it (an @ typed as in chat is dropped)."""
    handle = value.removeprefix("@").lower()
    if not HANDLE.fullmatch(handle):
        raise argparse.ArgumentTypeError(f"{value!r} is not a handle like alice (up to 64 "
                                         "letters, digits and . _ -)")
    return handle


def _token_name(value: str) -> str:
    if not TOKEN_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a name like bi-dashboard (up "
                                         "to 64 letters, digits and . _ -)")
    return value


def _name(value: str) -> str:
    """A name looked up as typed (a team, a token made before names were checked)."""
    if not value.strip() or len(value) > 200 or not value.isprintable():
        raise argparse.ArgumentTypeError(f"{value!r} is not a name (1-200 characters, "
                                         "none of them a control character)")
    return value


def _reason(value: str) -> str:
    if not value.strip() or len(value) > 500 or not value.isprintable():
        raise argparse.ArgumentTypeError(f"{value!r} is not a reason (1-500 characters, "
                                         "none of them a control character)")
    return value.strip()


def _input_file(value: str) -> str:
    """A file this process can read."""
    try:
        found = os.stat(value)
    except (OSError, ValueError) as error:
        raise argparse.ArgumentTypeError(f"{value!r}: {_why(error)}") from None
    if not stat.S_ISREG(found.st_mode):
        raise argparse.ArgumentTypeError(f"{value!r} is not a file")
    if not os.access(value, os.R_OK):
        raise argparse.ArgumentTypeError(f"{value!r}: permission denied")
    return value


def _output_file(value: str) -> str:
    """A file to write, in a folder that exists and this process can write to."""
    folder = os.path.dirname(value) or "."
    if not value or not value.isprintable() or value.endswith(os.sep) or os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a file name")
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"{value!r}: no such folder {folder!r}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{value!r}: cannot write in {folder!r}")
    return value


def _why(error: OSError | ValueError) -> str:
    return getattr(error, "strerror", None) or "not a path"


GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TOKEN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def _host(value: str) -> str:
    """A public DNS name as Teams takes it in validDomains: no scheme, port or path.
    `https://host/` says no more than the host, so it is taken as the host."""
    host, path = value.strip().lower(), ""
    if "://" in host:
        url = urlsplit(host)
        if url.scheme != "https":
            raise argparse.ArgumentTypeError(f"{value!r}: Teams reaches Frontline over "
                                             "https only; give the host name alone")
        host, path = url.netloc, url.path.strip("/") + url.query + url.fragment
    name, _, port = host.rpartition(":")
    if port.isdigit() and name:
        raise argparse.ArgumentTypeError(f"{value!r} has a port; Teams takes a domain: "
                                         "give the host alone (the port belongs in the "
                                         "bot's messaging endpoint)")
    host = _dns_name(host)
    if not host:
        raise argparse.ArgumentTypeError(f"{value!r} is not a host name like "
                                         "frontline.example.com")
    if path:
        raise argparse.ArgumentTypeError(f"{value!r} has a path; Frontline is served at "
                                         "the root of its host: give the host alone")
    return host


def _dns_name(host: str) -> str:
    """`host` in ASCII when it is a DNS name of two labels or more, not an IP address;
    else ""."""
    try:
        host = host.removesuffix(".").encode("idna").decode("ascii")
    except UnicodeError:
        return ""
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not labels[-1][:1].isalpha() \
            or not all(HOST_LABEL.fullmatch(label) for label in labels):
        return ""
    return host


LONGEST_WORD, LONGEST_LINE = 120, 500


def _printable(text: str, room: int = LONGEST_LINE) -> str:
    """One line of an error, safe to print: a control character typed (a newline, an
    escape sequence) is shown escaped, and a huge value is cut, so the line stays one
    readable line of at most `room` characters."""
    text = "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
    text = re.sub(rf"\S{{{LONGEST_WORD + 1},}}",
                  lambda long: f"{long[0][:LONGEST_WORD - 20]}…{long[0][-19:]}", text)
    return text if len(text) <= room else text[:room - 1] + "…"


class Parser(argparse.ArgumentParser):
    """A wrong argument is one line too (argparse would print the usage first); its
    subcommands' parsers are of this class as well."""

    def error(self, message: str) -> NoReturn:
        hint = f" (see `{self.prog} --help`)"  # kept whole: the line is cut before it
        self.exit(2, f"{_printable(f'{self.prog}: {message}', LONGEST_LINE - len(hint))}{hint}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="frontline", description=__doc__)
    parser.add_argument("--config", type=_input_file,
                        help="config file (default: $FRONTLINE_CONFIG, ./frontline.toml, "
                             "else built-in demo settings)")
    parser.add_argument("--traceback", action="store_true",
                        help="on an unexpected error, show where it happened (for a bug report)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run every configured platform (none: the local "
                              "console)")
    run.add_argument("--workers", type=_workers, default=1, metavar="N",
                     help="processes serving the same port (PostgreSQL only; default 1)")
    run.set_defaults(func=cmd_run)
    chat = commands.add_parser("chat", help="chat in the local console as someone")
    chat.add_argument("--as", dest="as_", required=True, metavar="NAME", type=_handle,
                      help="directory handle")
    chat.set_defaults(func=cmd_chat)
    directory = commands.add_parser(
        "directory", help="the staff directory: import a CSV, link chat accounts"
    ).add_subparsers(dest="action", required=True)
    importer = directory.add_parser("import", help="create/update staff from a CSV file")
    importer.add_argument("file", type=_input_file)
    importer.set_defaults(func=cmd_directory_import)
    shift_roster = directory.add_parser(
        "shifts", help="import a shift roster CSV (handle,date,start,end): quiet hours")
    shift_roster.add_argument("file", type=_input_file)
    shift_roster.set_defaults(func=cmd_directory_shifts)
    link_code = directory.add_parser(
        "link-code", help="a one-time code that links someone's chat account to them")
    link_code.add_argument("name", type=_handle, help="directory handle")
    link_code.add_argument("--platform", choices=tuple(PLATFORMS),
                           default="telegram")
    link_code.add_argument("--hours", type=_hours, default=24,
                           help=f"how long it is valid (1-{MAX_LINK_HOURS}, default 24)")
    link_code.set_defaults(func=cmd_directory_link_code)
    person_export = directory.add_parser(
        "export", help="everything held about a person, as JSON (a personal-data request)")
    person_export.add_argument("name", type=_handle, help="directory handle")
    person_export.add_argument("--out", type=_output_file, help="the file to write "
                               "(default: stdout)")
    person_export.set_defaults(func=cmd_directory_export)
    eraser = directory.add_parser(
        "erase", help="erase a person on request: a pseudonym for their name, handle and "
        "chat ids everywhere; their ledger entries stay")
    eraser.add_argument("name", type=_handle, help="directory handle")
    eraser.add_argument("--reason", type=_reason, required=True,
                        help="why, kept with the record of the erasure (not their name)")
    eraser.set_defaults(func=cmd_directory_erase)
    feedback_parser = commands.add_parser(
        "feedback", help="customer feedback: import a survey tool's CSV export"
    ).add_subparsers(dest="action", required=True)
    feedback_import = feedback_parser.add_parser(
        "import", help="scores and complaints from a CSV file (all rows or none)")
    feedback_import.add_argument("file", type=_input_file)
    feedback_import.set_defaults(func=cmd_feedback_import)
    themes_parser = commands.add_parser(
        "themes", help="the theme vocabulary: tag every record again after it changed"
    ).add_subparsers(dest="action", required=True)
    themes_parser.add_parser("retag", help="re-tag feedback, waivers, suggestions and pulse "
                             "comments with the configured themes").set_defaults(
        func=cmd_themes_retag)
    ledger_parser = commands.add_parser(
        "ledger", help="the points ledger: export entries, verify balances"
    ).add_subparsers(dest="action", required=True)
    exporter = ledger_parser.add_parser("export", help="write ledger entries to stdout")
    exporter.add_argument("--since", type=_day, help="first day (UTC), e.g. 2026-11-01")
    exporter.add_argument("--until", type=_day, help="day after the last (UTC)")
    exporter.add_argument("--format", choices=("csv", "json"), default="csv")
    exporter.set_defaults(func=cmd_ledger_export)
    ledger_parser.add_parser("verify", help="recompute balances; non-zero exit on a mismatch"
                             ).set_defaults(func=cmd_ledger_verify)
    payroll_parser = commands.add_parser(
        "redemptions", help="redemptions: the payroll export"
    ).add_subparsers(dest="action", required=True)
    payroll_export = payroll_parser.add_parser(
        "export", help="one CSV row per redemption fulfilled in a month (for payroll)")
    payroll_export.add_argument("--month", type=_month, required=True,
                                help="the organisation's local month, e.g. 2026-11")
    payroll_export.set_defaults(func=cmd_redemptions_export)
    rituals = commands.add_parser(
        "rituals", help="the scheduled rituals: list their runs, rehearse one"
    ).add_subparsers(dest="action", required=True)
    rituals.add_parser("list", help="each ritual, its next run per team, the last runs"
                       ).set_defaults(func=cmd_rituals_list)
    rehearse = rituals.add_parser("run", help="run a ritual now (still once per period)")
    rehearse.add_argument("name", choices=tuple(schedule.RITUALS))
    rehearse.add_argument("--team", type=_name, help="team name (default: every team)")
    rehearse.add_argument("--date", type=_date, help="the local day the run stands for")
    rehearse.set_defaults(func=cmd_rituals_run)
    commands.add_parser("prune", help="delete bookkeeping past its use now (receipts, done "
                        "inbox requests, delivered notifications, expired sign-ins)"
                        ).set_defaults(func=cmd_prune)
    tokens = commands.add_parser("api-token", help="tokens for the JSON API (integrations)"
                                 ).add_subparsers(dest="action", required=True)
    for action, func, text, name in (
            ("create", cmd_api_token_create, "a new token, printed once", _token_name),
            ("revoke", cmd_api_token_revoke, "stop a token working", _name)):
        parser_for = tokens.add_parser(action, help=text)
        parser_for.add_argument("name", type=name, help="the integration, e.g. bi-dashboard")
        parser_for.set_defaults(func=func)
    tokens.add_parser("list", help="every token and whether it works").set_defaults(
        func=cmd_api_token_list)
    teams = commands.add_parser("teams-package", help="the Teams app package (a .zip to upload)")
    teams.add_argument("--out", type=_output_file, default="frontline-teams.zip",
                       help="the .zip to write (default: frontline-teams.zip)")
    teams.add_argument("--host", type=_host, required=True,
                       help="Frontline's public host name, e.g. frontline.example.com")
    teams.set_defaults(func=cmd_teams_package)
    doctor = commands.add_parser("doctor", help="check the database, each enabled platform's "
                                 "credentials and permissions, and the public URL; says how "
                                 "to fix what is missing (non-zero exit)")
    doctor.add_argument("--lang", choices=LOCALES, help="the report's language (default: "
                        "organisation.default_locale)")
    doctor.set_defaults(func=cmd_doctor)
    db = commands.add_parser("db", help="the database: apply migrations, back up, restore, "
                             "move to another").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="apply database migrations").set_defaults(func=cmd_db_upgrade)
    db_backup = db.add_parser("backup", help="a checked copy of the database, while it runs")
    db_backup.add_argument("file", type=_output_file)
    db_backup.add_argument("--force", action="store_true", help="replace an existing file")
    db_backup.set_defaults(func=cmd_db_backup)
    db_restore = db.add_parser("restore", help="a backup into the (empty) database")
    db_restore.add_argument("file", type=_input_file)
    db_restore.add_argument("--force", action="store_true",
                            help="replace what the database holds")
    db_restore.set_defaults(func=cmd_db_restore)
    db_move = db.add_parser("move", help="copy every table to an empty database, and check it")
    db_move.add_argument("--to", type=_database_url, required=True, metavar="URL",
                         help="e.g. postgresql://frontline@db.example.com/frontline")
    db_move.set_defaults(func=cmd_db_move)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Refusals and what the machine refuses (a file, the disk, the database) are one
    line and exit 1; a wrong argument is argparse's one line and exit 2. Anything else
    is a bug: one line naming it and exit 70 (EX_SOFTWARE), its traceback with
    --traceback, so a script sees it and a person is not shown a screen of frames."""
    args = build_parser().parse_args(argv)
    try:
        args.func(load_config(args.config), args)
    except (CliError, ConfigError) as error:  # an import's problems: a line each
        return _fail(*str(error).split("\n"))
    except OperationalError as error:
        return _fail(f"cannot use the database: {' '.join(str(error.orig).split())}")
    except OSError as error:
        return _fail(f"{error.filename}: {error.strerror}" if error.filename and error.strerror
                     else " ".join(str(error).split()))
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if args.traceback:
            raise
        return _fail(f"unexpected {type(error).__name__}: {' '.join(str(error).split())} "
                     "(a bug; `frontline --traceback …` shows where)", code=70)
    return 0


def _fail(*lines: str, code: int = 1) -> int:
    for number, line in enumerate(lines):
        print(_printable(line if number else f"frontline: {line}"), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
