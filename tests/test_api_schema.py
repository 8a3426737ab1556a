"""The JSON API against its own OpenAPI schema: schemathesis generates requests
from the schema (valid and invalid) and checks every answer: no server error, and
status codes, content types and bodies as documented."""

from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from bot.webui import auth
from handlers.directory import import_csv
from storage.engine import transaction
from tests.web_support import AIRPORT, app_for


@pytest.fixture
def api(chat, config):
    with transaction(chat.engine) as session:
        import_csv(session, config, AIRPORT)
        token = auth.create_token(session, "schema-check", datetime.now(UTC))
    chat.ok("alice", "comp 120 voucher #A1 parcel late")
    chat.ok("wang", "praise @alice She found my lost ring!")
    return schemathesis.openapi.from_asgi("/openapi.json", app_for(chat.engine, config)), token


def test_api_answers_as_documented(api):
    schema, token = api
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/ledger", "/api/v1/balances"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers(case):
            case.call_and_validate(headers=headers)

        answers()


def test_the_schema_documents_the_api_and_no_page():
    from bot.kit.config import Config
    from storage.engine import create_all, make_engine

    engine = make_engine("sqlite://")
    create_all(engine)
    paths = set(app_for(engine, Config()).openapi()["paths"])
    assert paths == {"/healthz", "/api/v1/ledger", "/api/v1/balances", "/api/v1/redemptions"}
