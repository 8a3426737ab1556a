"""A local fake of the Slack Web API (the methods Frontline calls), of Socket Mode,
of the response_url endpoints and of the external file upload (the upload URL
files.getUploadURLExternal hands out points back here), recording every call;
answers 429 with Retry-After or 5xx on demand (`fail`; "upload" for the upload
URL)."""

import json
from dataclasses import dataclass, field

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, Response

from tests.fake_api import Arrivals, Failure, FakeApi

BOT_TOKEN, SIGNING_SECRET = "xoxb-test-token", "signing-secret-for-tests"
APP_TOKEN = "xapp-test-token"  # Socket Mode


@dataclass
class FakeSlack(FakeApi):
    MESSAGES = "chat.postMessage"
    RECIPIENT = "channel"

    responses: list[dict] = field(default_factory=list)  # posted to response_url
    # (each is also a call "respond", with the response_url's last part as its "token")
    next_ts: int = 1000
    envelopes: list[dict] = field(default_factory=list)  # Socket Mode: to push to the app
    arrivals: Arrivals = field(default_factory=Arrivals, repr=False)
    socket_acks: list[dict] = field(default_factory=list)  # what the app acked with
    uploads: dict[str, dict] = field(default_factory=dict)  # file id -> announced, bytes

    def shared_files(self) -> list[dict]:
        """Every file completed into a channel: its channel, comment, thread and bytes."""
        shared = []
        for params in self.sent("files.completeUploadExternal"):
            for file in json.loads(params["files"]):
                shared.append({"channel": params.get("channel_id"), "title": file.get("title"),
                               "initial_comment": params.get("initial_comment"),
                               "thread_ts": params.get("thread_ts"),
                               **self.uploads[file["id"]]})
        return shared

    def push(self, envelope: dict) -> None:
        """An envelope for Socket Mode to send the app (at once if it is connected)."""
        self.envelopes.append(envelope)
        self.arrivals.notify()

    def wait_for_response(self, count: int, timeout: float = 10) -> dict:
        """The `count`th answer posted to a response_url, once it is there."""
        self.wait_for(lambda: len(self.responses) >= count, timeout, "a response_url call")
        return self.responses[count - 1]

    def failure_response(self, method: str, failure: Failure) -> Response:
        status = failure.status or 500
        error = failure.error or ("ratelimited" if status == 429 else "internal_error")
        headers = {"Retry-After": str(failure.retry_after or 1)} if status == 429 else {}
        return JSONResponse({"ok": False, "error": error}, status_code=status, headers=headers)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/api/apps.connections.open")
        async def connections_open(request: Request):
            if request.headers.get("authorization") != f"Bearer {APP_TOKEN}":
                return {"ok": False, "error": "invalid_auth"}
            host = request.url.netloc
            return {"ok": True, "url": f"ws://{host}/socket-mode"}

        @app.websocket("/socket-mode")
        async def socket_mode(websocket: WebSocket):
            await websocket.accept()
            await websocket.send_json({"type": "hello", "num_connections": 1,
                                       "connection_info": {"app_id": "A1"}})
            while True:
                while not self.envelopes:
                    await self.arrivals.wait()
                await websocket.send_json(self.envelopes.pop(0))
                self.socket_acks.append(await websocket.receive_json())

        @app.post("/api/{method}")
        async def call(method: str, request: Request):
            if request.headers.get("authorization") != f"Bearer {BOT_TOKEN}":
                return {"ok": False, "error": "invalid_auth"}
            if request.headers.get("content-type", "").startswith("application/json"):
                params = json.loads(await request.body() or b"{}")
            else:
                params = dict((await request.form()).items())
            if (failure := self.injected(method)) is not None:
                return failure
            if method.startswith("files.") and (refused := self._refused(method, params)):
                return {"ok": False, "error": refused}
            self.record(method, params)
            if method == "files.getUploadURLExternal":
                file_id = f"F{len(self.uploads) + 1:04d}"
                self.uploads[file_id] = {"filename": params["filename"],
                                         "length": int(params["length"]), "data": None}
                return {"ok": True, "file_id": file_id,
                        "upload_url": f"http://{request.url.netloc}/upload/v1/{file_id}"}
            return self._result(method, params)

        @app.post("/upload/v1/{file_id}")
        async def upload(file_id: str, request: Request):
            """Slack's upload URL: the file's bytes as the body, no token."""
            if (failure := self.injected("upload")) is not None:
                return failure
            if file_id not in self.uploads:
                return Response("file not found", status_code=404)
            data = await request.body()
            self.record("upload", {"file_id": file_id, "length": len(data)})
            self.uploads[file_id]["data"] = data
            return Response(f"OK - {len(data)}", media_type="text/plain")

        @app.post("/respond/{token}")
        async def respond(token: str, request: Request):
            answer = await request.json()
            self.record("respond", {**answer, "token": token})  # in order with the calls
            self.responses.append(answer)
            return {"ok": True}

        return app

    def _refused(self, method: str, params: dict) -> str:
        """Slack's error for a file call it would not take, or ""."""
        if method == "files.getUploadURLExternal":
            return "" if params.get("filename") and params.get("length") else "invalid_arguments"
        if method == "files.completeUploadExternal":
            for file in json.loads(params.get("files") or "[]"):
                upload = self.uploads.get(file.get("id"))
                if upload is None or upload["data"] is None:  # never uploaded
                    return "file_not_found"
        return ""

    def _result(self, method: str, params: dict) -> dict:
        if method == "auth.test":
            return {"ok": True, "url": "https://frontline-test.slack.com/", "team": "Frontline",
                    "user": "frontline", "team_id": "T0001", "user_id": "UBOT", "bot_id": "B01"}
        if method in ("chat.postMessage", "chat.update"):
            self.next_ts += 1
            channel = params["channel"]
            channel = "D" + channel[1:] if channel.startswith("U") else channel  # the DM
            ts = params.get("ts") or f"{self.next_ts}.000100"
            blocks = params.get("blocks")
            blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
            return {"ok": True, "channel": channel, "ts": ts,
                    "message": {"text": params.get("text", ""), "blocks": blocks or [],
                                "ts": ts}}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", ""),
                                           "name": self.uploads[f["id"]]["filename"]}
                                          for f in json.loads(params["files"])]}
        if method in ("views.open", "views.publish", "views.update"):
            return {"ok": True, "view": {"id": f"V{len(self.calls)}", **(params.get("view")
                                                                          or {})}}
        return {"ok": True}
