"""Answers at response_urls go over kept-alive connections: a second answer reuses the
first one's connection instead of opening a new one."""

import pytest
from fastapi import FastAPI, Request

from bot.platforms.slack.respond import Answers
from tests.http_servers import serve

pytestmark = pytest.mark.http


def hooks() -> FastAPI:
    """A response_url endpoint that records each answer and the connection it came on."""
    app = FastAPI()
    app.state.seen = []

    @app.post("/respond/{token}")
    async def respond(token: str, request: Request):
        app.state.seen.append((token, request.client.port, await request.json()))
        return {"ok": True}

    return app


def test_answers_reuse_one_connection_and_carry_what_bolt_would():
    app = hooks()
    answers = Answers()
    try:
        with serve(app) as base:
            first = answers.at(f"{base}/respond/a")(text="hello", response_type="ephemeral")
            answers.at(f"{base}/respond/b")(text="again", blocks=[{"type": "divider"}],
                                            replace_original=False)
    finally:
        answers.close()
    assert first.status_code == 200
    (one, port_one, body_one), (two, port_two, body_two) = app.state.seen
    assert (one, two) == ("a", "b")
    assert port_one == port_two  # the same TCP connection
    assert body_one == {"text": "hello", "response_type": "ephemeral"}
    assert body_two == {"text": "again", "blocks": [{"type": "divider"}],
                        "replace_original": False}


def test_no_response_url_is_no_answer():
    assert Answers().at(None) is None and Answers().at("") is None
