"""A local fake of the Feishu open API, as strict as Feishu where Frontline depends on
it: the tenant access token; message create with Feishu's uuid de-duplication (a uuid
seen within the hour returns the message it made and posts nothing; one over 50
characters is refused), its body limits (text 150 KB, card 30 KB) and its rate limits
(5 a second per user or chat, 50 a second and 1,000 a minute per app: HTTP 429, code
99991400); message
patch; the message-resource download (which needs im:message); file upload; the
app's scopes (application/v6/scopes) and bot info (bot/v3/info), with a scope that
can be withheld (`withhold`); the app's availability range
(application/v2/app/visibility: all staff, or `narrow` to some departments or people);
each person's ids as events carry them (`ids`: open_id per app, union_id across the
developer's apps, user_id only with its scope; `in_new_app`); card callbacks posted
to the bot and timed out at 3 s (`callback`); and the long connection's endpoint
discovery and WebSocket (frames in the SDK's own protobuf). Errors come as Feishu
gives them: a JSON `code` and `msg`, an invalid token with 99991663 (`fail`,
`expire_tokens`). The limits are Frontline's declared ones
(bot/platforms/feishu/limits.py), each citing Feishu's page."""

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response

from bot.platforms.feishu.limits import (
    BOT_ACTIVE,
    CARD_BODY_MAX,
    CARD_CALLBACK_DEADLINE,
    INVALID_APP_ID,
    NEEDED_SCOPES,
    PER_APP_PER_MINUTE,
    PER_APP_PER_SECOND,
    PER_CHAT_PER_SECOND,
    RANGE_PAGE_MAX,
    RANGE_SCOPE,
    RATE_LIMITED_CODE,
    SCOPE_GRANTED,
    TEXT_BODY_MAX,
    UUID_MAX,
    UUID_WINDOW_SECONDS,
    VISIBLE_TO_ALL,
)
from tests.fake_api import Failure, FakeApi

# https://open.feishu.cn/document/server-docs/im-v1/message/create (错误码):
FIELD_INVALID = 99992402  # "field validation failed" (a uuid over 50 characters)
TOO_LONG = 230025  # "消息体长度超出限制" (the request body over its limit)
# https://open.feishu.cn/document/server-docs/getting-started/server-error-codes:
NO_SCOPE = 99991672  # "Access denied. One of the following scopes is required: [...]"
# A person's ids (https://open.feishu.cn/document/home/user-identity-introduction/introduction):
# open_id (ou_…) per app, union_id (on_…) the same across the apps of one developer,
# user_id per tenant. Events carry all three in sender_id / operator_id / a mention's id
# (https://open.feishu.cn/document/server-docs/im-v1/message/events/receive), user_id
# only to an app granted 获取用户 user ID:
USER_ID_SCOPE = "contact:user.employee_id:readonly"

SECRET = "feishu-app-secret"
CREATE, PATCH, RESOURCE = "im.message.create", "im.message.patch", "im.message.resource"
UPLOAD = "im.file.create"


class CallbackTimedOut(AssertionError):
    """The bot did not answer a card callback within Feishu's 3 s: Feishu shows the
    person an error."""


