"""A local fake of DingTalk: the open API Frontline calls (token, robot send, card
create/update, the card callback URL's registration, a message's read status,
message-file download, a message's sessionWebhook, custom robots with signed
webhooks) and, for Stream mode, the gateway: the connection-open call and the
WebSocket that pushes CALLBACK frames and records the acks that come back; for HTTP
mode, card clicks posted to the registered callback URL.
Errors on demand (`fail`): the open API answers an HTTP status with
{code, message}; a custom robot answers HTTP 200 with its errcode.

As strict as DingTalk where Frontline depends on it (the figures are
bot/platforms/dingtalk/limits.py's, each citing its documentation): a message over
MESSAGE_BYTES is refused, each open API takes API_QPS calls a second (then 429
QpsLimitForApi), a custom robot 20 messages a minute (then errcode 410100), a
permission the app was not granted (`withhold`) is a 403 naming the scope, an unknown
robotCode is refused, and a card callback's ACK (or HTTP answer) must come within
CARD_ACK_SECONDS and carry only a card callback answer (`late_acks`, `bad_answers`)."""

import asyncio
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import ClassVar

import httpx
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response

from bot.platforms.dingtalk import limits
from bot.platforms.dingtalk.api import sign
from tests.fake_api import Failure, FakeApi

APP_KEY, APP_SECRET = "dingfrontlinetest", "app-secret-of-frontline"
ROBOT_TOKEN, ROBOT_SECRET = "robot-access-token", "SEC-robot-secret"
ROBOT_TOPIC, CARD_TOPIC = "/v1.0/im/bot/messages/get", "/v1.0/card/instances/callback"


