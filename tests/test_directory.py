import pytest
from sqlalchemy import event

from handlers.directory import DirectoryError, Imported, import_csv
from storage.engine import transaction
from storage.models import ChatIdentity, Employee, Team
from tests.support import count, employee, rows

GOOD = """handle,name,role,team,timezone,supervisor,locale,active,slack_id,telegram_id,wecom_id
mei,Mei Lin,supervisor,Airport Desk,Asia/Hong_Kong,,zh-Hant,yes,U01,,meilin
tom,Tom Wu,employee,Airport Desk,,mei,en,yes,U02,12345,
"""


def test_import_creates_teams_people_and_identities(engine, config):
    with transaction(engine) as session:
        assert import_csv(session, config, GOOD) == Imported(added=2)
    (team,) = rows(engine, Team)
    assert (team.name, team.timezone) == ("Airport Desk", "Asia/Hong_Kong")
    assert employee(engine, "tom").supervisor_id == employee(engine, "mei").id
    assert (employee(engine, "mei").locale, employee(engine, "tom").locale) == ("zh-Hant", "en")
    assert {(i.platform, i.platform_user_id) for i in rows(engine, ChatIdentity)} == {
        ("slack", "U01"), ("wecom", "meilin"), ("slack", "U02"), ("telegram", "12345")}


def test_import_updates_existing_people(engine, config):
    with transaction(engine) as session:
        import_csv(session, config, GOOD)
    with transaction(engine) as session:
        import_csv(session, config,
                   "handle,name,role,active,slack_id\ntom,Tom Wu,supervisor,no,U09\n")
    tom = employee(engine, "tom")
    assert (tom.role, tom.active, tom.supervisor_id) == ("supervisor", False, None)
    assert [i.platform_user_id for i in rows(engine, ChatIdentity, employee_id=tom.id)] == ["U09"]


def test_a_sync_writes_only_what_changed_and_says_so(engine, config):
    with transaction(engine) as session:
        import_csv(session, config, GOOD)
    writes = []

    def written(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith("SELECT"):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", written)
    try:
        with transaction(engine) as session:  # the nightly sync of an unchanged file
            assert import_csv(session, config, GOOD) == Imported(unchanged=2)
        assert not [w for w in writes if w.split()[0].upper() in ("INSERT", "UPDATE",
                                                                    "DELETE")]
        left = GOOD.replace("tom,Tom Wu,employee,Airport Desk,,mei,en,yes,U02,12345,",
                            "tom,Tom Wu,employee,Airport Desk,,mei,en,no,U02,12345,")
        with transaction(engine) as session:
            assert import_csv(session, config, left + "ann,Ann Ho,employee,Airport Desk,,mei,"
                              "en,yes,U03,,\n") == Imported(added=1, changed=1, deactivated=1,
                                                             unchanged=1)
    finally:
        event.remove(engine, "before_cursor_execute", written)
    assert employee(engine, "tom").active is False
    assert employee(engine, "ann").supervisor_id == employee(engine, "mei").id


def test_bad_rows_are_reported_by_line_and_nothing_is_written(engine, config):
    bad = GOOD + ("x y,Bad Handle,employee\n"
                  "ann,Ann,boss\n"
                  "ann2,Ann Two,employee,,Mars/Base\n"
                  "bo,Bo,employee,,,nobody\n"
                  "cy,Cy,employee,,,,,,U01\n"
                  "di,Di,employee,,,,zh-TW\n")
    with pytest.raises(DirectoryError) as error, transaction(engine) as session:
        import_csv(session, config, bad)
    problems = error.value.problems
    assert [p.split(":")[0] for p in problems] == ["line 4", "line 5", "line 6", "line 7",
                                                     "line 8", "line 9"]
    assert "role 'boss'" in problems[1] and "Mars/Base" in problems[2]
    assert problems[5] == "line 9: locale 'zh-TW' must be one of en, zh, zh-Hant"
    assert count(engine, Employee) == 0 and count(engine, Team) == 0


def test_missing_columns(engine, config):
    with pytest.raises(DirectoryError, match="missing columns"), transaction(engine) as session:
        import_csv(session, config, "handle,name\nx,y\n")
