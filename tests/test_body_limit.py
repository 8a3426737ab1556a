"""Request bodies are bounded before they are read: over real HTTP on 127.0.0.1 a
declared or streamed body over its route's limit is answered 413 while the client is
still sending, and the route never sees it."""

import socket
from urllib.parse import urlsplit

import anyio
import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient

from bot.app import praise_api
from bot.app.web import DEFAULT_BODY_LIMIT, create_app
from storage.models import Praise
from tests.http_servers import serve
from tests.support import count

pytestmark = pytest.mark.http

PRAISE_LIMIT = DEFAULT_BODY_LIMIT  # one praise letter as JSON


def _status(url: str, head: str, first: bytes) -> int:
    """Sends the head and part of a body, never the rest; returns the status."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(head.encode() + first)
        answer = b""
        while b"\r\n" not in answer:
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


@pytest.fixture
def api(org, config):
    with serve(create_app([praise_api.router(org, config, "secret")])) as url:
        yield url


def test_a_declared_300_mb_body_is_refused_before_it_is_sent(org, api):
    head = ("POST /api/praise HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {300 * 1024 * 1024}\r\n\r\n")
    assert _status(api, head, b"{" + b" " * 1000) == 413
    assert count(org, Praise) == 0


def test_a_chunked_body_is_cut_off_at_the_limit(org, api):
    head = ("POST /api/praise HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (16 * 1024, b" " * 16 * 1024)
    # A little over the limit, and the body never ends: only a refusal can answer it.
    assert _status(api, head, chunk * (PRAISE_LIMIT // (16 * 1024) + 1)) == 413
    assert count(org, Praise) == 0


async def _call(app, path: str, headers: list, chunks) -> tuple[list[dict], int]:
    """Runs one POST through the ASGI app; returns what it sent and the chunks it pulled."""
    pulled, sent = 0, []

    async def receive():
        nonlocal pulled
        pulled += 1
        body = next(chunks, None)
        return {"type": "http.request", "body": body or b"", "more_body": body is not None}

    async def send(message):
        sent.append(message)

    await app({"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
               "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
               "root_path": "", "query_string": b"", "headers": headers,
               "server": ("x", 80), "client": ("127.0.0.1", 1)}, receive, send)
    return sent, pulled


def endless(size: int = 4096):
    while True:  # a chunked body that never ends
        yield b"b" * size


def test_every_route_has_a_limit_and_a_body_within_it_passes():
    seen = []
    echo = APIRouter()

    @echo.post("/form")
    async def form(request: Request) -> dict:
        seen.append(len(await request.body()))
        return {"ok": True}

    @echo.post("/parsed")
    async def parsed(request: Request) -> dict:
        try:
            await request.form()
        except Exception:  # a route that turns any body error into its own answer
            return {"ok": False}
        seen.append("parsed")
        return {"ok": True}

    app = create_app([echo])
    client = TestClient(app)
    assert client.post("/form", content=b"a" * DEFAULT_BODY_LIMIT).status_code == 200
    assert client.post("/form", content=b"a" * (DEFAULT_BODY_LIMIT + 1)).status_code == 413
    assert client.post("/form", headers={"Content-Length": "12abc"}).status_code == 413
    form_type = [(b"content-type", b"application/x-www-form-urlencoded")]
    for path in ("/form", "/parsed"):
        sent, pulled = anyio.run(_call, app, path, form_type, endless())
        assert sent[0]["status"] == 413 and pulled == DEFAULT_BODY_LIMIT // 4096 + 1
    assert seen == [DEFAULT_BODY_LIMIT]


def test_the_early_refusals_speak_the_requests_language():
    echo = APIRouter()

    @echo.post("/form")
    async def form(request: Request) -> dict:
        return {"read": len(await request.body())}

    app = create_app([echo])
    client = TestClient(app)
    big = b"a" * (DEFAULT_BODY_LIMIT + 1)
    cases = [({}, "en", f"at most {DEFAULT_BODY_LIMIT} bytes", "NUL character"),
             ({"Accept-Language": "zh-CN,zh;q=0.9"}, "zh-Hans", "请求过大", "地址中含有 NUL"),
             ({"Accept-Language": "zh-TW"}, "zh-Hant", "請求過大", "網址中含有 NUL")]
    for headers, tag, too_large, nul in cases:
        refused = client.post("/form", content=big, headers=headers)
        assert refused.status_code == 413 and too_large in refused.text
        assert f"{DEFAULT_BODY_LIMIT}" in refused.text
        assert refused.headers["content-language"] == tag
        refused = client.get("/login/AB%00CD", headers=headers)
        assert refused.status_code == 400 and nul in refused.text
        assert refused.headers["content-language"] == tag
    # a streamed body cut off at the limit is refused in the same language
    sent, _pulled = anyio.run(_call, app, "/form", [(b"accept-language", b"zh-HK")], endless())
    assert sent[0]["status"] == 413 and "請求過大" in sent[1]["body"].decode()
