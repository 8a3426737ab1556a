"""The fake-API skeleton the platform fakes share: real HTTP on loopback, recorded
calls and messages, waiting and injected failures."""

from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI, Request

from tests.fake_api import Failure, FakeApi

pytestmark = pytest.mark.http


@dataclass
class FakeChat(FakeApi):
    MESSAGES = "send"
    RECIPIENT = "to"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{method}")
        async def call(method: str, request: Request):
            if (failure := self.injected(method)) is not None:
                return failure
            self.record(method, await request.json())
            return {"ok": True}

        return app


def test_calls_and_messages_are_recorded_and_waited_for():
    fake = FakeChat()
    with fake.serve() as url:
        assert url.startswith("http://127.0.0.1:")
        httpx.post(f"{url}/send", json={"to": "alice", "text": "hello"})
        httpx.post(f"{url}/send", json={"to": 7, "text": "hi seven"})
        httpx.post(f"{url}/react", json={"emoji": "heart"})
        assert fake.texts_to("alice") == ["hello"] and fake.texts_to(7) == ["hi seven"]
        assert fake.sent("react") == [{"emoji": "heart"}]
        assert fake.wait_for_calls("send", 2)[1]["to"] == 7
        assert fake.wait_for(lambda: fake.texts_to("alice")) == ["hello"]
        with pytest.raises(AssertionError, match="a reply to bob: not within"):
            fake.wait_for(lambda: fake.texts_to("bob"), timeout=0.1, what="a reply to bob")


def test_failures_are_given_to_the_next_calls_of_a_method_only():
    fake = FakeChat()
    fake.fail("send", status=429, retry_after=3, times=2)
    fake.fail("send", status=503)
    with fake.serve() as url:
        assert httpx.post(f"{url}/react", json={}).status_code == 200  # another method
        answers = [httpx.post(f"{url}/send", json={"to": "a", "text": str(n)})
                   for n in range(4)]
    assert [a.status_code for a in answers] == [429, 429, 503, 200]
    assert answers[0].headers["Retry-After"] == "3"
    assert fake.texts_to("a") == ["3"]  # a refused call is not a sent message
    assert fake.failed == [("send", Failure(429, None, 3))] * 2 + [("send", Failure(503))]
