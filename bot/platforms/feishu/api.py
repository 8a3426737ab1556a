"""The Feishu open API, as much of it as Frontline uses, through lark-oapi.

The SDK fetches the tenant access token and caches it until ten minutes before it
expires; when Feishu calls a token invalid (it can be revoked early), the cached one
is dropped and the call retried once. Sends carry a `uuid`, which Feishu keeps for
an hour: the same uuid never posts a second message, so a retried send cannot
double-post. A rate limit (HTTP 429, code 99991400) raises, and the outbox sends
the notification later.
"""

import hashlib
import io
import json
import logging
import threading
import time
from collections.abc import Callable

import lark_oapi as lark
from lark_oapi.api.application.v6 import ListScopeRequest
from lark_oapi.api.im.v1 import (
    CreateFileRequest,
    CreateFileRequestBody,
    CreateMessageRequest,
    CreateMessageRequestBody,
    GetMessageResourceRequest,
    PatchMessageRequest,
    PatchMessageRequestBody,
)
from lark_oapi.core.token.manager import TokenManager

from bot.kit import pieces as cut
from bot.platforms.feishu.limits import (
    APP_SEND_INTERVAL,
    CHAT_RATE_LIMITED_CODE,
    RANGE_PAGE_MAX,
    RATE_LIMITED_CODE,
    SEND_INTERVAL,
    TEXT_BODY_MAX,
    UUID_MAX,
)
from storage.errors import FrontlineError

TOKEN_ERRORS = {99991661, 99991663, 99991664, 99991665, 99991668}
RATE_LIMITED = {RATE_LIMITED_CODE, CHAT_RATE_LIMITED_CODE}  # the app's / a chat's rate limit
log = logging.getLogger(__name__)


def send_uuid(key: str) -> str:
    """The de-duplication uuid for a send keyed `key`: Feishu takes at most 50
    characters (limits.UUID_MAX), and a longer key cut short would make two sends
    (a post and its recording to a 35-character oc_ chat id) share one uuid, and Feishu
    would drop the second. A key that fits is kept as it is (readable in Feishu's
    logs); a longer one becomes its SHA-256, unique within the 50 characters."""
    if len(key) <= UUID_MAX:
        return key
    return "h-" + hashlib.sha256(key.encode()).hexdigest()[:UUID_MAX - 2]


def text_body_size(text: str) -> int:
    """The bytes a text message's request body takes (its content is JSON inside JSON),
    with room for the other fields (receive id, msg_type, uuid)."""
    content = json.dumps({"text": text}, ensure_ascii=False)
    return len(json.dumps({"content": content}, ensure_ascii=False).encode()) + 256


def split_text(text: str, limit: int = TEXT_BODY_MAX) -> list[str]:
    """`text` in pieces whose request bodies fit `limit`, split between lines where it
    can (a line too long alone is cut between characters)."""
    if text_body_size(text) <= limit:
        return [text]
    return [piece.strip("\n") for piece in cut(text, lambda part: text_body_size(part) <= limit)
            if piece.strip()]


class FeishuError(FrontlineError):
    def __init__(self, code: int | None, msg: str) -> None:
        super().__init__(f"Feishu error {code}: {msg}")
        self.code = code


class RateLimited(FrontlineError):
    """Not sent: Feishu's rate limit; the outbox sends it again later."""

    def __init__(self, code: int | None, msg: str) -> None:
        super().__init__(f"Feishu rate limit {code}: {msg}")
        self.code = code


def client(app_id: str, app_secret: str, domain: str) -> lark.Client:
    return (lark.Client.builder().app_id(app_id).app_secret(app_secret).domain(domain)
            .timeout(10).log_level(lark.LogLevel.WARNING).build())


