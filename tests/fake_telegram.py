"""A local fake of the Telegram Bot API: the methods Frontline calls, answered the way
Telegram answers them (PTB parses every reply), with 429 RetryAfter on demand
(`fail`) and a getUpdates queue for long polling.

It is as strict as Telegram where Frontline depends on it, with the numbers of
bot/platforms/telegram/limits.py: a private chat the person never started refuses
the bot (403), a text must be 1-4,096 characters, a button's callback_data 1-64
bytes, a callback query is answered within its lifetime, and the flood limits (one
chat, one group, overall) answer 429 with retry_after. It also answers what
`frontline doctor` asks (getMe, getWebhookInfo, getChatMember) and can withhold what
an installer must set (`bot_user`, `chat_status`)."""

import asyncio
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bot.platforms.telegram import limits
from tests.fake_api import Arrivals, Failure, FakeApi

TOKEN = "123456:TEST-token"
BOT_USER = {"id": 999000, "is_bot": True, "first_name": "Frontline",
            "username": "frontline_bot", "can_join_groups": True,
            "can_read_all_group_messages": True, "supports_inline_queries": False}
JSON_FIELDS = {"reply_markup", "allowed_updates", "commands", "scope", "reply_parameters",
               "entities"}
SENDS = {"sendMessage", "sendVoice", "sendAudio"}  # what counts against the flood limits


