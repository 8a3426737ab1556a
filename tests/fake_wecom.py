"""A local fake of the WeCom server API: the calls Frontline makes, with the answers
WeCom gives, including expired tokens and errors on demand (`fail`: WeCom answers
an error with HTTP 200 and its errcode).

As strict as WeCom where Frontline depends on it, with the limits declared in
bot/platforms/wecom/limits.py: text beyond the byte limits is cut off as WeCom cuts
it, a group robot takes 20 messages a minute, and the app reaches only the people in
its visible range (可见范围), which a test may shrink (`leave_range`). The
organisation's address book: departments, their members, and the app (agent/get).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bot.platforms.wecom import limits
from tests.fake_api import Failure, FakeApi

CORP_ID, SECRET = "ww_frontline_test", "app-secret"
AGENT_ID = 1000002
ROOT, STORE, HEAD_OFFICE = 1, 2, 3  # departments: the company, a store, head office
# userid -> the name WeCom shows (and puts after "@" when a member is picked)
PEOPLE = {"WangFang": "王芳", "AliceChen": "Alice Chen", "BobLi": "Bob Li",
          "LiLei": "李雷", "HanaXu": "Hana Xu", "Stranger": "陌生人"}


def cut(text: str, limit: int) -> str:
    """What WeCom keeps of a text longer than `limit` UTF-8 bytes: the first bytes."""
    return text.encode()[:limit].decode(errors="ignore")


@dataclass
class FakeWeCom(FakeApi):
    MESSAGES = "message/send"
    RECIPIENT = "touser"

    tokens_issued: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    media: dict[str, bytes] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic  # the robots' minute
    # the address book: department -> parent, userid -> (name, departments)
    departments: dict[int, int] = field(
        default_factory=lambda: {ROOT: 0, STORE: ROOT, HEAD_OFFICE: ROOT})
    members: dict[str, tuple[str, list[int]]] = field(
        default_factory=lambda: {u: (n, [STORE]) for u, n in PEOPLE.items()})
    # the app: its name, its visible range (people, departments, tags), stopped or not
    agent_name: str = "Frontline"
    allow_users: list[str] = field(default_factory=list)
    allow_parties: list[int] = field(default_factory=lambda: [STORE])
    tags: dict[int, list[str]] = field(default_factory=dict)  # tag -> its people
    allow_tags: list[int] = field(default_factory=list)
    robot_sent: dict[str, list[float]] = field(default_factory=dict)  # key -> when

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

    # --- the visible range ----------------------------------------------------
    def leave_range(self, userid: str) -> None:
        """The person moves to head office, which the app's visible range leaves out."""
        name, _departments = self.members[userid]
        self.members[userid] = (name, [HEAD_OFFICE])

    def _below(self, department: int) -> list[int]:
        """The department and every one below it."""
        found = [department]
        for child, parent in self.departments.items():
            if parent == department and child != department:
                found.extend(self._below(child))
        return found

    def visible_departments(self) -> set[int]:
        return {d for party in self.allow_parties for d in self._below(party)}

    def visible(self, userid: str) -> bool:
        """In the app's visible range: named, in a department of it (or below), or
        tagged with one of its tags (https://developer.work.weixin.qq.com/document/
        path/90227, allow_userinfos / allow_partys / allow_tags)."""
        if userid not in self.members:
            return False
        tagged = {u for tag in self.allow_tags for u in self.tags.get(tag, [])}
        return (userid in self.allow_users or userid in tagged
                or bool(set(self.members[userid][1]) & self.visible_departments()))

    # --- reading what was sent ------------------------------------------------
    def text_of(self, params: dict) -> str:
        if params["msgtype"] == "template_card":
            return params["template_card"]["sub_title_text"]
        return params["text"]["content"]

    def robot_posts(self) -> list[tuple[str, dict]]:
        """(webhook key, body) of every group-robot post."""
        return [(p["key"], p["body"]) for p in self.sent("webhook/send")]

    def failure_response(self, method: str, failure: Failure) -> Response:
        return JSONResponse({"errcode": failure.error if failure.error is not None else -1,
                             "errmsg": "system busy"}, status_code=failure.status or 200)

    def app(self) -> FastAPI:
        app = FastAPI()

        def token_error(access_token: str) -> dict | None:
            if access_token not in self.valid_tokens:
                return {"errcode": 42001, "errmsg": "access_token expired"}
            return None

        def no_privilege(what: str) -> dict:
            # https://developer.work.weixin.qq.com/document/path/90313 (60011)
            return {"errcode": limits.NO_PRIVILEGE,
                    "errmsg": f"no privilege to access/modify contact/party/agent: {what}"}

        @app.get("/cgi-bin/gettoken")
        def gettoken(corpid: str, corpsecret: str):
            # https://developer.work.weixin.qq.com/document/path/91039; errcodes 40013
            # (invalid corpid) and 40001 (invalid secret): document/path/90313
            if corpid != CORP_ID:
                return {"errcode": 40013, "errmsg": "invalid corpid"}
            if corpsecret != SECRET:
                return {"errcode": 40001, "errmsg": "invalid credential"}
            self.tokens_issued += 1
            token = f"token-{self.tokens_issued}"
            self.valid_tokens.add(token)
            return {"errcode": 0, "errmsg": "ok", "access_token": token,
                    "expires_in": limits.TOKEN_SECONDS}

        @app.post("/cgi-bin/message/send")
        async def send(access_token: str, request: Request):
            if error := token_error(access_token):
                return error
            if (failure := self.injected("message/send")) is not None:
                return failure
            params = await request.json()
            # only the app's visible range is reached: the rest are `invaliduser`, and
            # when nobody is left, errcode 81013 (document/path/90236, 返回示例)
            invalid = [u for u in params["touser"].split("|") if not self.visible(u)]
            if len(invalid) == len(params["touser"].split("|")):
                return {"errcode": limits.OUTSIDE_RANGE,
                        "errmsg": "user & party & tag all invalid",
                        "invaliduser": "|".join(invalid)}
            if params["msgtype"] == "text":  # "超过将截断": the person sees the first bytes
                params["text"]["content"] = cut(params["text"]["content"],
                                                limits.TEXT_BYTES)
            self.record("message/send", params)
            return {"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid),
                    "msgid": f"m{len(self.calls)}"}

        @app.post("/cgi-bin/message/update_template_card")
        async def update_card(access_token: str, request: Request):
            if error := token_error(access_token):
                return error
            if (failure := self.injected("message/update_template_card")) is not None:
                return failure
            self.record("message/update_template_card", await request.json())
            return {"errcode": 0, "errmsg": "ok"}

        @app.get("/cgi-bin/media/get")
        def media(access_token: str, media_id: str):
            if error := token_error(access_token):
                return error
            if (failure := self.injected("media/get")) is not None:
                return failure
            if media_id not in self.media:
                return {"errcode": 40007, "errmsg": "invalid media_id"}
            self.record("media/get", {"media_id": media_id})
            return Response(self.media[media_id], media_type="audio/amr")

        @app.get("/cgi-bin/agent/get")
        def agent(access_token: str, agentid: int):
            # https://developer.work.weixin.qq.com/document/path/90227: only the app
            # the token's Secret belongs to
            if error := token_error(access_token):
                return error
            if (failure := self.injected("agent/get")) is not None:
                return failure
            if agentid != AGENT_ID:
                return {"errcode": limits.INVALID_AGENT, "errmsg": "invalid agentid"}
            self.record("agent/get", {"agentid": agentid})
            return {"errcode": 0, "errmsg": "ok", "agentid": AGENT_ID, "name": self.agent_name,
                    "allow_userinfos": {"user": [{"userid": u} for u in self.allow_users]},
                    "allow_partys": {"partyid": list(self.allow_parties)},
                    "allow_tags": {"tagid": list(self.allow_tags)}, "close": 0}

        @app.get("/cgi-bin/department/simplelist")
        def departments(access_token: str, id: int):
            # the department and all below it (document/path/95350), within the range
            if error := token_error(access_token):
                return error
            if id not in self.visible_departments():
                return no_privilege(f"department {id}")
            self.record("department/simplelist", {"id": id})
            return {"errcode": 0, "errmsg": "ok", "department_id": [
                {"id": d, "parentid": self.departments[d], "order": 0}
                for d in self._below(id)]}

        @app.get("/cgi-bin/user/simplelist")
        def users(access_token: str, department_id: int):
            # a department's own members; the app must see the department (path/90200)
            if error := token_error(access_token):
                return error
            if department_id not in self.visible_departments():
                return no_privilege(f"department {department_id}")
            self.record("user/simplelist", {"department_id": department_id})
            return {"errcode": 0, "errmsg": "ok", "userlist": [
                {"userid": u, "name": name, "department": ds}
                for u, (name, ds) in self.members.items() if department_id in ds]}

        @app.get("/cgi-bin/tag/get")
        def tag(access_token: str, tagid: int):
            # https://developer.work.weixin.qq.com/document/path/90213
            if error := token_error(access_token):
                return error
            if tagid not in self.allow_tags:
                return no_privilege(f"tag {tagid}")
            return {"errcode": 0, "errmsg": "ok", "tagname": f"tag {tagid}", "userlist": [
                {"userid": u, "name": self.members[u][0]} for u in self.tags.get(tagid, [])],
                "partylist": []}

        @app.post("/cgi-bin/webhook/send")
        async def robot(key: str, request: Request):
            # a failure for this robot only, or for the next robot post
            for method in (f"webhook/send:{key}", "webhook/send"):
                if (failure := self.injected(method)) is not None:
                    return failure
            # "每个机器人发送的消息不能超过20条/分钟" (document/path/91770, confirmed); the
            # errcode 45009 beyond it is not confirmed in the documentation
            now = self.clock()
            recent = [t for t in self.robot_sent.get(key, [])
                      if now - t < limits.ROBOT_WINDOW_SECONDS]
            if len(recent) >= limits.ROBOT_PER_MINUTE:
                return {"errcode": limits.RATE_LIMITED, "errmsg": "api freq out of limit"}
            self.robot_sent[key] = [*recent, now]
            body = await request.json()
            # text cut at 2,048 bytes, markdown at 4,096 (document/path/91770)
            if body["msgtype"] == "text":
                body["text"]["content"] = cut(body["text"]["content"],
                                              limits.ROBOT_TEXT_BYTES)
            elif body["msgtype"] == "markdown":
                body["markdown"]["content"] = cut(body["markdown"]["content"],
                                                  limits.ROBOT_MARKDOWN_BYTES)
            self.record("webhook/send", {"key": key, "body": body})
            return {"errcode": 0, "errmsg": "ok"}

        return app
