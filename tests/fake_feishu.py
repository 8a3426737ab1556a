"""A local fake of the Feishu open API: the tenant access token, message create (with
Feishu's uuid de-duplication: a uuid seen before returns the message it made and
posts nothing), message patch, the message-resource download, file upload, and the long
connection's endpoint discovery and WebSocket (frames in the SDK's own protobuf).
Errors come as Feishu gives them: a JSON `code` and `msg`, a rate limit with HTTP
429 and code 99991400, an invalid token with 99991663 (`fail`, `expire_tokens`)."""

import asyncio
import json
from dataclasses import dataclass, field

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response

from tests.fake_api import Failure, FakeApi

SECRET = "feishu-app-secret"
CREATE, PATCH, RESOURCE = "im.message.create", "im.message.patch", "im.message.resource"
UPLOAD = "im.file.create"


@dataclass
class FakeFeishu(FakeApi):
    MESSAGES = CREATE
    RECIPIENT = "receive_id"

    tokens_issued: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    by_uuid: dict[str, str] = field(default_factory=dict)  # uuid -> message id
    resources: dict[tuple[str, str], bytes] = field(default_factory=dict)
    frames_out: list[bytes] = field(default_factory=list)  # long connection: to push
    frames_in: list[bytes] = field(default_factory=list)  # long connection: answers
    connections: int = 0
    uploads: dict[str, dict] = field(default_factory=dict)  # file key -> what was uploaded

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

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
            return {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": 7200}

        @app.post("/open-apis/im/v1/messages")
        async def create(receive_id_type: str, request: Request):
            if (error := token_error(request)) is not None:
                return error
            if (failure := self.injected(CREATE)) is not None:
                return failure
            body = await request.json()
            uuid = body.get("uuid")
            if uuid and uuid in self.by_uuid:  # sent before: the same message, not another
                return {"code": 0, "msg": "success", "data": {"message_id": self.by_uuid[uuid]}}
            message_id = f"om_{len(self.sent()) + 1}"
            if uuid:
                self.by_uuid[uuid] = message_id
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
            data = self.resources.get((message_id, file_key))
            if data is None or type != "file":
                return JSONResponse({"code": 234003, "msg": "File not in msg."}, status_code=400)
            self.record(RESOURCE, {"message_id": message_id, "file_key": file_key})
            return Response(data, media_type="application/octet-stream", headers={
                "Content-Disposition": f'attachment; filename="{file_key}.opus"'})

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
