"""A local fake of the Slack Web API (the methods Frontline calls), of Socket Mode,
of the response_url endpoints and of the external file upload (the upload URL
files.getUploadURLExternal hands out points back here), recording every call;
answers 429 with Retry-After or 5xx on demand (`fail`; "upload" for the upload
URL).

As strict as Slack where Frontline depends on it, with the limits Frontline declares
(bot/platforms/slack/limits.py): a trigger_id opens one modal within 3 s of the request
that carried it (`issue` tells the fake a request was sent); a response_url takes 5
answers within 30 minutes; a message's blocks and sections have their sizes, and text
past 40,000 characters is cut there with the warning `message_truncated` (recorded in
`refused`, as it loses text); a modal keeps the rules of views and their blocks
(`view_problem`: lengths of titles, ids and labels, pickers' limits); chat.postMessage
to one channel is rate limited (429 with Retry-After); each method needs its scope
(`withhold` one, and auth.test's `x-oauth-scopes` header no longer lists it); a direct
message goes to a workspace member's id (the DM opens) or to a DM channel that is open.
Time is the fake's `clock`, which a test may move on."""

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, Response

from bot.platforms.slack.limits import (
    BLOCKS_PER_MESSAGE,
    CHECKBOX_OPTIONS,
    ID_LENGTH,
    LABEL,
    MESSAGE_TEXT,
    MIN_SELECTED,
    MODAL_BLOCKS,
    MODAL_TITLE,
    OPTION_TEXT,
    OPTION_VALUE,
    POST_BURST,
    POSTS_PER_SECOND_PER_CHANNEL,
    PRIVATE_METADATA,
    RESPONSE_URL_SECONDS,
    RESPONSE_URL_USES,
    SCOPES,
    SECTION_TEXT,
    TEXT_INPUT,
    TRIGGER_SECONDS,
)
from tests.fake_api import Arrivals, Failure, FakeApi

BOT_TOKEN, SIGNING_SECRET = "xoxb-test-token", "signing-secret-for-tests"
APP_TOKEN = "xapp-test-token"  # Socket Mode

# The scope each method needs of a bot token (each method's page, "Required scopes":
# https://docs.slack.dev/reference/methods/chat.postMessage and so on); views.* and
# auth.test need none.
NEEDS = {"chat.postMessage": "chat:write", "chat.update": "chat:write",
         "conversations.open": "im:write", "users.info": "users:read",
         "files.getUploadURLExternal": "files:write",
         "files.completeUploadExternal": "files:write"}


def dm_of(user_id: str) -> str:
    """The id of a member's direct-message channel with the bot, as the fake gives it."""
    return "D" + user_id[1:]


