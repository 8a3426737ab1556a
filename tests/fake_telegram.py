"""A local fake of the Telegram Bot API: the methods Frontline calls, answered the way
Telegram answers them (PTB parses every reply), with 429 RetryAfter on demand
(`fail`) and a getUpdates queue for long polling."""

import asyncio
import json
import re
import time
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fake_api import Arrivals, Failure, FakeApi

TOKEN = "123456:TEST-token"
BOT_USER = {"id": 999000, "is_bot": True, "first_name": "Frontline",
            "username": "frontline_bot", "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": False}
JSON_FIELDS = {"reply_markup", "allowed_updates", "commands", "scope", "reply_parameters"}


@dataclass
class FakeTelegram(FakeApi):
    MESSAGES = "sendMessage"
    RECIPIENT = "chat_id"

    updates: list[dict] = field(default_factory=list)  # served by getUpdates
    files: dict[str, bytes] = field(default_factory=dict)  # file_id -> content
    next_message_id: int = 500
    polling: int = 0  # long polls (getUpdates with a timeout) in progress now
    most_polling: int = 0  # the most ever in progress at once (Telegram allows one)
    confirmed: int = 0  # the highest offset asked for: every update below it is confirmed
    arrivals: Arrivals = field(default_factory=Arrivals, repr=False)

    def push(self, *updates: dict) -> None:
        """Updates for getUpdates to serve (a long poll waiting for one returns at once)."""
        self.updates.extend(updates)
        self.arrivals.notify()

    def failure_response(self, method: str, failure: Failure) -> Response:
        status = failure.status or 429
        if status != 429:
            return JSONResponse({"ok": False, "error_code": status,
                                 "description": str(failure.error or "Internal Server Error")},
                                status_code=status)
        seconds = failure.retry_after or 1
        return JSONResponse({"ok": False, "error_code": 429,
                             "description": f"Too Many Requests: retry after {seconds}",
                             "parameters": {"retry_after": seconds}}, status_code=429)

    def _message(self, params: dict, **extra) -> dict:
        self.next_message_id += 1
        chat_id = int(params["chat_id"])
        return {"message_id": self.next_message_id, "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": BOT_USER, **extra}

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/bot{token}/{method}")
        async def call(token: str, method: str, request: Request):
            if token != TOKEN:
                return JSONResponse({"ok": False, "error_code": 401,
                                     "description": "Unauthorized"}, status_code=401)
            params = {}
            for name, value in (await request.form()).multi_items():
                if hasattr(value, "read"):
                    params[name] = await value.read()
                else:
                    params[name] = json.loads(value) if name in JSON_FIELDS else value
            if (failure := self.injected(method)) is not None:
                return failure
            if method == "getUpdates":
                return {"ok": True, "result": await self._updates(params, request)}
            if method == "setMyCommands" and (wrong := bad_menu(params)):
                return JSONResponse({"ok": False, "error_code": 400,
                                     "description": f"Bad Request: {wrong}"}, status_code=400)
            self.record(method, params)
            return {"ok": True, "result": self._result(method, params)}

        @app.get("/file/bot{token}/{path:path}")
        def download(token: str, path: str):
            file_id = path.rsplit("/", 1)[-1]
            if token != TOKEN or file_id not in self.files:
                return Response(status_code=404)
            return Response(self.files[file_id], media_type="application/octet-stream")

        return app

    async def _updates(self, params: dict, request: Request) -> list[dict]:
        """A long poll, shortened to 0.4 s at most; like Telegram's it ends early when
        the client goes away, and `timeout=0` only looks."""
        offset = int(params.get("offset") or 0)
        self.confirmed = max(self.confirmed, offset)
        if float(params.get("timeout") or 0) == 0:  # confirms what was fetched: no poll
            return [u for u in self.updates if u["update_id"] >= offset]
        self.polling += 1
        self.most_polling = max(self.most_polling, self.polling)
        gone = asyncio.ensure_future(request.receive())  # the body is read: only a disconnect
        deadline = asyncio.get_running_loop().time() + 0.4
        try:
            while True:
                ready = [u for u in self.updates if u["update_id"] >= offset]
                left = deadline - asyncio.get_running_loop().time()
                if ready or gone.done() or left <= 0:
                    return ready
                await self.arrivals.wait(until=gone, timeout=left)
        finally:
            gone.cancel()
            self.polling -= 1

    def _result(self, method: str, params: dict):
        if method == "getMe":
            return BOT_USER
        if method == "sendMessage":
            extra = {"text": params["text"]}
            if "inline_keyboard" in (params.get("reply_markup") or {}):  # as Telegram does
                extra["reply_markup"] = params["reply_markup"]
            return self._message(params, **extra)
        if method in ("sendVoice", "sendAudio"):
            kind = "voice" if method == "sendVoice" else "audio"
            return self._message(params, **{kind: {
                "file_id": f"sent-{self.next_message_id}", "file_unique_id": "u",
                "duration": 1, **({"title": "praise"} if kind == "audio" else {})}})
        if method == "editMessageText":
            return self._message(params, text=params["text"])
        if method == "getFile":
            file_id = params["file_id"]
            return {"file_id": file_id, "file_unique_id": f"unique-{file_id}",
                    "file_size": len(self.files.get(file_id, b"")),
                    "file_path": f"voice/{file_id}"}
        return True  # answerCallbackQuery, setMyCommands, setWebhook, deleteWebhook, …


COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


def bad_menu(params: dict) -> str | None:
    """What Telegram refuses in setMyCommands (core.telegram.org/bots/api#setmycommands,
    #botcommand, #botcommandscopechat): at most 100 commands, each 1-32 lowercase
    letters, digits or underscores with a description of 1-256 characters; a
    language_code of two letters (ISO 639-1) or none; a chat scope names its chat."""
    commands, scope = params.get("commands") or [], params.get("scope") or {}
    if len(commands) > 100:
        return "too many commands"
    for command in commands:
        if not COMMAND.match(command.get("command", "")):
            return f"command {command.get('command')!r} is invalid"
        if not 1 <= len(command.get("description", "")) <= 256:
            return f"description of {command['command']} must be 1-256 characters"
    if not re.fullmatch(r"[a-z]{2}|", params.get("language_code") or ""):
        return "language_code must be a two-letter ISO 639-1 code"
    if scope.get("type") == "chat" and "chat_id" not in scope:
        return "chat_id is required for a chat scope"
    return None
