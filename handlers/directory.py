"""The staff directory: teams, employees and their chat identities, imported from CSV.

Columns (header row required; only handle, name and role must be filled):
  handle      short login name, letters/digits/._- (used as @handle in chat)
  name        display name
  role        employee | supervisor | hr | admin
  team        team name (created if new)
  timezone    IANA timezone of a new team (default: the organisation's)
  supervisor  handle of the supervisor (in this file or already in the directory)
  locale      en | zh | zh-Hant (handlers.policy.LOCALES; default: the organisation's)
  active      yes/no (default yes); a person turning to no is marked as left
              (handlers/leavers.py: approvals moved, forms closed, the balance rule)
  start_date  first day of service, YYYY-MM-DD (optional; anniversaries are posted);
              a file without the column leaves the dates known as they are
  <platform>_id  the person's user id on each chat platform Frontline knows
              (slack_id, telegram_id, wecom_id, teams_id, dingtalk_id, feishu_id;
              Teams: the Entra object id; DingTalk: the userid; Feishu/Lark: the
              open_id): `Policy.chat_platforms`, so a new platform brings its column

The whole file is checked first; if any row is wrong, every problem is reported
with its line number and nothing is written.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, select

from handlers import limits
from handlers.leavers import depart
from handlers.policy import LOCALES, Policy
from storage.enums import Role
from storage.errors import FrontlineError
from storage.models import ChatIdentity, Employee, Team

PERSON_COLUMNS = ("handle", "name", "role", "team", "timezone", "supervisor", "locale",
                  "active", "start_date")


def platform_columns(config: Policy) -> dict[str, str]:
    """column -> platform: a `<platform>_id` column for each chat platform."""
    return {f"{platform}_id": platform for platform in config.chat_platforms()}
HANDLE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
ERASED = "erased-"  # the pseudonyms of erased people (handlers/personal_data.py)
TRUE, FALSE = {"", "yes", "y", "true", "1", "是"}, {"no", "n", "false", "0", "否"}


class DirectoryError(FrontlineError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _check_row(line: int, row: dict[str, str], known: set[str], seen_ids: dict,
               identities: dict[str, str]) -> list[str]:
    problems = []
    handle = row["handle"]
    if not HANDLE.match(handle):
        problems.append(f"line {line}: handle {handle!r} must be lowercase letters, digits, . _ -")
    elif handle.startswith(ERASED):
        problems.append(f"line {line}: handle {handle!r}: {ERASED}… names erased people")
    if not row["name"]:
        problems.append(f"line {line}: name is empty")
    if row["role"] not in set(Role):
        problems.append(f"line {line}: role {row['role']!r} must be one of {', '.join(Role)}")
    if row["locale"] and row["locale"] not in LOCALES:
        problems.append(f"line {line}: locale {row['locale']!r} must be one of "
                        f"{', '.join(LOCALES)}")
    if row["active"].lower() not in TRUE | FALSE:
        problems.append(f"line {line}: active {row['active']!r} must be yes or no")
    if row["start_date"] and _start_date(row["start_date"]) is None:
        problems.append(f"line {line}: start_date {row['start_date']!r} must be a date "
                        "like 2021-03-15, not in the future")
    if row["timezone"]:
        try:
            ZoneInfo(row["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"line {line}: unknown timezone {row['timezone']!r}")
    if row["supervisor"] and (row["supervisor"] == handle or row["supervisor"] not in known):
        problems.append(f"line {line}: supervisor {row['supervisor']!r} is not another person "
                        "in this file or the directory")
    for column, platform in identities.items():
        if row[column]:
            owner = seen_ids.setdefault((platform, row[column]), handle)
            if owner != handle:
                problems.append(f"line {line}: {column} {row[column]!r} already belongs to "
                                f"{owner}")
    return problems


def reading_locales(session: Session) -> tuple[str, ...]:
    """The languages the organisation's active people read, in `LOCALES` order: what a
    post to a shared chat carries unless the organisation names its own."""
    read = set(session.exec(select(Employee.locale).where(Employee.active).distinct()).all())
    return tuple(code for code in LOCALES if code in read) or LOCALES[:1]


def readers(session: Session, platform: str, locales: list[str]) -> list[tuple[str, str]]:
    """(user id on `platform`, locale) of the active people linked there who read one of
    `locales`."""
    if not locales:
        return []
    return [tuple(row) for row in session.exec(
        select(ChatIdentity.platform_user_id, Employee.locale)
        .join(Employee, Employee.id == ChatIdentity.employee_id)
        .where(ChatIdentity.platform == platform, Employee.active,
               Employee.locale.in_(locales))).all()]


def recognise(session: Session, platform: str, user_id: str, union_id: str) -> bool:
    """Keeps a person's id across the platform's apps (`union_id`) beside their user id
    there, which is per app. An unknown user id whose union_id is known is the same
    person in a re-created app: the identity that holds the union_id takes the new
    user id. A known user id takes the union_id (from another identity that held it:
    the one linked to the user id the person writes from is theirs). True when an
    identity holds both ids after it."""
    if not all(limits.storable(v) and len(v) <= limits.ID for v in (user_id, union_id)):
        return False
    mine = session.exec(select(ChatIdentity).where(
        ChatIdentity.platform == platform, ChatIdentity.platform_user_id == user_id)).first()
    holder = session.exec(select(ChatIdentity).where(
        ChatIdentity.platform == platform, ChatIdentity.union_id == union_id)).first()
    if mine is None:
        if holder is None:
            return False
        holder.platform_user_id = user_id
        return True
    if holder is not None and holder.id != mine.id:
        holder.union_id = None
        session.flush()  # released before the unique index sees it taken again
    mine.union_id = union_id
    return True


@dataclass(frozen=True)
class Imported:
    """What an import changed: people added, people changed (of whom deactivated), and
    people the file names exactly as the directory has them."""

    added: int = 0
    changed: int = 0
    deactivated: int = 0
    unchanged: int = 0


def _start_date(text: str) -> date | None:
    try:
        found = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None
    return found if found is not None and date(1900, 1, 1) <= found <= date.today() else None


def import_csv(session: Session, config: Policy, text: str,
               now: datetime | None = None) -> Imported:
    """Create or update everyone in the file, writing only what differs from the
    directory: a nightly sync of an unchanged file writes nothing. Someone turned
    inactive is marked as left, at `now`."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    identities = platform_columns(config)
    columns = (*PERSON_COLUMNS, *identities)
    missing = [name for name in ("handle", "name", "role") if name not in header]
    unknown = [name for name in header if name not in columns]
    if missing or unknown:
        raise DirectoryError([f"line 1: missing columns {missing}" if missing else
                              f"line 1: unknown columns {unknown}; expected {', '.join(columns)}"])
    reader.fieldnames = header
    rows = [(reader.line_num, {c: (raw.get(c) or "").strip() for c in columns})
            for raw in reader]
    for _line, row in rows:
        row["handle"] = row["handle"].lower()
        row["supervisor"] = row["supervisor"].lower()
    existing = {e.handle: e for e in session.exec(select(Employee)).all()}
    handle_of = {e.id: e.handle for e in existing.values()}
    linked = {(i.employee_id, i.platform): i for i in session.exec(select(ChatIdentity)).all()}
    known = set(existing) | {row["handle"] for _line, row in rows}
    seen_ids = {(i.platform, i.platform_user_id): handle_of[i.employee_id]
                for i in linked.values()}
    problems, handles = [], set()
    for line, row in rows:
        if row["handle"] in handles:
            problems.append(f"line {line}: handle {row['handle']!r} appears twice")
        handles.add(row["handle"])
        problems += _check_row(line, row, known, seen_ids, identities)
    if problems:
        raise DirectoryError(problems)
    return _write(session, config, [row for _line, row in rows], existing, linked, identities,
                  "start_date" in header, now or datetime.now(UTC))