@dataclass
class Clock:
    """The fake's time in seconds: the real monotonic clock plus what a test moved on."""

    moved: float = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.moved

    def advance(self, seconds: float) -> None:
        self.moved += seconds


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
    clock: Callable[[], float] = field(default_factory=Clock)
    triggers: dict[str, float | None] = field(default_factory=dict)  # -> sent at; None: used
    response_urls: dict[str, list[float]] = field(default_factory=dict)  # token -> sent, uses
    granted: set[str] = field(default_factory=lambda: set(SCOPES))  # the bot token's scopes
    members: dict[str, str] = field(default_factory=dict)  # user id -> name (users.info)
    ims: dict[str, str] = field(default_factory=dict)  # user id -> their open DM channel
    posted_at: dict[str, list[float]] = field(default_factory=dict)  # channel -> post times
    refused: list[tuple[str, str]] = field(default_factory=list)  # (method, Slack's error)
    # the warnings of the call being answered (Slack's response_metadata.warnings)
    warnings: list[str] = field(default_factory=list)

    # --- what the test tells the fake ------------------------------------------
    def issue(self, trigger_id: str | None = None, response_url: str | None = None) -> None:
        """Slack sent the app a request carrying `trigger_id` and `response_url` now."""
        if trigger_id:
            self.triggers.setdefault(trigger_id, self.clock())
        if response_url:
            self.response_urls.setdefault(response_url.rsplit("/", 1)[1], [self.clock()])

    def issue_in(self, payload: dict) -> None:
        """Issue what a request's payload carries (a command, an interaction)."""
        self.issue(payload.get("trigger_id"), payload.get("response_url"))

    def withhold(self, scope: str) -> None:
        """The app is (re)installed without `scope`."""
        self.granted.discard(scope)

    def never_wrote(self, user_id: str) -> None:
        """No DM with `user_id` is open: they never wrote to the bot, nor it to them."""
        self.ims.pop(user_id, None)

    def _refuse(self, method: str, error: str, status: int = 200, **more) -> Response:
        self.refused.append((method, error))
        return JSONResponse({"ok": False, "error": error, **more}, status_code=status)

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
        self.issue_in(envelope.get("payload") or {})
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
            if (refusal := self._rules(method, params)) is not None:
                return refusal
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
            if (refused := self._respond_refused(token, answer)) is not None:
                self.refused.append(("respond", refused))
                return Response(refused, status_code=404 if "url" in refused else 400)
            self.record("respond", {**answer, "token": token})  # in order with the calls
            self.responses.append(answer)
            return {"ok": True}

        return app

    # --- Slack's rules -------------------------------------------------------------
    def _rules(self, method: str, params: dict) -> Response | None:
        """Slack's refusal of this call, or None."""
        self.warnings = []
        needed = NEEDS.get(method)
        if needed and needed not in self.granted:  # https://docs.slack.dev/reference/scopes
            return self._refuse(method, "missing_scope", needed=needed,
                                provided=",".join(sorted(self.granted)))
        if method in ("views.open", "views.push"):
            view = params.get("view") or {}
            if (problem := view_problem(json.loads(view) if isinstance(view, str) else view)):
                return self._refuse(method, "invalid_arguments",
                                    response_metadata={"messages": [problem]})
            return self._trigger(method, params.get("trigger_id", ""))
        if method in ("chat.postMessage", "chat.update"):
            if (error := _too_big(params)) is not None:
                return self._refuse(method, error)
            if self._truncate(method, params):
                self.warnings.append("message_truncated")
            channel = params.get("channel", "")
            if channel.startswith(("U", "W")):  # a member's id: their DM with the bot
                if channel not in self.members:
                    return self._refuse(method, "channel_not_found")
                self.ims.setdefault(channel, dm_of(channel))
            elif channel.startswith("D") and channel not in self.ims.values():
                return self._refuse(method, "channel_not_found")
            if method == "chat.postMessage":
                return self._rate(self.ims.get(channel, channel))
        if method == "conversations.open":  # https://docs.slack.dev/reference/methods/conversations.open
            user = params.get("users", "")
            if user not in self.members:
                return self._refuse(method, "user_not_found")
            self.ims.setdefault(user, dm_of(user))
        if method == "users.info" and params.get("user") not in self.members:
            return self._refuse(method, "user_not_found")
        return None

    def _trigger(self, method: str, trigger_id: str) -> Response | None:
        """A trigger opens one view within 3 s of the request that carried it:
        https://docs.slack.dev/reference/methods/views.open#errors"""
        if trigger_id not in self.triggers:
            return self._refuse(method, "invalid_trigger_id")
        sent = self.triggers[trigger_id]
        if sent is None:
            return self._refuse(method, "exchanged_trigger_id")
        if self.clock() - sent > TRIGGER_SECONDS:
            return self._refuse(method, "expired_trigger_id")
        self.triggers[trigger_id] = None
        return None

    def _rate(self, channel: str) -> Response | None:
        """About one post a second per channel, short bursts tolerated; then 429 with
        Retry-After: https://docs.slack.dev/reference/methods/chat.postMessage#rate_limiting"""
        now = self.clock()
        recent = [at for at in self.posted_at.get(channel, []) if now - at < 1.0]
        if len(recent) >= POSTS_PER_SECOND_PER_CHANNEL * POST_BURST:
            wait = max(1, math.ceil(recent[0] + 1.0 - now))
            self.refused.append(("chat.postMessage", "ratelimited"))
            return JSONResponse({"ok": False, "error": "ratelimited"}, status_code=429,
                                headers={"Retry-After": str(wait)})
        self.posted_at[channel] = [*recent, now]
        return None

    def _respond_refused(self, token: str, answer: dict) -> str | None:
        """A response_url takes 5 answers within 30 minutes of its request:
        https://docs.slack.dev/interactivity/handling-user-interaction#message_responses"""
        issued = self.response_urls.get(token)
        if issued is None or self.clock() - issued[0] > RESPONSE_URL_SECONDS:
            return "expired_url"
        if len(issued) > RESPONSE_URL_USES:
            return "used_url"
        if (error := _too_big(answer)) is not None:
            return error
        self._truncate("respond", answer)
        issued.append(self.clock())
        return None

    def _truncate(self, method: str, message: dict) -> bool:
        """Slack cuts `text` at 40,000 characters and still posts it (chat.postMessage,
        "Truncating content": "Slack will truncate messages containing more than 40,000
        characters"; the answer carries the warning `message_truncated`, response URLs
        included: https://api.slack.com/changelog/2018-04-truncating-really-long-messages).
        The cut is recorded in `refused`: text was lost."""
        text = message.get("text") or ""
        if len(text) <= MESSAGE_TEXT:
            return False
        message["text"] = text[:MESSAGE_TEXT]
        self.refused.append((method, "message_truncated"))
        return True

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

    def _result(self, method: str, params: dict) -> dict | Response:
        if method == "auth.test":  # the granted scopes in a header, as Slack answers
            return JSONResponse(
                {"ok": True, "url": "https://frontline-test.slack.com/", "team": "Frontline",
                 "user": "frontline", "team_id": "T0001", "user_id": "UBOT", "bot_id": "B01"},
                headers={"x-oauth-scopes": ",".join(sorted(self.granted))})
        if method == "users.info":
            user = params["user"]
            return {"ok": True, "user": {"id": user, "name": self.members[user],
                                         "real_name": self.members[user],
                                         "profile": {"display_name": self.members[user]}}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": self.ims[params["users"]]}}
        if method in ("chat.postMessage", "chat.update"):
            self.next_ts += 1
            channel = params["channel"]
            channel = self.ims.get(channel, channel)  # a member's id: the DM
            ts = params.get("ts") or f"{self.next_ts}.000100"
            blocks = params.get("blocks")
            blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
            answer = {"ok": True, "channel": channel, "ts": ts,
                      "message": {"text": params.get("text", ""), "blocks": blocks or [],
                                  "ts": ts}}
            if self.warnings:
                answer["response_metadata"] = {"warnings": self.warnings}
                self.warnings = []
            return answer
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", ""),
                                           "name": self.uploads[f["id"]]["filename"]}
                                          for f in json.loads(params["files"])]}
        if method in ("views.open", "views.publish", "views.update"):
            return {"ok": True, "view": {"id": f"V{len(self.calls)}", **(params.get("view")
                                                                          or {})}}
        return {"ok": True}


