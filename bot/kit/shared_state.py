"""State that every worker of one Frontline shares, kept in the database rather
than in a process's memory: rate budgets per platform limit, access tokens, and
the step-by-step forms people are filling in. Any worker can take the next request.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select, update

from storage.engine import transaction
from storage.models import AccessToken, FormState, RateBudget
from storage.rows import dialect_insert


def _now() -> datetime:
    return datetime.now(UTC)


# --- rate budgets ------------------------------------------------------------
def spend(engine: Engine, key: str, limit: int, window: float, at: float,
          cost: int = 1) -> bool:
    """Spend `cost` of `limit` sends allowed per `window` seconds (sliding) under `key`,
    at `at` (seconds since the epoch); False, spending nothing, when too few are left.
    The budget's row is locked while it is read and written, so two workers never
    both take the last send."""
    with transaction(engine) as session:
        session.execute(dialect_insert(engine.dialect.name)(RateBudget.__table__)
                        .values(key=key, spent=[])
                        .on_conflict_do_nothing(index_elements=["key"]))
        spent = session.execute(select(RateBudget.spent).where(RateBudget.key == key)
                                .with_for_update()).scalar_one()
        recent = [t for t in spent if at - t < window]
        if len(recent) + cost > limit:
            return False
        session.execute(update(RateBudget).where(RateBudget.key == key)
                        .values(spent=[*recent, *[at] * cost]))
        return True


# --- access tokens -----------------------------------------------------------
def access_token(engine: Engine, name: str, fetch: Callable[[], tuple[str, float]],
                 now: Callable[[], datetime] = _now) -> str:
    """The token stored under `name` while it is valid, else a new one from `fetch`
    (token, seconds it stays valid), stored for every worker."""
    with transaction(engine) as session:
        row = session.get(AccessToken, name)
        if row is not None and row.expires_at > now():
            return row.token
    token, valid_for = fetch()  # outside a transaction: an HTTP call
    values = dict(token=token, expires_at=now() + timedelta(seconds=valid_for))
    with transaction(engine) as session:
        session.execute(dialect_insert(engine.dialect.name)(AccessToken.__table__)
                        .values(name=name, **values)
                        .on_conflict_do_update(index_elements=["name"], set_=values))
    return token


def forget_token(engine: Engine, name: str, token: str) -> None:
    """The platform refused `token`: the next call fetches another (unless another
    worker has stored a newer one already)."""
    with transaction(engine) as session:
        session.execute(delete(AccessToken).where(AccessToken.name == name,
                                                  AccessToken.token == token))


# --- forms in progress -------------------------------------------------------
def open_form(engine: Engine, platform: str, conversation: str, form: str, locale: str,
              expires_at: datetime, by: str) -> None:
    """Start (or restart) a form in this conversation, as the platform's update `by`."""
    values = dict(form=form, locale=locale, answers={}, expires_at=expires_at, last_update=by)
    with transaction(engine) as session:
        session.execute(dialect_insert(engine.dialect.name)(FormState.__table__)
                        .values(platform=platform, conversation=conversation, **values)
                        .on_conflict_do_update(index_elements=["platform", "conversation"],
                                               set_=values))


def form_in(engine: Engine, platform: str, conversation: str,
            now: Callable[[], datetime] = _now) -> FormState | None:
    """The form open in this conversation, unless it has timed out."""
    with transaction(engine) as session:
        row = session.get(FormState, (platform, conversation))
        return row if row is not None and row.expires_at > now() else None


def save_answers(engine: Engine, platform: str, conversation: str, answers: dict,
                 expires_at: datetime, by: str, after: str | None) -> bool:
    """Keep `answers`, given by the update `by`, if the form is still as the update
    `after` left it; else (False) keep nothing: it has moved on since — `by` itself
    kept its answer already (a run again), another answer came, or the form ended."""
    with transaction(engine) as session:
        kept = session.execute(update(FormState).where(
            FormState.platform == platform, FormState.conversation == conversation,
            FormState.last_update.is_not_distinct_from(after))
            .values(answers=answers, expires_at=expires_at, last_update=by))
        return kept.rowcount == 1


def close_form(engine: Engine, platform: str, conversation: str) -> FormState | None:
    """End the form (done or cancelled); returns it to the one caller that ended it."""
    table = FormState.__table__
    with transaction(engine) as session:
        gone = session.execute(delete(table).where(
            table.c.platform == platform, table.c.conversation == conversation)
            .returning(*table.c)).first()
    return None if gone is None else FormState(**gone._mapping)


def timed_out_forms(engine: Engine, platform: str,
                    now: Callable[[], datetime] = _now) -> list[FormState]:
    """Remove and return the forms that timed out. Each is returned to exactly one
    caller, however many workers sweep at once, so its notice goes out once."""
    with transaction(engine) as session:
        table = FormState.__table__
        gone = session.execute(delete(table).where(
            table.c.platform == platform, table.c.expires_at <= now())
            .returning(table.c.conversation, table.c.form, table.c.locale)).all()
    return [FormState(platform=platform, conversation=c, form=f, locale=loc, answers={},
                      expires_at=now()) for c, f, loc in gone]
