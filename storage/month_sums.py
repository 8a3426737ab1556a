"""A month's sums per person, kept by the database beside the records: points earned
and praise (`pointsmonth`, from the ledger) and goodwill given (`spendmonth`, from
compensation, with the giver's team as of their latest that month), each under the
organisation's local month. HR's pages at 50,000 people
read a row a person, ranked by an index, instead of grouping the month's records.

Triggers keep them, so every writer (a command, an import, a hand-written INSERT) adds
in its own transaction, and no command sends a statement more. A record is filed under
its month by `monthstart`, the months' UTC starts in the organisation's timezone;
`keep_months` writes that calendar and rebuilds the sums whenever the timezone it was
written for is not the one configured (the first report after an upgrade, or after the
timezone changed). Compensation changes only by its status (waiting, then approved or
declined), which the update trigger follows; a self-authorised record never changes."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    DDL,
    Connection,
    case,
    delete,
    desc,
    event,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlmodel import Session, SQLModel

from storage.enums import CompensationStatus, LedgerReason
from storage.models import (
    Compensation,
    Employee,
    LedgerEntry,
    MonthStart,
    PointsMonth,
    SpendMonth,
)

AWARDS = (LedgerReason.PRAISE, LedgerReason.SUGGESTION, LedgerReason.MAJOR_ISSUE,
          LedgerReason.GOLDEN_EAR)  # points earned: recognition, not redemptions or fixes
FIRST_YEAR, LAST_YEAR = 1970, 2100
KEPT = "frontline_months_kept"  # the session's note that the sums are its timezone's
_AWARDS_SQL = ", ".join(f"'{reason}'" for reason in AWARDS)
_OWN, _APPROVED = CompensationStatus.SELF_AUTHORISED.value, CompensationStatus.APPROVED.value

SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS pointsmonth_on_entry AFTER INSERT ON ledgerentry
        WHEN NEW.amount > 0 AND NEW.reason IN ({_AWARDS_SQL}) BEGIN
        INSERT INTO pointsmonth (month, employee_id, points, praise)
        SELECT coalesce((SELECT month FROM monthstart WHERE starts_at <= NEW.created_at
                         ORDER BY starts_at DESC LIMIT 1), strftime('%Y-%m', NEW.created_at)),
               NEW.employee_id, NEW.amount, NEW.reason = 'praise' WHERE true
        ON CONFLICT (month, employee_id) DO UPDATE SET points = points + excluded.points,
            praise = praise + excluded.praise; END""",
    f"""CREATE TRIGGER IF NOT EXISTS spendmonth_on_insert AFTER INSERT ON compensation
        WHEN NEW.status IN ('{_OWN}', '{_APPROVED}') BEGIN
        INSERT INTO spendmonth (month, employee_id, currency, team_id, own_count, own_minor,
                                own_largest, approved_count, approved_minor, counted_minor)
        SELECT coalesce((SELECT month FROM monthstart WHERE starts_at <= NEW.created_at
                         ORDER BY starts_at DESC LIMIT 1), strftime('%Y-%m', NEW.created_at)),
               NEW.employee_id, NEW.currency,
               (SELECT team_id FROM employee WHERE id = NEW.employee_id),
               NEW.status = '{_OWN}',
               iif(NEW.status = '{_OWN}', NEW.amount_minor, 0),
               iif(NEW.status = '{_OWN}', NEW.amount_minor, 0), NEW.status = '{_APPROVED}',
               iif(NEW.status = '{_APPROVED}', NEW.amount_minor, 0), NEW.amount_minor WHERE true
        ON CONFLICT (month, employee_id, currency) DO UPDATE SET
            team_id = excluded.team_id,
            own_count = own_count + excluded.own_count,
            own_minor = own_minor + excluded.own_minor,
            own_largest = max(own_largest, excluded.own_largest),
            approved_count = approved_count + excluded.approved_count,
            approved_minor = approved_minor + excluded.approved_minor,
            counted_minor = counted_minor + excluded.counted_minor; END""",
    f"""CREATE TRIGGER IF NOT EXISTS spendmonth_on_decision AFTER UPDATE OF status
        ON compensation WHEN (OLD.status = '{_APPROVED}') != (NEW.status = '{_APPROVED}') BEGIN
        INSERT INTO spendmonth (month, employee_id, currency, team_id, own_count, own_minor,
                                own_largest, approved_count, approved_minor, counted_minor)
        SELECT coalesce((SELECT month FROM monthstart WHERE starts_at <= NEW.created_at
                         ORDER BY starts_at DESC LIMIT 1), strftime('%Y-%m', NEW.created_at)),
               NEW.employee_id, NEW.currency,
               (SELECT team_id FROM employee WHERE id = NEW.employee_id), 0, 0, 0,
               iif(NEW.status = '{_APPROVED}', 1, -1),
               iif(NEW.status = '{_APPROVED}', 1, -1) * NEW.amount_minor,
               iif(NEW.status = '{_APPROVED}', 1, -1) * NEW.amount_minor WHERE true
        ON CONFLICT (month, employee_id, currency) DO UPDATE SET
            team_id = excluded.team_id,
            approved_count = approved_count + excluded.approved_count,
            approved_minor = approved_minor + excluded.approved_minor,
            counted_minor = counted_minor + excluded.counted_minor; END""",
]
POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION frontline_month(at timestamptz) RETURNS text AS $$
       SELECT coalesce((SELECT month FROM monthstart WHERE starts_at <= at
                        ORDER BY starts_at DESC LIMIT 1), to_char(at AT TIME ZONE 'UTC', 'YYYY-MM'))
       $$ LANGUAGE sql STABLE""",
    """CREATE OR REPLACE FUNCTION pointsmonth_on_entry() RETURNS trigger AS $$ BEGIN
       INSERT INTO pointsmonth AS m (month, employee_id, points, praise)
       VALUES (frontline_month(NEW.created_at), NEW.employee_id, NEW.amount,
               (NEW.reason = 'praise')::int)
       ON CONFLICT (month, employee_id) DO UPDATE SET points = m.points + EXCLUDED.points,
           praise = m.praise + EXCLUDED.praise;
       RETURN NULL; END $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE TRIGGER pointsmonth_on_entry AFTER INSERT ON ledgerentry
        FOR EACH ROW WHEN (NEW.amount > 0 AND NEW.reason IN ({_AWARDS_SQL}))
        EXECUTE FUNCTION pointsmonth_on_entry()""",
    f"""CREATE OR REPLACE FUNCTION spendmonth_on_change() RETURNS trigger AS $$
       DECLARE
         own int := CASE WHEN TG_OP = 'INSERT' AND NEW.status = '{_OWN}' THEN 1 ELSE 0 END;
         approved int := (NEW.status = '{_APPROVED}')::int
           - CASE WHEN TG_OP = 'UPDATE' AND OLD.status = '{_APPROVED}' THEN 1 ELSE 0 END;
       BEGIN
       INSERT INTO spendmonth AS m (month, employee_id, currency, team_id, own_count,
                                    own_minor, own_largest, approved_count, approved_minor,
                                    counted_minor)
       VALUES (frontline_month(NEW.created_at), NEW.employee_id, NEW.currency,
               (SELECT team_id FROM employee WHERE id = NEW.employee_id), own,
               own * NEW.amount_minor, own * NEW.amount_minor, approved,
               approved * NEW.amount_minor, (own + approved) * NEW.amount_minor)
       ON CONFLICT (month, employee_id, currency) DO UPDATE SET
           team_id = EXCLUDED.team_id,
           own_count = m.own_count + EXCLUDED.own_count,
           own_minor = m.own_minor + EXCLUDED.own_minor,
           own_largest = greatest(m.own_largest, EXCLUDED.own_largest),
           approved_count = m.approved_count + EXCLUDED.approved_count,
           approved_minor = m.approved_minor + EXCLUDED.approved_minor,
           counted_minor = m.counted_minor + EXCLUDED.counted_minor;
       RETURN NULL; END $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE TRIGGER spendmonth_on_insert AFTER INSERT ON compensation
        FOR EACH ROW WHEN (NEW.status IN ('{_OWN}', '{_APPROVED}'))
        EXECUTE FUNCTION spendmonth_on_change()""",
    f"""CREATE OR REPLACE TRIGGER spendmonth_on_decision AFTER UPDATE OF status ON compensation
        FOR EACH ROW WHEN ((OLD.status = '{_APPROVED}') != (NEW.status = '{_APPROVED}'))
        EXECUTE FUNCTION spendmonth_on_change()""",
]
TRIGGERS = {"ledgerentry": ("pointsmonth_on_entry",),
            "compensation": ("spendmonth_on_insert", "spendmonth_on_decision")}


def statements(dialect: str) -> list[str]:
    return {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(dialect, [])


def _install(_target, connection: Connection, **_kw) -> None:
    for statement in statements(connection.dialect.name):
        connection.execute(DDL(statement.replace("%", "%%")))


event.listen(SQLModel.metadata, "after_create", _install)  # once every table is there


def pause(core: Connection) -> None:
    """Stop the triggers (a copy of a whole database brings its sums with it)."""
    for table, names in TRIGGERS.items():
        for name in names:
            core.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
                         if core.dialect.name == "postgresql" else
                         text(f"DROP TRIGGER IF EXISTS {name}"))


def resume(core: Connection) -> None:
    if core.dialect.name == "postgresql":
        for table, names in TRIGGERS.items():
            for name in names:
                core.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {name}"))
    else:
        _install(None, core)


def keep_months(session: Session, tz: ZoneInfo) -> None:
    """Make the sums those of `tz`'s months: one read when they are; otherwise write the
    calendar and rebuild them (writers wait meanwhile, so none adds twice or not at all)."""
    def kept() -> str | None:
        return session.execute(select(MonthStart.timezone).limit(1)).scalar()

    if session.info.get(KEPT) == tz.key:  # asked already in this transaction's session
        return
    if kept() == tz.key:
        session.info[KEPT] = tz.key
        return
    core = session.connection()
    if core.dialect.name == "postgresql":  # (SQLite's writers take turns already)
        # one rebuilder at a time, the triggers still reading the calendar, then the
        # records held still; the first may have rebuilt them meanwhile
        core.execute(text("LOCK TABLE monthstart IN EXCLUSIVE MODE"))
        if kept() == tz.key:
            return
        core.execute(text("LOCK TABLE ledgerentry, compensation IN SHARE MODE"))
    core.execute(delete(MonthStart))
    core.execute(insert(MonthStart), [
        {"starts_at": datetime(year, month, 1, tzinfo=tz).astimezone(UTC),
         "month": f"{year}-{month:02d}", "timezone": tz.key}
        for year in range(FIRST_YEAR, LAST_YEAR + 1) for month in range(1, 13)])
    rebuild(core)
    for table in ("monthstart", "pointsmonth", "spendmonth"):  # the planner sees them filled
        core.execute(text(f"ANALYZE {table}"))
    session.info[KEPT] = tz.key


def _month_of(at) -> object:
    return select(MonthStart.month).where(MonthStart.starts_at <= at) \
        .order_by(desc(MonthStart.starts_at)).limit(1).scalar_subquery()


def rebuild(core: Connection) -> None:
    """The sums again from every record, by the calendar as it stands."""
    core.execute(delete(PointsMonth))
    core.execute(delete(SpendMonth))
    month = _month_of(LedgerEntry.created_at).label("month")
    earned = select(month, LedgerEntry.employee_id, LedgerEntry.amount, LedgerEntry.reason) \
        .where(LedgerEntry.amount > 0, LedgerEntry.reason.in_(AWARDS)).subquery()
    core.execute(insert(PointsMonth).from_select(
        ["month", "employee_id", "points", "praise"],
        select(earned.c.month, earned.c.employee_id, func.sum(earned.c.amount),
               func.sum(case((earned.c.reason == LedgerReason.PRAISE, 1), else_=0)))
        .group_by(earned.c.month, earned.c.employee_id)))
    given = select(_month_of(Compensation.created_at).label("month"), Compensation.employee_id,
                   Compensation.currency, Employee.team_id, Compensation.status,
                   Compensation.amount_minor) \
        .join(Employee, Employee.id == Compensation.employee_id) \
        .where(Compensation.status.in_((_OWN, _APPROVED))).subquery()

    def summed(status: str | None, value=given.c.amount_minor, total=func.sum):
        return total(value if status is None else case((given.c.status == status, value),
                                                        else_=0))

    one = literal(1)
    core.execute(insert(SpendMonth).from_select(
        ["month", "employee_id", "currency", "team_id", "own_count", "own_minor",
         "own_largest", "approved_count", "approved_minor", "counted_minor"],
        select(given.c.month, given.c.employee_id, given.c.currency, given.c.team_id,
               summed(_OWN, one),
               summed(_OWN), summed(_OWN, total=func.max), summed(_APPROVED, one),
               summed(_APPROVED), summed(None))
        .group_by(given.c.month, given.c.employee_id, given.c.currency, given.c.team_id)))