def _too_big(message: dict) -> str | None:
    """Slack's error for a message over its sizes, or None: at most 50 blocks ("up to 50
    blocks in each message", https://docs.slack.dev/block-kit), a section's text at most
    3,000 characters (https://docs.slack.dev/reference/block-kit/blocks/section-block#fields);
    both answered `invalid_blocks` (chat.postMessage's errors: "Blocks submitted with this
    message are not valid"). Long text is not refused: see FakeSlack._truncate."""
    blocks = message.get("blocks") or []
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    if len(blocks) > BLOCKS_PER_MESSAGE:
        return "invalid_blocks"
    for block in blocks:
        if block.get("type") == "section" and \
                len((block.get("text") or {}).get("text", "")) > SECTION_TEXT:
            return "invalid_blocks"
    return None


def view_problem(view: dict) -> str | None:
    """What views.open says of a modal it refuses (`invalid_arguments`, the rule in its
    response_metadata.messages), or None: the modal view's fields
    (https://docs.slack.dev/reference/views/modal-views), each block's and element's
    (https://docs.slack.dev/reference/block-kit/blocks/input-block#fields, the option
    object, checkboxes, plain_text_input and multi-select menu pages; numbers in
    bot/platforms/slack/limits.py)."""
    def error(rule: str, where: str) -> str:
        return f"[ERROR] {rule} [json-pointer:/view{where}]"

    if view.get("type") != "modal":
        return error("must be a modal", "/type")
    for name in ("title", "submit", "close"):
        if len((view.get(name) or {}).get("text", "")) > MODAL_TITLE:
            return error(f"must be less than {MODAL_TITLE + 1} characters", f"/{name}/text")
    blocks = view.get("blocks") or []
    if len(blocks) > MODAL_BLOCKS:
        return error(f"must have at most {MODAL_BLOCKS} items", "/blocks")
    if len(view.get("private_metadata") or "") > PRIVATE_METADATA:
        return error(f"must be at most {PRIVATE_METADATA} characters", "/private_metadata")
    if len(view.get("callback_id") or "") > ID_LENGTH:
        return error(f"must be at most {ID_LENGTH} characters", "/callback_id")
    seen = set()
    for n, block in enumerate(blocks):
        where = f"/blocks/{n}"
        block_id = block.get("block_id")
        if block_id is not None and (not block_id or len(block_id) > ID_LENGTH):
            return error(f"must be 1 to {ID_LENGTH} characters", f"{where}/block_id")
        if block_id is not None and block_id in seen:
            return error("must be unique", f"{where}/block_id")
        seen.add(block_id)
        if block.get("type") != "input":
            continue
        if not view.get("submit"):
            return error("must define submit to use input block", f"{where}/input")
        if not 0 < len((block.get("label") or {}).get("text", "")) <= LABEL:
            return error(f"must be 1 to {LABEL} characters", f"{where}/label/text")
        if (problem := _element_problem(block.get("element") or {})) is not None:
            return error(problem[0], f"{where}/element{problem[1]}")
    return None