class Refused(Exception):
    """What Telegram answers instead: its error code, description, retry_after."""

    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    def response(self) -> JSONResponse:
        body = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return JSONResponse(body, status_code=self.code)


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
    # --- as strict as Telegram ----------------------------------------------
    started: set[int] = field(default_factory=set)  # people who pressed Start / wrote
    queries: dict[str, float] = field(default_factory=dict)  # callback query id -> issued
    clock: Callable[[], float] = time.monotonic  # the flood limits' and queries' time
    # time a test let pass without waiting for it (a person typing their next message)
    elapsed: float = 0.0
    sends: dict[int | None, deque] = field(default_factory=dict)  # chat (None: all) -> times
    flood: bool = True  # the flood limits are enforced
    # --- what doctor asks ---------------------------------------------------
    bot_user: dict = field(default_factory=lambda: dict(BOT_USER))  # getMe
    webhook: dict = field(default_factory=lambda: {"url": ""})  # getWebhookInfo
    chat_status: dict[int, str] = field(default_factory=dict)  # chat -> the bot's status

    def now(self) -> float:
        return self.clock() + self.elapsed

    def push(self, *updates: dict) -> None:
        """Updates for getUpdates to serve (a long poll waiting for one returns at once).
        A person who writes to the bot in private has started it."""
        for update in updates:
            self.wrote(update)
        self.updates.extend(updates)
        self.arrivals.notify()

    def wrote(self, update: dict) -> None:
        """An update Telegram delivers: its sender, writing in private, started the bot."""
        message = update.get("message") or {}
        chat, sender = message.get("chat") or {}, message.get("from") or {}
        if chat.get("type") == "private" and sender.get("id") is not None:
            self.started.add(int(sender["id"]))
        if (query := update.get("callback_query")) is not None:
            self.queries.setdefault(query["id"], self.now())

    def never_wrote(self, user_id: int) -> None:
        self.started.discard(int(user_id))

    def failure_response(self, method: str, failure: Failure) -> Response:
        status = failure.status or 429
        if status != 429:
            return Refused(status, str(failure.error or "Internal Server Error")).response()
        seconds = failure.retry_after or 1
        return Refused(429, f"Too Many Requests: retry after {seconds}", seconds).response()

    def _message(self, params: dict, **extra) -> dict:
        self.next_message_id += 1
        chat_id = int(params["chat_id"])
        return {"message_id": self.next_message_id, "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": self.bot_user, **extra}

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
            try:
                self.check(method, params)
                result = self._result(method, params)
            except Refused as refused:
                self.failed.append((method, Failure(refused.code, refused.description,
                                                    refused.retry_after)))
                return refused.response()
            self.record(method, params)
            return {"ok": True, "result": result}

        @app.get("/file/bot{token}/{path:path}")
        def download(token: str, path: str):
            file_id = path.rsplit("/", 1)[-1]
            if token != TOKEN or file_id not in self.files:
                return Response(status_code=404)
            return Response(self.files[file_id], media_type="application/octet-stream")

        return app

    # --- Telegram's rules ---------------------------------------------------------
    def check(self, method: str, params: dict) -> None:
        """Raises what Telegram answers a call that breaks its rules."""
        if method in ("sendMessage", "editMessageText"):
            # "1-4096 characters after entities parsing":
            # https://core.telegram.org/bots/api#sendmessage
            size = limits.length(params.get("text") or "")
            if size == 0:
                raise Refused(400, "Bad Request: message text is empty")
            if size > limits.MESSAGE_TEXT:
                raise Refused(400, "Bad Request: message is too long")
        for row in (params.get("reply_markup") or {}).get("inline_keyboard") or []:
            for button in row:
                # callback_data "1-64 bytes":
                # https://core.telegram.org/bots/api#inlinekeyboardbutton
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= \
                        limits.CALLBACK_DATA_BYTES:
                    raise Refused(400, "Bad Request: BUTTON_DATA_INVALID")
        if method == "answerCallbackQuery":
            # answered within the query's life (limits.CALLBACK_ANSWER_SECONDS), its
            # text 0-200 characters: https://core.telegram.org/bots/api#answercallbackquery
            issued = self.queries.get(str(params.get("callback_query_id")))
            if issued is None or self.now() - issued > limits.CALLBACK_ANSWER_SECONDS:
                raise Refused(400, "Bad Request: query is too old and response timeout "
                                   "expired or query ID is invalid")
            if len(params.get("text") or "") > limits.CALLBACK_ANSWER_TEXT:
                raise Refused(400, "Bad Request: MESSAGE_TOO_LONG")
        if method in SENDS:
            chat = int(params["chat_id"])
            # "Bots can't initiate conversations with users":
            # https://core.telegram.org/bots/features#what-features-do-bots-have
            if chat > 0 and chat not in self.started:
                raise Refused(403, f"Forbidden: {limits.CANNOT_INITIATE}")
            if self.flood:
                self._flood(chat)

    def _flood(self, chat: int) -> None:
        """The Bot FAQ's limits (https://core.telegram.org/bots/faq#my-bot-is-hitting-
        limits-how-do-i-avoid-this): 30 a second overall, 20 a minute in a group, one a
        second in a chat after a short burst; 429 with retry_after beyond them."""
        now = self.now()
        overall, here = self.sends.setdefault(None, deque()), self.sends.setdefault(chat,
                                                                                   deque())
        while overall and overall[0] <= now - 1:
            overall.popleft()
        while here and here[0] <= now - limits.GROUP_WINDOW:
            here.popleft()
        if len(overall) >= limits.OVERALL_PER_SECOND:
            raise _too_many(overall[0] + 1 - now)
        if chat < 0 and len(here) >= limits.GROUP_PER_MINUTE:
            raise _too_many(here[0] + limits.GROUP_WINDOW - now)
        # a bucket of CHAT_BURST sends, refilled at CHAT_PER_SECOND
        recent = [t for t in here if t > now - limits.CHAT_BURST / limits.CHAT_PER_SECOND]
        if len(recent) >= limits.CHAT_BURST:
            raise _too_many(recent[0] + limits.CHAT_BURST / limits.CHAT_PER_SECOND - now)
        overall.append(now)
        here.append(now)

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
            return self.bot_user
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
        if method == "setWebhook":
            self.webhook = {"url": params["url"]}
        if method == "deleteWebhook":
            self.webhook = {"url": ""}
        if method == "getWebhookInfo":
            return {"has_custom_certificate": False, "pending_update_count": 0,
                    **self.webhook}
        if method == "getChatMember":
            return self._member(int(params["chat_id"]))
        return True  # answerCallbackQuery, setMyCommands, setWebhook, deleteWebhook, …

    def _member(self, chat: int) -> dict:
        """The bot in a chat (https://core.telegram.org/bots/api#chatmember): an
        administrator unless `chat_status` says otherwise; "missing" is a chat the bot
        is not in."""
        status = self.chat_status.get(chat, "administrator")
        if status == "missing":
            raise Refused(400, "Bad Request: chat not found")
        member = {"status": status, "user": self.bot_user}
        if status == "administrator":
            rights = ("can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                      "can_restrict_members", "can_promote_members", "can_change_info",
                      "can_invite_users", "can_post_stories", "can_edit_stories",
                      "can_delete_stories")
            member |= {"can_be_edited": False, "is_anonymous": False,
                       **dict.fromkeys(rights, True)}
        return member


def _too_many(seconds: float) -> Refused:
    wait = max(1, int(seconds + 0.999))
    return Refused(429, f"Too Many Requests: retry after {wait}", wait)


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