class FeishuApi:
    def __init__(self, sdk: lark.Client, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.sdk = sdk
        self.app_id = sdk.config.app_id
        self.clock, self.sleep = clock, sleep
        self._last_send: dict[str, float] = {}
        self._app_sent = float("-inf")  # when this process last sent for the app
        self._lock = threading.Lock()

    def _pace(self, receive_id: str) -> None:
        """Feishu takes 5 messages a second per user or chat and 50 a second for the
        app: keep to both here, so that a burst (a pulse to everyone, a busy chat) is
        spread rather than refused and retried after a back-off."""
        with self._lock:
            now = self.clock()
            due = max(now, self._last_send.get(receive_id, now - SEND_INTERVAL) + SEND_INTERVAL,
                      self._app_sent + APP_SEND_INTERVAL)
            self._last_send[receive_id] = self._app_sent = due
            if len(self._last_send) > 10_000:  # forget the quiet ones
                self._last_send = {k: v for k, v in self._last_send.items() if v > now - 1}
        if due > now:
            self.sleep(due - now)

    def _call(self, call, request: Callable[[], object]):
        """Call the SDK with a fresh request (a file in it is read once); on a token
        error, drop the cached token and retry once."""
        for attempt in (1, 2):
            response = call(request())
            if response.code in TOKEN_ERRORS and attempt == 1:
                TokenManager.cache.set(f"self_tenant_token:{self.app_id}", "", 0)
                continue
            if response.code in RATE_LIMITED:
                raise RateLimited(response.code, response.msg or "rate limited")
            if not response.success():
                raise FeishuError(response.code, response.msg or "")
            return response
        raise AssertionError("unreachable")

    def send(self, receive_id_type: str, receive_id: str, msg_type: str, content: dict,
             uuid: str) -> str:
        """Send one message (at most once per `uuid` within an hour); its message id."""
        body = (CreateMessageRequestBody.builder().receive_id(receive_id).msg_type(msg_type)
                .content(json.dumps(content, ensure_ascii=False)).uuid(send_uuid(uuid)).build())
        request = (CreateMessageRequest.builder().receive_id_type(receive_id_type)
                   .request_body(body).build())
        self._pace(receive_id)
        return self._call(self.sdk.im.v1.message.create, lambda: request).data.message_id

    def send_text(self, receive_id_type: str, receive_id: str, text: str, uuid: str) -> str:
        """A text message; one longer than Feishu takes (limits.TEXT_BODY_MAX) goes as
        several, split between lines, each with a uuid of its own. The first's id."""
        pieces = split_text(text)
        ids = [self.send(receive_id_type, receive_id, "text", {"text": piece},
                         uuid if n == 0 else f"{uuid}-{n}") for n, piece in enumerate(pieces)]
        return ids[0]

    def send_card(self, receive_id_type: str, receive_id: str, card: dict, uuid: str) -> str:
        return self.send(receive_id_type, receive_id, "interactive", card, uuid)

    def patch_card(self, message_id: str, card: dict) -> None:
        """Redraw a card the bot sent (for everyone, as its config has update_multi)."""
        body = PatchMessageRequestBody.builder().content(
            json.dumps(card, ensure_ascii=False)).build()
        self._call(self.sdk.im.v1.message.patch, lambda: PatchMessageRequest.builder()
                   .message_id(message_id).request_body(body).build())

    def resource(self, message_id: str, file_key: str, kind: str = "file") -> tuple[bytes, str]:
        """A file in a message (an audio message's voice: kind "file"), and its type."""
        response = self._call(self.sdk.im.v1.message_resource.get,
                              lambda: GetMessageResourceRequest.builder().message_id(message_id)
                              .file_key(file_key).type(kind).build())
        content_type = response.raw.headers.get("Content-Type") or response.raw.headers.get(
            "content-type") or ""
        content_type = content_type.split(";", 1)[0].strip()
        if not content_type or content_type == "application/octet-stream":
            content_type = "audio/ogg"  # Feishu's voice messages are Opus in Ogg
        return response.file.read(), content_type

    def upload(self, data: bytes, file_type: str, file_name: str) -> str:
        """Upload a file to send in a message ("opus" for a voice message, "stream"
        for any other file); its file key."""
        def request() -> CreateFileRequest:
            body = (CreateFileRequestBody.builder().file_type(file_type).file_name(file_name)
                    .file(io.BytesIO(data)).build())
            return CreateFileRequest.builder().request_body(body).build()
        return self._call(self.sdk.im.v1.file.create, request).data.file_key

    # --- for `frontline doctor` --------------------------------------------------------
    def token(self) -> None:
        """Fetches a tenant access token (the app id and secret work), or raises."""
        TokenManager.cache.set(f"self_tenant_token:{self.app_id}", "", 0)  # ask afresh
        self.bot_info()

    def scopes(self) -> dict[str, int]:
        """The scopes the app asked for, each with its grant status in the tenant
        (application/v6/scopes: 1 granted, 2 not)."""
        response = self._call(self.sdk.application.v6.scope.list,
                              lambda: ListScopeRequest.builder().build())
        return {s.scope_name: s.grant_status for s in (response.data.scopes or [])
                if s.scope_name}

    def availability(self) -> dict:
        """The app's availability range in the company (application/v2/app/visibility,
        limits.RANGE_SCOPE): is_visible_to_all, and the departments, groups and people
        it is available to or excluded from (the first page of people)."""
        request = (lark.BaseRequest.builder().http_method(lark.HttpMethod.GET)
                   .uri("/open-apis/application/v2/app/visibility")
                   .queries([("app_id", self.app_id), ("user_page_size", str(RANGE_PAGE_MAX))])
                   .token_types({lark.AccessTokenType.TENANT}).build())
        response = self.sdk.request(request)
        answer = json.loads(response.raw.content or b"{}")  # a refusal's code is in its body
        if not response.success() or answer.get("code"):
            raise FeishuError(answer.get("code", response.code), answer.get("msg") or "")
        return answer.get("data") or {}

    def bot_info(self) -> dict:
        """The bot's info (bot/v3/info): its activate_status, name and open_id."""
        request = (lark.BaseRequest.builder().http_method(lark.HttpMethod.GET)
                   .uri("/open-apis/bot/v3/info")
                   .token_types({lark.AccessTokenType.TENANT}).build())
        response = self.sdk.request(request)
        if response.code in TOKEN_ERRORS or not response.success():
            raise FeishuError(response.code, response.msg or "")
        return json.loads(response.raw.content or b"{}").get("bot") or {}
