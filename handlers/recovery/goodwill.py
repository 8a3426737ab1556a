"""Goodwill recovered (the compensation page's recovery yield): a compensation given
under a customer's reference is a recovery once the same customer later gives a
promoter score (NPS 9-10) or praise that is credited. It is known the moment that good
word arrives, so it is written then, in the transaction that keeps the word: the
compensation's `recovered_at` is the earliest such moment, and the month's yield is
counted from an index instead of searching each customer's later feedback. References
match whatever their case, as everywhere else a customer is recognised (the incident
limit, the repeat-customer signal, recovery cases).

A praise stays credited when HR revokes its points (`revoke E12` reverses the ledger
entry, not the praise): the customer did praise, so the recovery stays counted, as the
praise stays counted as a customer served and on the recognition pages."""

from sqlalchemy import Connection, Subquery, Update, bindparam, func, select, update

from handlers.scores import PROMOTER
from storage.models import Compensation, Feedback, Praise

_COMP, _FEEDBACK, _PRAISE = Compensation.__table__, Feedback.__table__, Praise.__table__


def promoter(kind: str, score: int | None) -> bool:
    """A response that recovers its customer's earlier goodwill."""
    return kind == "nps" and score is not None and score >= PROMOTER


def _marking(good: Subquery) -> Update:
    """Mark the goodwill given before each good word (`ref`, `at`) of `good`: a
    compensation keeps the earliest."""
    earliest = select(_COMP.c.id, func.min(good.c.at).label("at")).join(
        good, (func.lower(_COMP.c.customer_ref) == func.lower(good.c.ref))
        & (_COMP.c.created_at < good.c.at)).where(_COMP.c.customer_ref != "") \
        .group_by(_COMP.c.id).subquery("earliest")
    return update(_COMP).where(
        _COMP.c.id == earliest.c.id,
        _COMP.c.recovered_at.is_(None) | (_COMP.c.recovered_at > earliest.c.at),
    ).values(recovered_at=earliest.c.at)


# Built once: composing a statement costs more than running it.
_BY_FEEDBACK = _marking(select(
    _FEEDBACK.c.customer_ref.label("ref"), _FEEDBACK.c.received_at.label("at"))
    .where(_FEEDBACK.c.id.in_(bindparam("ids", expanding=True))).subquery("good"))
_BY_PRAISE = _marking(select(
    _PRAISE.c.customer_ref.label("ref"), _PRAISE.c.created_at.label("at"))
    .where(_PRAISE.c.id == bindparam("praise")).subquery("good"))


def by_promoters(connection: Connection, feedback_ids: list[int]) -> None:
    """The goodwill these promoters' customers were given before is recovered, in one
    statement however many."""
    if feedback_ids:
        connection.execute(_BY_FEEDBACK, {"ids": feedback_ids})


def by_praise(connection: Connection, praise_id: int) -> None:
    """The goodwill the credited praise's customer was given before is recovered."""
    connection.execute(_BY_PRAISE, {"praise": praise_id})