def _element_problem(element: dict) -> tuple[str, str] | None:
    """An input block's element that Slack would refuse: (the rule, where in it)."""
    if len(element.get("action_id") or "") > ID_LENGTH:
        return f"must be at most {ID_LENGTH} characters", "/action_id"
    kind = element.get("type")
    if kind == "plain_text_input":
        most = element.get("max_length", TEXT_INPUT)
        if not isinstance(most, int) or not 1 <= most <= TEXT_INPUT:
            return f"must be 1 to {TEXT_INPUT}", "/max_length"
    elif kind == "users_select":
        if not isinstance(element.get("initial_user", ""), str):
            return "must be a user id", "/initial_user"
    elif kind == "multi_users_select":
        most = element.get("max_selected_items", MIN_SELECTED)
        if not isinstance(most, int) or most < MIN_SELECTED:
            return f"must be at least {MIN_SELECTED}", "/max_selected_items"
        initial = element.get("initial_users", [])
        if not isinstance(initial, list) or not all(isinstance(u, str) for u in initial):
            return "must be an array of user ids", "/initial_users"
    elif kind in ("static_select", "checkboxes"):
        options = element.get("options") or []
        if not options or (kind == "checkboxes" and len(options) > CHECKBOX_OPTIONS):
            return f"must have 1 to {CHECKBOX_OPTIONS} items", "/options"
        for n, option in enumerate(options):
            if len(option.get("text", {}).get("text", "")) > OPTION_TEXT:
                return f"must be less than {OPTION_TEXT + 1} characters", f"/options/{n}/text"
            if not 0 < len(option.get("value", "")) <= OPTION_VALUE:
                return f"must be 1 to {OPTION_VALUE} characters", f"/options/{n}/value"
        if any(chosen not in options for chosen in element.get("initial_options", [])):
            return "must match one of the options", "/initial_options"
    else:
        return "is not an element Frontline's modals use", "/type"
    return None
