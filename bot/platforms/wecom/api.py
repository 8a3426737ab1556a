"""The WeCom server API, as much of it as Frontline uses.

The access token is fetched once and kept in the database for every worker until
shortly before `expires_in`; when WeCom says it is invalid or expired (it can be
revoked early) it is fetched again once and the call retried once. Group robots
allow 20 messages a minute each, counted in the database across workers. WeCom cuts
text beyond its byte limits (limits.py), so a long text goes as several messages,
split on line breaks (`pieces`). A person outside the app's visible range (可见范围)
cannot be sent anything: that is `Unreachable`, naming them.
"""

import hashlib
import time
from collections.abc import Callable

import httpx
from sqlalchemy import Engine

from bot.kit import pieces as cut
from bot.kit import shared_state
from bot.platforms.wecom import limits
from storage.errors import FrontlineError

# invalid, expired or revoked token: renew once, retry once
# https://developer.work.weixin.qq.com/document/path/90313 (40014, 42001, 40001)
TOKEN_ERRORS = {40001, 40014, 42001, 42009}
TOKEN_MARGIN = 300  # seconds before expires_in at which the token is renewed
ROBOT_LIMIT, ROBOT_WINDOW = limits.ROBOT_PER_MINUTE, limits.ROBOT_WINDOW_SECONDS


def pieces(text: str, limit: int) -> list[str]:
    """`text` as messages of at most `limit` UTF-8 bytes each, cut at line breaks (a
    line longer than a whole message is cut between characters), in order."""
    return [part.removesuffix("\n") for part in cut(text, lambda part: len(
        part.encode()) <= limit)]


class WeComError(FrontlineError):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeCom error {errcode}: {errmsg}")
        self.errcode = errcode


class RateLimited(FrontlineError):
    """Not sent: the limit is reached; the dispatcher retries later."""


class Unreachable(FrontlineError):
    """Not sent: the people are outside the app's visible range (可见范围), so WeCom
    delivers them nothing until an admin adds them (errcode 81013 / `invaliduser`,
    https://developer.work.weixin.qq.com/document/path/90236)."""

    def __init__(self, userids: list[str]) -> None:
        super().__init__(f"outside the WeCom app's visible range: {', '.join(userids)}")
        self.userids = userids


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

    def check_token(self) -> None:
        """Asks gettoken now, past any token kept: do the corp id and Secret work?"""
        self._fetch_token()

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
        """`text` to the person, in as many messages as WeCom's limit asks (it would
        cut the rest off)."""
        for piece in pieces(text, limits.TEXT_BYTES):
            self._send(userid, {"msgtype": "text", "text": {"content": piece}})

    def send_card(self, userid: str, card: dict) -> None:
        self._send(userid, {"msgtype": "template_card", "template_card": card})

    def _send(self, userid: str, message: dict) -> None:
        response = self._call("POST", "/cgi-bin/message/send", json={
            "touser": userid, "agentid": self.agent_id, **message})
        data = response.json() if response.status_code == 200 else {}
        invalid = [u for u in (data.get("invaliduser") or "").split("|") if u]
        if data.get("errcode") == limits.OUTSIDE_RANGE or userid in invalid:
            raise Unreachable(invalid or [userid])
        self._checked(response)

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

    # --- the app and its visible range -------------------------------------
    def get(self, path: str, **params) -> dict:
        return self._checked(self._call("GET", f"/cgi-bin/{path}", params=params))

    def agent(self) -> dict:
        """The app and its visible range: allow_userinfos, allow_partys, allow_tags
        (agent/get, https://developer.work.weixin.qq.com/document/path/90227)."""
        return self.get("agent/get", agentid=self.agent_id)

    def members(self, agent: dict | None = None) -> dict[str, str]:
        """userid -> name of everyone in the app's visible range: its people, its
        departments with their sub-departments, its tags' people and departments.
        department/simplelist lists a department and all below it
        (https://developer.work.weixin.qq.com/document/path/95350); user/simplelist a
        department's own members (path/90200); tag/get a tag's (path/90213)."""
        agent = agent if agent is not None else self.agent()
        found = {u["userid"]: u.get("name", u["userid"])
                 for u in agent.get("allow_userinfos", {}).get("user", [])}
        parties = list(agent.get("allow_partys", {}).get("partyid", []))
        for tag in agent.get("allow_tags", {}).get("tagid", []):
            tagged = self.get("tag/get", tagid=tag)
            found.update({u["userid"]: u.get("name", u["userid"])
                          for u in tagged.get("userlist", [])})
            parties.extend(tagged.get("partylist", []))
        departments: set[int] = set()
        for party in parties:
            listed = self.get("department/simplelist", id=party).get("department_id", [])
            departments.update(d["id"] for d in listed)
        for department in sorted(departments):
            for user in self.get("user/simplelist", department_id=department)["userlist"]:
                found[user["userid"]] = user.get("name", user["userid"])
        return found

    # --- group robots ----------------------------------------------------
    def robot_markdown(self, key: str, content: str) -> None:
        """A post through a group robot; a long one as several, each within the
        markdown limit WeCom cuts at. Each piece spends one of the robot's 20 a minute."""
        for piece in pieces(content, limits.ROBOT_MARKDOWN_BYTES):
            self._robot(key, {"msgtype": "markdown", "markdown": {"content": piece}})

    def _robot(self, key: str, body: dict) -> None:
        budget = "wecom:robot:" + hashlib.sha256(key.encode()).hexdigest()[:16]  # no secret
        if not shared_state.spend(self.engine, budget, ROBOT_LIMIT, ROBOT_WINDOW, self.clock()):
            raise RateLimited(f"group robot: {ROBOT_LIMIT} messages a minute")
        self._checked(self.client.post(f"{self.base_url}/cgi-bin/webhook/send",
                                       params={"key": key}, json=body))