@dataclass
class FakeDingTalk(FakeApi):
    MESSAGES = "oToMessages/batchSend"
    RECIPIENT = "userId"

    tokens_issued: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # downloadCode ->
    cards: dict[str, dict] = field(default_factory=dict)  # outTrackId -> its card params
    acks: list[dict] = field(default_factory=list)
    connections: int = 0
    socket: WebSocket | None = None
    loop: asyncio.AbstractEventLoop | None = None
    # strictness
    ack_deadline: float = limits.CARD_ACK_SECONDS
    withheld: set[str] = field(default_factory=set)  # scopes the app was not granted
    late_acks: list[str] = field(default_factory=list)  # callbacks acknowledged too late
    bad_answers: list[object] = field(default_factory=list)  # answers not a card answer's
    card_callbacks: dict[str, str] = field(default_factory=dict)  # route key -> its URL
    never_wrote: set[str] = field(default_factory=set)  # no robot chat with them yet
    _calls_at: dict[str, deque] = field(default_factory=dict)  # API -> call times, last 1 s
    _robot_posts: deque = field(default_factory=deque)  # custom robot posts, last minute
    # API -> a gate it waits behind until the test opens it (DingTalk slow to answer)
    held: dict[str, threading.Event] = field(default_factory=dict)

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

    def withhold(self, scope: str) -> None:
        """The app loses a permission (权限管理): calls that need it answer 403."""
        self.withheld.add(scope)

    # --- DingTalk's rules ---------------------------------------------------
    SCOPES: ClassVar[dict[str, str]] = {  # the permission each API needs (limits.py cites them)
        "oToMessages/batchSend": limits.SEND_SCOPE, "groupMessages/send": limits.SEND_SCOPE,
        "oToMessages/readStatus": limits.SEND_SCOPE,
        "card/createAndDeliver": limits.CARD_SCOPE, "card/update": limits.CARD_SCOPE,
        "card/callbacks/register": limits.CARD_SCOPE}

    def refusal(self, method: str, body: dict | None) -> Response | None:
        """What DingTalk answers instead, where a rule is broken: a missing permission,
        too many calls this second, an unknown robot, a message too long."""
        scope = self.SCOPES.get(method)
        if scope in self.withheld:
            return JSONResponse({"code": limits.PERMISSION_DENIED,
                                 "message": "没有调用该接口的权限", "requiredScopes": [scope]},
                                status_code=403)
        calls, now = self._calls_at.setdefault(method, deque()), time.monotonic()
        while calls and now - calls[0] >= 1.0:
            calls.popleft()
        if len(calls) >= limits.API_QPS:
            return JSONResponse({"code": limits.QPS_LIMIT, "message": "调用太频繁"},
                                status_code=429)
        calls.append(now)
        if body is None:
            return None
        if "robotCode" in body and body["robotCode"] != APP_KEY:  # the fake's wording
            return JSONResponse({"code": "invalidParameter.robotCode",
                                 "message": "机器人不存在"}, status_code=400)
        param = body.get("msgParam")
        if isinstance(param, str):
            message = json.loads(param)
            text = message.get("content") or message.get("text") or ""
            if not limits.fits(text):
                return JSONResponse({"code": "invalidParameter.msgParam",
                                     "message": "消息内容过长"}, status_code=400)
        return None

    def check_card_answer(self, callback: str, started: float, answer: object) -> None:
        """A card callback's answer: in time, and nothing but a card answer."""
        if time.monotonic() - started > self.ack_deadline:
            self.late_acks.append(callback)
        if not isinstance(answer, dict) or not set(answer) <= limits.CARD_ANSWER_KEYS or any(
                not isinstance(answer[k], dict) or not all(
                    isinstance(v, str) for v in (answer[k].get("cardParamMap") or {}).values())
                for k in set(answer) - {"cardUpdateOptions"}):
            self.bad_answers.append(answer)

    def text_of(self, params: dict) -> str:
        message = params["msgParam"]
        return message.get("content") or message.get("text") or ""

    def failure_response(self, method: str, failure: Failure) -> Response:
        if method in ("robot/send", "media/upload"):
            return JSONResponse({"errcode": failure.error or 410100, "errmsg": "send too fast"})
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
        return JSONResponse({"code": failure.error or "ServiceUnavailable",
                             "message": "busy", "requestid": "r1"},
                            status_code=failure.status or 500, headers=headers)

    # --- the Stream gateway -----------------------------------------------
    def push(self, topic: str, data: dict, message_id: str) -> None:
        """Send a CALLBACK frame down the open connection, as the gateway does."""
        frame = {"specVersion": "1.0", "type": "CALLBACK", "data": json.dumps(data),
                 "headers": {"appId": APP_KEY, "connectionId": f"conn-{self.connections}",
                             "contentType": "application/json", "messageId": message_id,
                             "time": str(int(time.time() * 1000)), "topic": topic}}
        self.wait_for(lambda: self.socket is not None, what="the Stream connection")
        asyncio.run_coroutine_threadsafe(self.socket.send_text(json.dumps(frame)),
                                         self.loop).result(timeout=5)

    def drop(self) -> None:
        """Close the connection from the gateway's side, as DingTalk may at any time."""
        socket = self.socket
        self.socket = None
        asyncio.run_coroutine_threadsafe(socket.close(), self.loop).result(timeout=5)

    def acks_of(self, message_id: str) -> list[dict]:
        return [a for a in self.acks if a["headers"].get("messageId") == message_id]

    def push_and_wait(self, topic: str, data: dict, message_id: str,
                      timeout: float = 10) -> dict:
        """Push a frame (a redelivery when `message_id` was pushed before) and wait for
        the ack it gets. A card callback's ack is held to the deadline and the shape."""
        before = len(self.acks_of(message_id))
        started = time.monotonic()
        self.push(topic, data, message_id)
        ack = self.wait_for(lambda: self.acks_of(message_id)[before:], timeout,
                            f"the ack of {message_id}")[0]
        if topic == CARD_TOPIC and ack.get("code") == 200:
            self.check_card_answer(message_id, started,
                                   json.loads(ack.get("data") or "{}").get("response"))
        return ack

    def post_card_click(self, route_key: str, data: dict) -> httpx.Response:
        """HTTP mode: a card click posted to the URL registered under its route key."""
        started = time.monotonic()
        response = httpx.post(self.card_callbacks[route_key], json=data, timeout=10)
        if response.status_code == 200:
            self.check_card_answer(data.get("outTrackId", ""), started, response.json())
        return response

    # --- the server -------------------------------------------------------
    def app(self) -> FastAPI:
        app = FastAPI()

        def token_error(request: Request) -> Response | None:
            if request.headers.get("x-acs-dingtalk-access-token") not in self.valid_tokens:
                return JSONResponse({"code": "InvalidAuthentication",
                                     "message": "不合法的access_token"}, status_code=401)
            return None

        async def api_call(method: str, request: Request) -> tuple[dict | None, Response | None]:
            if (error := token_error(request)) is not None:
                return None, error
            if (failure := self.injected(method)) is not None:
                return None, failure
            body = await request.json() if request.method != "GET" else None
            if (refused := self.refusal(method, body)) is not None:
                return None, refused
            if (gate := self.held.get(method)) is not None:
                await asyncio.to_thread(gate.wait, 10)
            return body, None

        @app.post("/v1.0/oauth2/accessToken")
        async def access_token(request: Request):
            body = await request.json()
            if (body.get("appKey"), body.get("appSecret")) != (APP_KEY, APP_SECRET):
                return JSONResponse({"code": "invalidClientIdOrSecret",
                                     "message": "无效的clientId或者clientSecret"}, status_code=400)
            self.tokens_issued += 1
            token = f"token-{self.tokens_issued}"
            self.valid_tokens.add(token)
            return {"accessToken": token, "expireIn": 7200}

        @app.post("/v1.0/gateway/connections/open")
        async def open_connection(request: Request):
            body = await request.json()
            if (body.get("clientId"), body.get("clientSecret")) != (APP_KEY, APP_SECRET):
                return JSONResponse({"code": "unauthorized"}, status_code=401)
            self.record("connections/open", body)
            endpoint = str(request.base_url).replace("http://", "ws://") + "gateway"
            return {"endpoint": endpoint, "ticket": f"ticket-{len(self.calls)}"}

        @app.websocket("/gateway")
        async def gateway(websocket: WebSocket, ticket: str = ""):
            if not ticket.startswith("ticket-"):
                await websocket.close(code=4001)
                return
            await websocket.accept()
            self.connections += 1
            self.loop, self.socket = asyncio.get_running_loop(), websocket
            try:
                while True:
                    self.acks.append(json.loads(await websocket.receive_text()))
            except WebSocketDisconnect:
                if self.socket is websocket:
                    self.socket = None

        @app.post("/v1.0/robot/oToMessages/batchSend")
        async def batch_send(request: Request):
            body, error = await api_call("oToMessages/batchSend", request)
            if error:
                return error
            key = f"q{len(self.calls)}"
            self.record("oToMessages/batchSend", {**body, "userId": body["userIds"][0],
                                                  "msgParam": json.loads(body["msgParam"]),
                                                  "processQueryKey": key})
            # An app robot reaches anyone in the organisation, written to it or not
            # https://open.dingtalk.com/document/orgapp/chatbots-send-one-on-one-chat-messages-in-batches
            return {"processQueryKey": key, "invalidStaffIdList": [],
                    "flowControlledStaffIdList": []}

        @app.get("/v1.0/robot/oToMessages/readStatus")
        async def read_status(request: Request, robotCode: str = "",
                              processQueryKey: str = ""):
            _body, error = await api_call("oToMessages/readStatus", request)
            if error:
                return error
            if robotCode != APP_KEY:
                return JSONResponse({"code": "invalidParameter.robotCode",
                                     "message": "机器人不存在"}, status_code=400)
            sent = {q.get("processQueryKey") for m, q in self.calls
                    if m == "oToMessages/batchSend"}
            self.record("oToMessages/readStatus", {"processQueryKey": processQueryKey})
            if processQueryKey not in sent:
                return JSONResponse({"code": "invalidParameter.processQueryKey",
                                     "message": "processQueryKey 不存在"}, status_code=400)
            return {"messageReadInfoList": []}

        @app.post("/v1.0/card/callbacks/register")
        async def register_callback(request: Request):
            body, error = await api_call("card/callbacks/register", request)
            if error:
                return error
            self.card_callbacks[body["callbackRouteKey"]] = body["callbackUrl"]
            self.record("card/callbacks/register", body)
            return {"success": True, "result": {"callbackUrl": body["callbackUrl"]}}

        @app.post("/v1.0/robot/groupMessages/send")
        async def group_send(request: Request):
            body, error = await api_call("groupMessages/send", request)
            if error:
                return error
            self.record("groupMessages/send", {**body, "msgParam": json.loads(body["msgParam"])})
            return {"processQueryKey": f"q{len(self.calls)}"}

        @app.post("/v1.0/card/instances/createAndDeliver")
        async def create_card(request: Request):
            body, error = await api_call("card/createAndDeliver", request)
            if error:
                return error
            if body.get("callbackType") == "HTTP" and \
                    body.get("callbackRouteKey") not in self.card_callbacks:
                return JSONResponse({"code": "param.callbackRouteKeyInvalid",
                                     "message": "callbackRouteKey not registered"},
                                    status_code=400)
            if body["outTrackId"] in self.cards:
                return JSONResponse({"code": "param.invalid",
                                     "message": "the outTrackId has a card already"},
                                    status_code=400)
            self.cards[body["outTrackId"]] = dict(body["cardData"]["cardParamMap"])
            self.record("card/createAndDeliver", body)
            kind, _, space = body["openSpaceId"].split("//", 1)[1].partition(".")
            delivered = {"spaceType": kind, "spaceId": space, "success": True,
                         "carrierId": f"carrier-{len(self.calls)}"}
            return {"success": True, "result": {"outTrackId": body["outTrackId"],
                                                "deliverResults": [delivered]}}

        @app.put("/v1.0/card/instances")
        async def update_card(request: Request):
            body, error = await api_call("card/update", request)
            if error:
                return error
            if body["outTrackId"] not in self.cards:
                return JSONResponse({"code": "cardNotExist", "message": "no card"},
                                    status_code=400)
            self.cards[body["outTrackId"]].update(body["cardData"]["cardParamMap"])
            self.record("card/update", body)
            return {"success": True, "result": True}

        @app.post("/v1.0/robot/messageFiles/download")
        async def download(request: Request):
            body, error = await api_call("messageFiles/download", request)
            if error:
                return error
            if body.get("downloadCode") not in self.files or body.get("robotCode") != APP_KEY:
                return JSONResponse({"code": "InvalidParameter", "message": "downloadCode"},
                                    status_code=400)
            self.record("messageFiles/download", body)
            return {"downloadUrl": f"{request.base_url}files/{body['downloadCode']}"}

        @app.get("/files/{code}")
        def file(code: str):
            data, content_type = self.files[code]
            return Response(data, media_type=content_type)

        @app.post("/media/upload")
        async def upload(request: Request, access_token: str = "", type: str = ""):
            if access_token not in self.valid_tokens:
                return {"errcode": 40014, "errmsg": "不合法的access_token"}
            if (failure := self.injected("media/upload")) is not None:
                return failure
            media, media_id = (await request.form())["media"], f"@media{len(self.calls)}"
            self.record("media/upload", {"type": type, "filename": media.filename,
                                         "content_type": media.content_type,
                                         "data": await media.read(), "media_id": media_id})
            return {"errcode": 0, "errmsg": "ok", "type": type, "media_id": media_id,
                    "created_at": int(time.time())}

        def too_long(body: dict) -> bool:
            part = body.get(body.get("msgtype", "text")) or {}
            return not limits.fits(part.get("content") or part.get("text") or "")

        @app.post("/robot/sendBySession")
        async def session_reply(session: str, request: Request):
            body = await request.json()
            if too_long(body):
                return {"errcode": limits.MESSAGE_TOO_LONG, "errmsg": "message too long"}
            self.record("sendBySession", {"session": session, **body})
            return {"errcode": 0, "errmsg": "ok"}

        @app.post("/robot/send")
        async def custom_robot(request: Request, access_token: str = "", timestamp: str = ""):
            given = request.query_params.get("sign", "")
            if access_token != ROBOT_TOKEN or not hmac.compare_digest(
                    given, sign(ROBOT_SECRET, timestamp)) or abs(
                    time.time() * 1000 - int(timestamp or 0)) > 3600_000:
                return {"errcode": 310000, "errmsg": "sign not match"}
            if (failure := self.injected("robot/send")) is not None:
                return failure
            body, now = await request.json(), time.monotonic()
            while self._robot_posts and now - self._robot_posts[0] >= limits.ROBOT_WINDOW:
                self._robot_posts.popleft()
            if len(self._robot_posts) >= limits.ROBOT_PER_MINUTE:
                return {"errcode": limits.ROBOT_THROTTLED[0], "errmsg": "send too fast"}
            if too_long(body):
                return {"errcode": limits.MESSAGE_TOO_LONG, "errmsg": "message too long"}
            self._robot_posts.append(now)
            self.record("robot/send", body)
            return {"errcode": 0, "errmsg": "ok"}

        return app
