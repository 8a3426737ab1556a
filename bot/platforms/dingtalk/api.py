"""DingTalk's open API (api.dingtalk.com), as much of it as Frontline uses, and a
group's custom robot webhook.

The access token is fetched once and cached until shortly before `expireIn`; when
DingTalk answers 401 (revoked or expired early) it is fetched again once and the
call retried once. A 429, or DingTalk's flow-control codes, raise `RateLimited`:
the outbox tries again later. A custom robot takes 20 messages a minute, each open
API 20 calls a second (limits.py): the client keeps to both.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from collections.abc import Callable

import httpx

from bot.platforms.dingtalk.limits import (
    API_QPS,
    PERMISSION_DENIED,
    ROBOT_PER_MINUTE,
    ROBOT_THROTTLED,
    ROBOT_WINDOW,
)
from storage.errors import FrontlineError

OAPI_TOKEN_ERRORS = {40001, 40014, 42001, 88}  # the older API's "token invalid or expired"
TOKEN_MARGIN = 300  # seconds before expireIn at which the token is renewed
PROBE_KEY = "frontline-doctor-probe"  # a processQueryKey / outTrackId nothing else uses


class DingTalkError(FrontlineError):
    def __init__(self, status: int, code: str | int, message: str,
                 scopes: tuple[str, ...] = ()) -> None:
        super().__init__(f"DingTalk error {status} {code}: {message}")
        self.status, self.code, self.scopes = status, code, scopes

    @property
    def denied(self) -> bool:
        """A permission (scope) the app has not been granted."""
        return self.status == 403 and self.code == PERMISSION_DENIED


class RateLimited(FrontlineError):
    """Not sent: a rate limit is reached; the dispatcher retries later."""

    def __init__(self, status: int, code: str | int, message: str) -> None:
        super().__init__(f"DingTalk rate limit {status} {code}: {message}")


def sign(secret: str, timestamp: str) -> str:
    """base64(HMAC-SHA256(secret, "timestamp\\nsecret")): how DingTalk signs its robot
    callbacks (with the app secret) and how a custom robot's webhook is signed."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(),
                      hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class DingTalkApi:
    def __init__(self, base_url: str, app_key: str, app_secret: str, robot_code: str,
                 client: httpx.Client | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 oapi_url: str = "https://oapi.dingtalk.com",
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url, self.oapi_url = base_url.rstrip("/"), oapi_url.rstrip("/")
        self.app_key, self.app_secret, self.robot_code = app_key, app_secret, robot_code
        self.client = client or httpx.Client(timeout=10)
        self.clock, self.sleep = clock, sleep
        self._calls: dict[str, deque[float]] = {}  # path -> when it was called, last second
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = threading.Lock()
        self._robot_sends: dict[str, deque[float]] = {}

    # --- access token ----------------------------------------------------
    def token(self) -> str:
        with self._lock:
            if self._token is None or self.clock() >= self._token_expires:
                data = self._checked(self.client.post(
                    f"{self.base_url}/v1.0/oauth2/accessToken",
                    json={"appKey": self.app_key, "appSecret": self.app_secret}))
                self._token = data["accessToken"]
                self._token_expires = self.clock() + int(data.get("expireIn", 7200)) \
                    - TOKEN_MARGIN
            return self._token

    def _forget_token(self, token: str) -> None:
        with self._lock:
            if self._token == token:
                self._token = None

    @staticmethod
    def _checked(response: httpx.Response) -> dict:
        """The JSON of a success; DingTalk's error ({code, message}) raised."""
        try:
            data = response.json() if response.content else {}
        except ValueError:
            data = {}
        if response.status_code == 429 or "QpsLimit" in str(data.get("code", "")):
            raise RateLimited(response.status_code, data.get("code", ""),
                              data.get("message", "too many requests"))
        if response.is_error:
            scopes = data.get("requiredScopes") or ()
            raise DingTalkError(response.status_code, data.get("code", ""),
                                data.get("message", response.text[:200]),
                                tuple(s for s in scopes if isinstance(s, str)))
        return data

    def _pace(self, path: str) -> float:
        """At most API_QPS calls of one API in any second: wait for a slot (a burst of
        sends is spread over the next second rather than refused). Returns the slot's
        stamp, which `_paced` moves to when the call was answered: DingTalk counts a
        call when it arrives, so its second is counted from no earlier than that."""
        while True:
            with self._lock:
                calls = self._calls.setdefault(path, deque())
                now = self.clock()
                while calls and now - calls[0] >= 1.0:
                    calls.popleft()
                if len(calls) < API_QPS:
                    calls.append(now)
                    return now
                wait = 1.0 - (now - calls[0])
            self.sleep(max(wait, 0.001))

    def _paced(self, path: str, stamp: float) -> None:
        with self._lock:
            calls = self._calls.get(path)
            if calls is not None and stamp in calls:
                calls.remove(stamp)
                calls.append(self.clock())

    def _call(self, method: str, path: str, body: dict) -> dict:
        """Call with the token; on 401, renew the token once and retry once."""
        for attempt in (1, 2):
            stamp = self._pace(path)
            token = self.token()
            try:
                response = self.client.request(method, f"{self.base_url}{path}",
                                               json=body if method != "GET" else None,
                                               headers={"x-acs-dingtalk-access-token": token})
            finally:
                self._paced(path, stamp)
            if response.status_code == 401 and attempt == 1:
                self._forget_token(token)
                continue
            return self._checked(response)
        raise AssertionError("unreachable")

    # --- robot messages --------------------------------------------------
    def send_to_user(self, userid: str, msg_key: str, msg_param: dict) -> None:
        """One-to-one chat with the robot (机器人单聊), e.g. sampleText / sampleMarkdown."""
        data = self._call("POST", "/v1.0/robot/oToMessages/batchSend", {
            "robotCode": self.robot_code, "userIds": [userid], "msgKey": msg_key,
            "msgParam": json.dumps(msg_param, ensure_ascii=False)})
        if userid in (data.get("flowControlledStaffIdList") or []):
            raise RateLimited(200, "flowControlled", f"{userid} is flow-controlled")
        if userid in (data.get("invalidStaffIdList") or []):
            raise DingTalkError(200, "invalidStaffId", f"{userid} is not a valid userid")

    def send_to_group(self, conversation_id: str, msg_key: str, msg_param: dict) -> str:
        data = self._call("POST", "/v1.0/robot/groupMessages/send", {
            "robotCode": self.robot_code, "openConversationId": conversation_id,
            "msgKey": msg_key, "msgParam": json.dumps(msg_param, ensure_ascii=False)})
        return data.get("processQueryKey", "")

    def reply(self, session_webhook: str, text: str, at_user: str | None) -> None:
        """Answer in the conversation a message came from, through its sessionWebhook."""
        body: dict = {"msgtype": "text", "text": {"content": text}}
        if at_user:
            body["at"] = {"atUserIds": [at_user]}
        data = self._checked(self.client.post(session_webhook, json=body))
        if data.get("errcode", 0) != 0:
            raise DingTalkError(200, data["errcode"], data.get("errmsg", ""))

    # --- interactive cards (互动卡片) -------------------------------------
    def create_card(self, out_track_id: str, template_id: str, params: dict[str, str], *,
                    user: str | None = None, group: str | None = None,
                    route_key: str = "") -> None:
        """Create and deliver a card to a user's robot chat or a group. The same
        outTrackId is one card: DingTalk refuses to create it twice. Its clicks come
        back over Stream, or with `route_key` to the URL registered under it (HTTP)."""
        # callbackType STREAM, or HTTP with the callbackRouteKey of a registered URL:
        # https://open.dingtalk.com/document/orgapp/create-and-deliver-cards
        body: dict = {"cardTemplateId": template_id, "outTrackId": out_track_id,
                      "cardData": {"cardParamMap": params}, "userIdType": 1}
        body |= ({"callbackType": "HTTP", "callbackRouteKey": route_key} if route_key
                 else {"callbackType": "STREAM"})
        if user is not None:
            body |= {"openSpaceId": f"dtv1.card//IM_ROBOT.{user}",
                     "imRobotOpenSpaceModel": {"supportForward": False},
                     "imRobotOpenDeliverModel": {"spaceType": "IM_ROBOT",
                                                 "robotCode": self.robot_code}}
        else:
            body |= {"openSpaceId": f"dtv1.card//IM_GROUP.{group}",
                     "imGroupOpenSpaceModel": {"supportForward": True},
                     "imGroupOpenDeliverModel": {"robotCode": self.robot_code}}
        data = self._call("POST", "/v1.0/card/instances/createAndDeliver", body)
        failed = [r for r in (data.get("result") or {}).get("deliverResults") or []
                  if r.get("success") is False]
        if data.get("success") is False or failed:
            raise DingTalkError(200, "deliver", str(failed or data)[:200])

    def update_card(self, out_track_id: str, params: dict[str, str]) -> None:
        self._call("PUT", "/v1.0/card/instances", {
            "outTrackId": out_track_id, "cardData": {"cardParamMap": params},
            "cardUpdateOptions": {"updateCardDataByKey": True}})

    def register_card_callback(self, route_key: str, url: str, api_secret: str) -> None:
        """HTTP mode: the URL DingTalk posts card clicks to, under `route_key`.
        https://open.dingtalk.com/document/orgapp/register-card-callback-address"""
        self._call("POST", "/v1.0/card/callbacks/register", {
            "callbackRouteKey": route_key, "callbackUrl": url, "apiSecret": api_secret,
            "forceUpdate": True})

    # --- what `frontline doctor` asks --------------------------------------
    def probe_robot(self) -> None:
        """Asks after a message nobody sent (批量查询机器人单聊消息已读状态, the robot's
        own API under 企业内机器人发送消息权限): raises DingTalkError when the robot or
        the permission is missing; "no such message" is the healthy answer.
        https://open.dingtalk.com/document/orgapp/chatbot-batch-query-the-read-status-of-messages"""
        try:
            self._call("GET", f"/v1.0/robot/oToMessages/readStatus?robotCode="
                              f"{self.robot_code}&processQueryKey={PROBE_KEY}", {})
        except DingTalkError as error:
            if error.denied or error.status == 404 or "robot" in str(error.code).lower():
                raise
            # Any other refusal is about the probe's made-up key: robot and permission hold

    def probe_cards(self) -> None:
        """Updates a card that does not exist (互动卡片实例写权限): raises DingTalkError
        only when the permission is missing."""
        try:
            self.update_card(PROBE_KEY, {})
        except DingTalkError as error:
            if error.denied:
                raise

    # --- files -----------------------------------------------------------
    def download(self, download_code: str) -> tuple[bytes, str]:
        """A file a user sent the robot (a voice note): its bytes and content type."""
        data = self._call("POST", "/v1.0/robot/messageFiles/download", {
            "downloadCode": download_code, "robotCode": self.robot_code})
        response = self.client.get(data["downloadUrl"])
        response.raise_for_status()
        return response.content, response.headers.get("content-type",
                                                       "application/octet-stream")

    def upload(self, data: bytes, name: str, content_type: str) -> str:
        """Upload a file (oapi media/upload, which takes the same access token); its
        media id, for a sampleFile message."""
        for attempt in (1, 2):
            token = self.token()
            response = self.client.post(f"{self.oapi_url}/media/upload",
                                        params={"access_token": token, "type": "file"},
                                        files={"media": (name, data, content_type)})
            answer = self._checked(response)
            if answer.get("errcode") in OAPI_TOKEN_ERRORS and attempt == 1:
                self._forget_token(token)
                continue
            if answer.get("errcode", 0) != 0:
                raise DingTalkError(200, answer["errcode"], answer.get("errmsg", ""))
            return answer["media_id"]
        raise AssertionError("unreachable")

    # --- custom robots ---------------------------------------------------
    def robot_send(self, webhook: str, secret: str, body: dict) -> None:
        """Post to a group's custom robot, signed (加签), at most 20 a minute."""
        with self._lock:
            sent = self._robot_sends.setdefault(webhook, deque())
            now = self.clock()
            while sent and now - sent[0] >= ROBOT_WINDOW:
                sent.popleft()
            if len(sent) >= ROBOT_PER_MINUTE:
                raise RateLimited(429, "robot",
                                  f"custom robot: {ROBOT_PER_MINUTE} messages a minute")
            sent.append(now)
        timestamp = str(int(time.time() * 1000))
        url = httpx.URL(webhook).copy_merge_params({"timestamp": timestamp,
                                                    "sign": sign(secret, timestamp)})
        data = self._checked(self.client.post(url, json=body))
        if data.get("errcode", 0) in ROBOT_THROTTLED:
            raise RateLimited(200, data["errcode"], data.get("errmsg", ""))
        if data.get("errcode", 0) != 0:
            raise DingTalkError(200, data["errcode"], data.get("errmsg", ""))
