"""The WeCom server API, as much of it as Frontline uses.

The access token is fetched once and kept in the database for every worker until
shortly before `expires_in`; when WeCom says it is invalid or expired (it can be
revoked early) it is fetched again once and the call retried once. Group robots
allow 20 messages a minute each, counted in the database across workers.
"""

import hashlib
import time
from collections.abc import Callable

import httpx
from sqlalchemy import Engine

from bot.kit import shared_state
from storage.errors import FrontlineError

TOKEN_ERRORS = {40001, 40014, 42001, 42009}
TOKEN_MARGIN = 300  # seconds before expires_in at which the token is renewed
ROBOT_LIMIT, ROBOT_WINDOW = 20, 60.0


class WeComError(FrontlineError):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeCom error {errcode}: {errmsg}")
        self.errcode = errcode


class RateLimited(FrontlineError):
    """Not sent: the limit is reached; the dispatcher retries later."""


class WeComApi:
    def __init__(self, base_url: str, corp_id: str, secret: str, agent_id: int,
                 engine: Engine, client: httpx.Client | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.base_url = base_url.rstrip("/")
        self.corp_id, self.secret, self.agent_id = corp_id, secret, agent_id
        self.engine = engine  # where the token and the robots' budgets are shared
        self.client = client or httpx.Client(timeout=10)
        self.clock = clock  # seconds since the epoch: compared across workers
        self.token_name = f"wecom:{corp_id}:{agent_id}"

    # --- access token ----------------------------------------------------
    def token(self) -> str:
        return shared_state.access_token(self.engine, self.token_name, self._fetch_token)

    def _fetch_token(self) -> tuple[str, float]:
        data = self._checked(self.client.get(
            f"{self.base_url}/cgi-bin/gettoken",
            params={"corpid": self.corp_id, "corpsecret": self.secret}))
        return data["access_token"], int(data.get("expires_in", 7200)) - TOKEN_MARGIN

    def _forget_token(self, token: str) -> None:
        shared_state.forget_token(self.engine, self.token_name, token)

    @staticmethod
    def _checked(response: httpx.Response) -> dict:
        response.raise_for_status()
        data = response.json()
        if data.get("errcode", 0) != 0:
            raise WeComError(data["errcode"], data.get("errmsg", ""))
        return data

    def _call(self, method: str, path: str, params: dict | None = None,
              **kwargs) -> httpx.Response:
        """Call with the token; on a token error, renew once and retry once."""
        for attempt in (1, 2):
            token = self.token()
            response = self.client.request(method, f"{self.base_url}{path}",
                                           params={"access_token": token, **(params or {})},
                                           **kwargs)
            is_json = response.headers.get("content-type", "").startswith(
                ("application/json", "text/plain"))
            if is_json and response.json().get("errcode") in TOKEN_ERRORS and attempt == 1:
                self._forget_token(token)
                continue
            return response
        raise AssertionError("unreachable")

    # --- messages --------------------------------------------------------
    def send_text(self, userid: str, text: str) -> None:
        self._checked(self._call("POST", "/cgi-bin/message/send", json={
            "touser": userid, "msgtype": "text", "agentid": self.agent_id,
            "text": {"content": text}}))

    def send_card(self, userid: str, card: dict) -> None:
        self._checked(self._call("POST", "/cgi-bin/message/send", json={
            "touser": userid, "msgtype": "template_card", "agentid": self.agent_id,
            "template_card": card}))

    def update_card(self, userids: list[str], response_code: str, replace_name: str) -> None:
        """Replace a clicked card's buttons with a line saying what was decided."""
        self._checked(self._call("POST", "/cgi-bin/message/update_template_card", json={
            "userids": userids, "agentid": self.agent_id, "response_code": response_code,
            "button": {"replace_name": replace_name}}))

    def media(self, media_id: str) -> tuple[bytes, str]:
        response = self._call("GET", "/cgi-bin/media/get", params={"media_id": media_id})
        response.raise_for_status()
        content_type = response.headers.get("content-type", "application/octet-stream")
        if content_type.startswith(("application/json", "text/plain")):
            self._checked(response)  # an error answer
        return response.content, content_type

    # --- group robots ----------------------------------------------------
    def robot_markdown(self, key: str, content: str) -> None:
        budget = "wecom:robot:" + hashlib.sha256(key.encode()).hexdigest()[:16]  # no secret
        if not shared_state.spend(self.engine, budget, ROBOT_LIMIT, ROBOT_WINDOW, self.clock()):
            raise RateLimited(f"group robot: {ROBOT_LIMIT} messages a minute")
        self._checked(self.client.post(f"{self.base_url}/cgi-bin/webhook/send",
                                       params={"key": key},
                                       json={"msgtype": "markdown",
                                             "markdown": {"content": content}}))
