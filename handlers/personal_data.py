"""Personal-data requests (PIPL, GDPR): everything held about a person, and its erasure.

Each runs in the caller's one transaction. The erasure replaces the person's name,
handle and chat ids by a pseudonym in every table, blanks the words they wrote unless
the organisation keeps them, and removes what reaches them (chat identities, sessions,
codes, notifications, half-filled forms, stored platform requests). Their ledger
entries stay: they point at the directory row by id, hold amounts, reason codes and
dates and no name, and the ledger is append-only, so every balance still verifies."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, or_, select, update
from sqlmodel import Session, SQLModel

from handlers import traces
from handlers.directory import ERASED
from points import ledger
from storage.errors import FrontlineError
from storage.models import (
    ChatIdentity,
    Employee,
    Erasure,
    FormState,
    InboxItem,
    LedgerEntry,
    OneTimeCode,
    Outbox,
    OutboxDelivery,
    SummaryItem,
    TeamsConversation,
    WebSession,
)
from storage.rows import connection

PSEUDONYM = ERASED  # + the directory row's id: stable, and says nothing of the person

# The free text a person wrote: table, column, the column naming its author (and, for
# praise, only what they typed themselves: a praise logged for them holds the customer's
# words); a test holds each name to a real column. The rest is kept whoever is erased:
# customers' words (feedback, recovery cases, praise logged by a supervisor or a tool),
# anonymous pulse comments (nobody's), customer references, and the ledger's notes
# (status words).
# Their name is taken out of all of it.
FREE_TEXT: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    ("compensation", "reason", "employee_id", {}),
    ("compensation", "decision_comment", "decided_by_id", {}),
    ("waiver", "done_instead", "employee_id", {}),
    ("waiver", "why", "employee_id", {}),
    ("waiver", "review_comment", "reviewer_id", {}),
    ("praise", "text", "logged_by_id", {"source": "submitted"}),
    ("praise", "decision_comment", "decided_by_id", {}),
    ("suggestion", "text", "employee_id", {}),
    ("suggestion", "decision_comment", "decided_by_id", {}),
    ("majorissue", "text", "employee_id", {}),
    ("majorissue", "decision_comment", "decided_by_id", {}),
    ("nomination", "reason", "nominator_id", {}),
    ("redemption", "decision_comment", "decided_by_id", {}),
    ("requestevent", "detail", "actor_id", {}),  # questions asked, answers given
    ("signaldismissal", "note", "dismissed_by_id", {}),
    ("councilupdate", "text", "author_id", {}),
    ("thanks", "why", "sender_id", {}),
)


class PersonalDataError(FrontlineError):
    """A request that cannot be met; nothing changed. One line for the operator."""


def find(session: Session, handle: str) -> Employee:
    person = session.scalars(select(Employee).where(Employee.handle == handle)).first()
    if person is None:
        raise PersonalDataError(f"nobody called {handle!r} in the directory (an erased "
                                f"person is known only by their pseudonym, {PSEUDONYM}N)")
    return person


def export_person(session: Session, handle: str, now: datetime) -> dict:
    """Everything held about the person: their directory row, balance and erasure if
    any, and each row of every table that points at them or names them, with the rows
    hanging from those (a notification's deliveries, a praise's recordings)."""
    person = find(session, handle)
    who = traces.identity(session, person)
    records: dict[str, list[dict]] = {}
    for table in traces.tables(Employee):
        pointing = [column == person.id for column in traces.employee_columns(table)]
        naming = traces.mentioning(table, who.needles)
        found = [condition for condition in (*pointing, naming) if condition is not None]
        parents = [key for key in (k for c in table.columns for k in c.foreign_keys)
                   if key.column.table.name in records]
        for key in parents:  # rows of a table exported above hang from it
            ids = [row[key.column.name] for row in records[key.column.table.name]]
            found.append(key.parent.in_(ids))
        if not found:
            continue
        rows = connection(session).execute(select(table).where(
            or_(*found)).order_by(*table.primary_key.columns)).mappings()
        if listed := [traces.plain(dict(row)) for row in rows]:
            records[table.name] = listed
    return {"exported_at": now.isoformat(), "person": traces.plain(person.model_dump()),
            "balance": ledger.balance(session, person.id), "records": records}


@dataclass(frozen=True)
class Erased:
    pseudonym: str
    removed: int  # rows deleted: chat identities, sessions, codes, notifications, …
    blanked: int  # free texts emptied
    renamed: int  # rows where their name, handle or a chat id was replaced
    entries: int  # ledger entries kept
    balance: int


def erase(session: Session, handle: str, *, reason: str, by: str, keep_free_text: bool,
          now: datetime) -> Erased:
    person = find(session, handle)
    done = session.scalars(select(Erasure).where(Erasure.employee_id == person.id)).first()
    if done is not None:
        raise PersonalDataError(f"{handle} was erased already, on {done.erased_at:%Y-%m-%d}; "
                                "nothing changed")
    who = traces.identity(session, person)
    words = traces.pattern(who.needles)
    if not reason.strip() or words.search(reason):
        raise PersonalDataError("the reason is kept with the record of the erasure, so it "
                                "must be given and must not name the person (their name, "
                                "handle or a chat id)")
    pseudonym = f"{PSEUDONYM}{person.id}"
    if session.scalars(select(Employee).where(Employee.handle == pseudonym)).first():
        raise PersonalDataError(f"the handle {pseudonym} is taken by someone else: rename "
                                "them first; nothing changed")
    blanked, texts = (0, frozenset()) if keep_free_text else _blank(session, person.id)
    removed = _unreach(session, person.id, who.chat_ids)
    renamed = _rename(session, who, pseudonym, texts)
    person.name = person.handle = pseudonym
    person.active = False
    session.add(person)
    session.add(Erasure(employee_id=person.id, pseudonym=pseudonym, reason=reason.strip(),
                        erased_by=by, kept_free_text=keep_free_text, erased_at=now))
    session.flush()
    entries = len(session.scalars(select(LedgerEntry.id).where(
        LedgerEntry.employee_id == person.id)).all())
    return Erased(pseudonym, removed, blanked, renamed, entries,
                  ledger.balance(session, person.id))


def _blank(session: Session, person_id: int) -> tuple[int, frozenset[str]]:
    """Empties the texts the person wrote; their count and the texts, so that copies
    quoted elsewhere (a notification, a stored reply) are emptied too."""
    core, count, texts = connection(session), 0, set()
    for name, column, author, only in FREE_TEXT:
        table = SQLModel.metadata.tables[name]
        where = and_(table.c[author] == person_id, table.c[column] != "",
                     *(table.c[key] == value for key, value in only.items()))
        texts.update(core.execute(select(table.c[column]).where(where)).scalars())
        count += core.execute(update(table).where(where).values({column: ""})).rowcount
    return count, frozenset(texts)


def _unreach(session: Session, person_id: int, chat_ids: tuple[str, ...]) -> int:
    """Removes whatever reaches the person or holds their words in transit."""
    core = connection(session)
    mine = select(Outbox.id).where(Outbox.employee_id == person_id)
    statements = [
        delete(OutboxDelivery).where(OutboxDelivery.outbox_id.in_(mine)),
        delete(Outbox).where(Outbox.employee_id == person_id),
        delete(SummaryItem).where(SummaryItem.employee_id == person_id),  # a summary to come
        delete(ChatIdentity).where(ChatIdentity.employee_id == person_id),
        delete(OneTimeCode).where(OneTimeCode.employee_id == person_id),
        delete(WebSession).where(WebSession.employee_id == person_id)]
    if chat_ids:
        statements += [
            delete(TeamsConversation).where(TeamsConversation.aad_object_id.in_(chat_ids)),
            delete(FormState).where(or_(*(FormState.conversation.endswith(f":{chat}")
                                          for chat in chat_ids))),
            # a platform's request stored as it came: who sent it, what they wrote
            delete(InboxItem).where(traces.mentioning(InboxItem.__table__, chat_ids))]
    return sum(core.execute(statement).rowcount for statement in statements)


def _rename(session: Session, who: traces.Identity, pseudonym: str,
            blanked: frozenset[str]) -> int:
    """Replaces the person's name, handle and chat ids by the pseudonym in every text of
    every table but their own directory row (the caller's), the record of erasures, and
    the ledger (append-only, and it names nobody: amounts, reason codes, source keys,
    status words); a string that is one of their blanked texts is emptied."""
    core, count, words = connection(session), 0, traces.pattern(who.needles)
    for table in traces.tables(Employee, Erasure, LedgerEntry):
        columns = [column.name for column in traces.text_columns(table)]
        for row in traces.rows_mentioning(session, table, (*who.needles, *blanked)):
            changed = {name: new for name in columns if (new := traces.scrub(
                row[name], words, pseudonym, blanked)) != row[name]}
            if changed:
                count += core.execute(update(table).where(
                    *traces.primary_key(table, row)).values(changed)).rowcount
    return count