def _write(session: Session, config: Policy, rows: list[dict[str, str]],
           existing: dict[str, Employee], linked: dict[tuple[int, str], ChatIdentity],
           identities: dict[str, str], dated: bool, now: datetime) -> Imported:
    """The rows, written as the differences from the directory, in a few batches."""
    teams = {t.name: t for t in session.exec(select(Team)).all()}
    for row in rows:
        if row["team"] and row["team"] not in teams:
            teams[row["team"]] = Team(name=row["team"],
                                      timezone=row["timezone"] or config.organisation.timezone)
            session.add(teams[row["team"]])
    session.flush()  # the new teams' ids, in one batch
    created, touched, leaving, new = set(), set(), [], []
    for row in rows:
        wanted = {"name": row["name"], "role": row["role"],
                  "team_id": teams[row["team"]].id if row["team"] else None,
                  "locale": row["locale"] or config.organisation.default_locale,
                  "active": row["active"].lower() in TRUE}
        if dated:
            wanted["start_date"] = _start_date(row["start_date"]) if row["start_date"] else None
        employee = existing.get(row["handle"])
        if employee is None:
            new.append({"handle": row["handle"], **wanted})
            created.add(row["handle"])
        elif any(getattr(employee, name) != value for name, value in wanted.items()):
            if employee.active and not wanted["active"]:
                leaving.append(employee)
            for name, value in wanted.items():
                setattr(employee, name, value)
            touched.add(employee.handle)
    ids = {handle: employee.id for handle, employee in existing.items()}
    if new:  # rows, not objects: building 50,000 of those took a third of the import
        ids.update((handle, person_id) for person_id, handle in session.execute(
            insert(Employee).returning(Employee.id, Employee.handle), new))
    moved = []  # (employee, platform, user id) to link once the old links are gone
    supervised = []  # a new person's supervisor, once everyone has an id
    for row in rows:
        handle, employee = row["handle"], existing.get(row["handle"])
        supervisor_id = ids[row["supervisor"]] if row["supervisor"] else None
        if employee is None:
            if supervisor_id is not None:
                supervised.append({"person": ids[handle], "supervisor": supervisor_id})
        elif employee.supervisor_id != supervisor_id:
            employee.supervisor_id = supervisor_id
            touched.add(handle)
        for column, platform in identities.items():
            current = linked.get((ids[handle], platform))
            if (current.platform_user_id if current else "") == row[column]:
                continue
            if current is not None:
                session.delete(current)
            if row[column]:
                moved.append((ids[handle], platform, row[column]))
            touched.add(handle)
    if supervised:
        session.connection().execute(update(Employee).where(
            Employee.id == bindparam("person")).values(supervisor_id=bindparam("supervisor")),
            supervised)
    session.flush()  # the old links gone before the new ones take their ids
    session.add_all(ChatIdentity(employee_id=employee_id, platform=platform,
                                 platform_user_id=user_id)
                    for employee_id, platform, user_id in moved)
    session.flush()
    for person in leaving:  # once their supervisor is the file's
        depart(session, config, person, now, None)
    changed = len(touched - created)
    return Imported(len(created), changed, len(leaving), len(rows) - len(created) - changed)