@dataclass
class FakeFeishu(FakeApi):
    MESSAGES = CREATE
    RECIPIENT = "receive_id"

    tokens_issued: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    by_uuid: dict[str, tuple[str, float]] = field(default_factory=dict)  # -> (id, when)
    clock: Callable[[], float] = time.monotonic  # the fake's time: uuid hour, rate windows
    callback_deadline: float = CARD_CALLBACK_DEADLINE  # a test may shorten Feishu's 3 s
    recent: list[tuple[float, str]] = field(default_factory=list)  # (when, receive id)
    minute: list[float] = field(default_factory=list)  # the app's sends in the last minute
    granted: set[str] = field(  # the app's scopes
        default_factory=lambda: {*NEEDED_SCOPES, RANGE_SCOPE})
    unions: dict[str, str] = field(default_factory=dict)  # open_id -> union_id, if not derived
    range: dict = field(default_factory=lambda: {"is_visible_to_all": VISIBLE_TO_ALL})
    token_apps: dict[str, str] = field(default_factory=dict)  # tenant token -> its app_id
    activate_status: int = BOT_ACTIVE
    resources: dict[tuple[str, str], bytes] = field(default_factory=dict)
    frames_out: list[bytes] = field(default_factory=list)  # long connection: to push
    frames_in: list[bytes] = field(default_factory=list)  # long connection: answers
    connections: int = 0
    uploads: dict[str, dict] = field(default_factory=dict)  # file key -> what was uploaded

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

    def withhold(self, scope: str) -> None:
        """The tenant no longer grants the app `scope` (as if removed from 权限管理)."""
        self.granted.discard(scope)

    def ids(self, open_id: str) -> dict[str, str]:
        """The person's ids as an event carries them (see USER_ID_SCOPE)."""
        union_id = self.unions.get(open_id) or f"on_{open_id.removeprefix('ou_')}"
        ids = {"open_id": open_id, "union_id": union_id}
        if USER_ID_SCOPE in self.granted:
            ids["user_id"] = union_id.removeprefix("on_")[:8]
        return ids

    def in_new_app(self, open_id: str) -> str:
        """The person's open_id in the company's re-created app: new, while their
        union_id (the same developer's app) stays."""
        new = f"ou_app2_{open_id.removeprefix('ou_')}"
        self.unions[new] = self.ids(open_id)["union_id"]
        return new

    def narrow(self, departments: Sequence[str] = (), users: Sequence[str] = (),
               groups: Sequence[str] = ()) -> None:
        """The app available (可用范围 → 部分成员) only to these departments (od-…),
        people (open_ids) and user groups; none of them: available to nobody."""
        self.range = {"is_visible_to_all": 0, "departments": [{"id": d} for d in departments],
                      "users": [{"open_id": u} for u in users],
                      "groups": [{"id": g} for g in groups]}

    def callback(self, url: str, body: bytes, headers: dict) -> httpx.Response:
        """Posts a card callback to the bot as Feishu does, waiting at most 3 s for the
        answer (limits.CARD_CALLBACK_DEADLINE,
        https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-callback-communication)."""
        try:
            return httpx.post(url, content=body, headers=headers,
                              timeout=self.callback_deadline)
        except httpx.TimeoutException:
            raise CallbackTimedOut(f"no answer to the card callback within "
                                   f"{self.callback_deadline} s") from None

    def _refusal(self, body: dict, receive_id: str) -> Response | None:
        """What Feishu refuses in a message create (None: it is sent)."""
        uuid = body.get("uuid")
        if uuid is not None and len(uuid) > UUID_MAX:  # limits.UUID_MAX
            return JSONResponse({"code": FIELD_INVALID, "msg": "field validation failed: "
                                 f"uuid longer than {UUID_MAX}"}, status_code=400)
        size = len(json.dumps(body, ensure_ascii=False).encode())
        limit = TEXT_BODY_MAX if body.get("msg_type") == "text" else CARD_BODY_MAX
        if body.get("msg_type") in ("text", "interactive", "post") and size > limit:
            return JSONResponse({"code": TOO_LONG, "msg": f"message body {size} bytes, over "
                                 f"{limit}"}, status_code=400)
        now = self.clock()
        self.recent = [(at, who) for at, who in self.recent if at > now - 1]
        self.minute = [at for at in self.minute if at > now - 60]
        # 发送消息: 接口频率限制 "1000 次/分钟、50 次/秒"; 使用限制 5 QPS per user or chat
        if len(self.recent) >= PER_APP_PER_SECOND or len(self.minute) >= PER_APP_PER_MINUTE \
                or sum(who == receive_id for _, who in self.recent) >= PER_CHAT_PER_SECOND:
            return JSONResponse({"code": RATE_LIMITED_CODE,
                                 "msg": "request trigger frequency limit"}, status_code=429,
                                headers={"x-ogw-ratelimit-reset": "1"})
        self.recent.append((now, receive_id))
        self.minute.append(now)
        return None

    def _unscoped(self, *scopes: str) -> Response | None:
        """Feishu's refusal of a call that needs one of `scopes` the app lacks."""
        if any(scope in self.granted for scope in scopes):
            return None
        return JSONResponse({"code": NO_SCOPE, "msg": "Access denied. One of the following "
                             f"scopes is required: [{', '.join(scopes)}]."}, status_code=400)

    def text_of(self, params: dict) -> str:
        content = params["content"]
        if params["msg_type"] == "text":
            return content["text"]
        return "\n".join(e["text"]["content"] for e in content["elements"] if e["tag"] == "div")

    def failure_response(self, method: str, failure: Failure) -> Response:
        code = failure.error if failure.error is not None else 1
        return JSONResponse({"code": code, "msg": "request trigger frequency limit"
                             if code == 99991400 else "internal error"},
                            status_code=failure.status or 200,
                            headers={"x-ogw-ratelimit-reset": str(failure.retry_after)}
                            if failure.retry_after else {})

    def app(self) -> FastAPI:
        app = FastAPI()

        def token_error(request: Request) -> Response | None:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if token not in self.valid_tokens:
                return JSONResponse({"code": 99991663, "msg": "Invalid access token"},
                                    status_code=400)
            return None

        @app.post("/open-apis/auth/v3/tenant_access_token/internal")
        async def tenant_token(request: Request):
            body = await request.json()
            if body.get("app_secret") != SECRET or not body.get("app_id"):
                return {"code": 10014, "msg": "app secret invalid"}
            self.tokens_issued += 1
            token = f"t-{self.tokens_issued}"
            self.valid_tokens.add(token)
            self.token_apps[token] = body["app_id"]
            return {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": 7200}

        @app.post("/open-apis/im/v1/messages")
        async def create(receive_id_type: str, request: Request):
            if (error := token_error(request)) is not None:
                return error
            if (failure := self.injected(CREATE)) is not None:
                return failure
            if (refused := self._unscoped("im:message:send_as_bot", "im:message")) is not None:
                return refused
            body = await request.json()
            uuid = body.get("uuid")
            if (refused := self._refusal(body, body.get("receive_id", ""))) is not None:
                return refused
            first = self.by_uuid.get(uuid) if uuid else None
            if first and first[1] > self.clock() - UUID_WINDOW_SECONDS:
                # sent within the hour: the same message, not another
                return {"code": 0, "msg": "success", "data": {"message_id": first[0]}}
            message_id = f"om_{len(self.sent()) + 1}"
            if uuid:
                self.by_uuid[uuid] = (message_id, self.clock())
            self.record(CREATE, {"receive_id_type": receive_id_type,
                                 "receive_id": body["receive_id"], "msg_type": body["msg_type"],
                                 "content": json.loads(body["content"]), "uuid": uuid,
                                 "message_id": message_id})
            return {"code": 0, "msg": "success", "data": {
                "message_id": message_id, "msg_type": body["msg_type"]}}

        @app.patch("/open-apis/im/v1/messages/{message_id}")
        async def patch(message_id: str, request: Request):
            if (error := token_error(request)) is not None:
                return error
            if (failure := self.injected(PATCH)) is not None:
                return failure
            body = await request.json()
            self.record(PATCH, {"message_id": message_id, "content": json.loads(body["content"])})
            return {"code": 0, "msg": "success", "data": {}}

        @app.get("/open-apis/im/v1/messages/{message_id}/resources/{file_key}")
        def resource(message_id: str, file_key: str, type: str, request: Request):
            if (error := token_error(request)) is not None:
                return error
            if (refused := self._unscoped("im:message", "im:message:readonly")) is not None:
                return refused  # the resource needs a message read scope, not im:resource
            data = self.resources.get((message_id, file_key))
            if data is None or type != "file":
                return JSONResponse({"code": 234003, "msg": "File not in msg."}, status_code=400)
            self.record(RESOURCE, {"message_id": message_id, "file_key": file_key})
            return Response(data, media_type="application/octet-stream", headers={
                "Content-Disposition": f'attachment; filename="{file_key}.opus"'})

        @app.get("/open-apis/application/v6/scopes")
        def scopes(request: Request):
            if (error := token_error(request)) is not None:
                return error
            asked = sorted(set(NEEDED_SCOPES) | self.granted)
            return {"code": 0, "msg": "success", "data": {"scopes": [
                {"scope_name": name, "grant_status": SCOPE_GRANTED if name in self.granted
                 else 2} for name in asked]}}

        @app.get("/open-apis/application/v2/app/visibility")
        def visibility(request: Request, app_id: str = "", user_page_size: int = 0,
                       user_page_token: str = ""):
            """limits.RANGE_SCOPE: the available and excluded lists are always present
            (empty when none), people paged (user_page_size 0 or over 1000: 1000)."""
            if (error := token_error(request)) is not None:
                return error
            if (refused := self._unscoped(RANGE_SCOPE)) is not None:
                return refused
            token = request.headers["authorization"].removeprefix("Bearer ")
            if app_id != self.token_apps.get(token):  # another app's id (or none)
                return {"code": INVALID_APP_ID, "msg": "invalid app_id"}
            users = self.range.get("users", [])
            size = user_page_size if 0 < user_page_size <= RANGE_PAGE_MAX else RANGE_PAGE_MAX
            start = next((n for n, u in enumerate(users) if u["open_id"] == user_page_token), 0)
            page = users[start:start + size]
            rest = users[start + size:]
            data = {key: self.range.get(key, []) for key in (
                "departments", "invisible_departments", "invisible_users", "groups",
                "invisible_groups")}
            return {"code": 0, "msg": "success", "data": {
                **data, "users": page, "is_visible_to_all": self.range["is_visible_to_all"],
                "has_more_users": int(bool(rest)),
                "user_page_token": rest[0]["open_id"] if rest else ""}}

        @app.get("/open-apis/bot/v3/info")
        def bot_info(request: Request):
            if (error := token_error(request)) is not None:
                return error
            return {"code": 0, "msg": "ok", "bot": {
                "activate_status": self.activate_status, "app_name": "Frontline",
                "avatar_url": "", "ip_white_list": [], "open_id": "ou_bot"}}

        @app.post("/open-apis/im/v1/files")
        async def upload(request: Request):
            if (error := token_error(request)) is not None:
                return error
            if (failure := self.injected(UPLOAD)) is not None:
                return failure
            form = await request.form()
            file = form["file"]  # the SDK sends the bytes as a plain field, with no filename
            data = file.encode() if isinstance(file, str) else await file.read()
            file_key = f"file_v3_up{len(self.uploads) + 1}"
            self.uploads[file_key] = {"file_type": form["file_type"],
                                      "file_name": form["file_name"], "data": data}
            self.record(UPLOAD, {"file_key": file_key, "file_type": form["file_type"]})
            return {"code": 0, "msg": "success", "data": {"file_key": file_key}}

        @app.post("/callback/ws/endpoint")
        async def endpoint(request: Request):
            body = await request.json()
            if body.get("AppSecret") != SECRET:
                return {"code": 1000040343, "msg": "invalid app secret"}
            url = str(request.base_url).replace("http://", "ws://").rstrip("/")
            return {"code": 0, "msg": "ok", "data": {
                "URL": f"{url}/ws?device_id=d-1&service_id=7",
                "ClientConfig": {"ReconnectCount": 1, "ReconnectInterval": 1,
                                 "ReconnectNonce": 0, "PingInterval": 120}}}

        @app.websocket("/ws")
        async def long_connection(socket: WebSocket):
            await socket.accept()
            self.connections += 1
            try:
                while True:
                    while self.frames_out:
                        await socket.send_bytes(self.frames_out.pop(0))
                    try:
                        received = await asyncio.wait_for(socket.receive(), 0.05)
                    except TimeoutError:
                        continue
                    if received.get("type") == "websocket.disconnect":
                        break
                    if received.get("bytes"):
                        self.frames_in.append(received["bytes"])
            except WebSocketDisconnect:
                pass
            finally:
                self.connections -= 1

        return app
