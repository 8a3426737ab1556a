"""Driving the web console in tests: sign in through a chat-issued link, as a browser."""

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from bot import webui
from bot.app.web import create_app
from tests.support import notifications

# A second store with its own supervisor, beside the demo organisation.
AIRPORT = """handle,name,role,team,timezone,supervisor,locale
zhou,Zhou Min,supervisor,Airport Kiosk,Asia/Shanghai,,en
mia,Mia Sun,employee,Airport Kiosk,,zhou,en
"""


def app_for(engine, config):
    return create_app([webui.router(engine, config)])


def sign_in_link(chat, handle: str) -> str:
    """What `login` in chat sends the person privately: the link's path."""
    chat.ok(handle, "login", now=datetime.now(UTC))
    url = notifications(chat.engine, handle)[-1].params["url"]
    return url.removeprefix(chat.config.web.public_url)


def browser(app, chat, handle: str) -> TestClient:
    """A client signed in as `handle` (https: the session cookie is Secure)."""
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    response = client.post(sign_in_link(chat, handle))
    assert response.status_code == 303, response.text
    return client


def csrf(client: TestClient) -> str:
    page = client.get("/ledger").text
    marker = 'name="csrf" value="'
    start = page.index(marker) + len(marker)
    return page[start:page.index('"', start)]
