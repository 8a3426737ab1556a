"""The DingTalk driver, in Stream mode: the official dingtalk-stream SDK's client
connected over WebSocket to the local fake gateway (tests/fake_dingtalk.py), robot
messages pushed down it as CALLBACK frames and the acks read back; the open API
(robot messages, cards) is the same fake's."""

import itertools
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import Engine

from bot.app.web import create_app
from bot.kit.config import DEMO_CATALOG, parse_config
from bot.kit.outbox import dispatch_pending
from bot.platforms.dingtalk import limits
from bot.platforms.dingtalk.api import sign
from bot.platforms.dingtalk.platform import build
from storage.engine import transaction
from storage.models import ChatIdentity
from tests.fake_api import Failure
from tests.fake_dingtalk import APP_KEY, APP_SECRET, CARD_TOPIC, ROBOT_TOPIC, FakeDingTalk
from tests.http_servers import serve
from tests.platforms.driver import MENTION, Driver
from tests.support import employee

USERS = {"wang": "manager4220", "alice": "alice0101", "bob": "bob0202", "hana": "hana0303"}
LILEI = "lilei0404"  # linked by the driver; tests/test_dingtalk.py has him link himself
STRANGER = "stranger01"
# The names DingTalk shows (an @mention is "@" and the name, in the text)
NICKS = {"wang": "王经理", "alice": "Alice", "bob": "Bob", "hana": "Hana", "lilei": "李雷",
         "stranger": "路人甲"}
ALL_STAFF, HARBOUR = "cidAllStaff0000==", "cidHarbour0000=="
TEMPLATE = "frontline.approval.schema"
CORP_ID = "ding0corp0frontline"
QPS_LIMIT = limits.QPS_LIMIT  # the open API's 429
# What the bot sends through the open API (a message's own answer goes through its
# session webhook, which is not rate-limited so).
SENDS = ("oToMessages/batchSend", "groupMessages/send", "card/createAndDeliver")


def now_ms() -> int:
    return int(time.time() * 1000)


class DingTalk:
    """Drives the bot as DingTalk would, in either mode."""

    ids = itertools.count(1)

    def __init__(self, fake: FakeDingTalk, engine, platform, api_url: str,
                 bot_url: str | None = None) -> None:
        self.fake, self.engine, self.platform = fake, engine, platform
        self.api_url, self.bot_url = api_url, bot_url

    def message(self, user: str, msg_id: str, *, text: str | None = None, group: bool = False,
                audio: str | None = None, at: list[str] = (), chat: str = ALL_STAFF,
                file: tuple[str, str] | None = None) -> dict:
        """A robot message; `at`: the staff ids picked from the @ list (in a group)."""
        data = {"conversationId": chat if group else f"cid-single-{user}",
                "atUsers": ([{"dingtalkId": "$:LWCP_v1:$bot"}] if group else []) + [
                    {"dingtalkId": f"$:LWCP_v1:${who}", "staffId": who} for who in at],
                "chatbotCorpId": CORP_ID, "chatbotUserId": "$:LWCP_v1:$bot", "msgId": msg_id,
                "senderNick": user, "isAdmin": False, "senderStaffId": user,
                "sessionWebhookExpiredTime": now_ms() + 5_400_000, "createAt": now_ms(),
                "senderCorpId": CORP_ID, "conversationType": "2" if group else "1",
                "senderId": f"$:LWCP_v1:${user}", "robotCode": APP_KEY,
                "sessionWebhook": f"{self.api_url}/robot/sendBySession?session=s-{msg_id}"}
        if audio is not None:
            data |= {"msgtype": "audio", "content": {"downloadCode": audio, "duration": 4000}}
        elif file is not None:
            data |= {"msgtype": "file", "content": {"downloadCode": file[0],
                                                    "fileName": file[1]}}
        else:
            data |= {"msgtype": "text", "text": {"content": text}}
        return data

    def send(self, data: dict) -> None:
        if self.bot_url is None:
            frame = f"frame-{uuid.uuid4().hex}"
            assert self.fake.push_and_wait(ROBOT_TOPIC, data, frame)["code"] == 200
        else:
            timestamp = str(now_ms())
            response = httpx.post(f"{self.bot_url}/dingtalk/robot", json=data, timeout=10,
                                  headers={"timestamp": timestamp,
                                           "sign": sign(APP_SECRET, timestamp)})
            assert response.status_code == 200, response.text

    def say(self, user: str, text: str, msg_id: str | None = None, group: bool = False) -> str:
        msg_id = msg_id or f"msg{next(self.ids)}"
        self.send(self.message(user, msg_id, text=text, group=group))
        return self.answer(msg_id)

    def answer(self, msg_id: str) -> str:
        """The answer to a message (worked on after its ack): the last, once there is one."""
        answers = self.fake.wait_for(lambda: [
            p for p in self.fake.sent("sendBySession") if p["session"] == f"s-{msg_id}"],
            what=f"an answer to {msg_id}")
        return answers[-1]["text"]["content"]

    @staticmethod
    def card_click(user: str, track: str, command: str) -> dict:
        """A card callback as DingTalk sends it (Stream frame data or HTTP body)."""
        return {"extension": "{}", "corpId": CORP_ID, "type": "actionCallback", "userId": user,
                "outTrackId": track, "content": json.dumps(
                    {"cardPrivateData": {"actionIds": ["action1"],
                                         "params": {"command": command}}})}

    def click(self, user: str, track: str, command: str, callback: str | None = None) -> dict:
        """A card button pressed: its ack, which comes at once (the command runs after)."""
        callback = callback or f"cb-{uuid.uuid4().hex}"
        return self.fake.push_and_wait(CARD_TOPIC, self.card_click(user, track, command),
                                       callback)

    def deliver(self, now=None) -> int:
        return dispatch_pending(self.engine, self.platform.channels(),
                                **({"now": now} if now else {}))


def link(org: Engine, people: dict[str, str] = USERS) -> None:
    with transaction(org) as session:
        for handle, userid in people.items():
            session.add(ChatIdentity(employee_id=employee(org, handle).id, platform="dingtalk",
                                     platform_user_id=userid))


def dingtalk_config(api_url: str, mode: str, **extra):
    return parse_config({"catalog": DEMO_CATALOG, "platforms": {"dingtalk": {
        "enabled": True, "mode": mode, "api_base": api_url, "card_template_id": TEMPLATE,
        "all_staff_chat": ALL_STAFF, "team_chats": {"Harbour Street Store": HARBOUR},
        "oapi_base": api_url, **extra}}})


@contextmanager
def app_secrets() -> Iterator[pytest.MonkeyPatch]:
    """The app's key and secret in the environment (where the config names them), and
    the patch that set them, for more; all undone on leaving."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DINGTALK_APP_KEY", APP_KEY)
        env.setenv("DINGTALK_APP_SECRET", APP_SECRET)
        yield env


@contextmanager
def streaming(org: Engine, fake: FakeDingTalk,
              people: dict[str, str] = USERS) -> Iterator[DingTalk]:
    """Stream mode: `people` linked, the platform built from its config and started in
    the web app's loop, its SDK client connected to the fake gateway."""
    link(org, people)
    with app_secrets(), fake.serve() as api_url:
        platform = build(org, dingtalk_config(api_url, "stream"))
        app = create_app([], [platform.start], [platform.stop])
        with serve(app, lifespan="on"):
            fake.wait_for(lambda: fake.socket is not None and platform.ready(), what="connect")
            yield DingTalk(fake, org, platform, api_url)


class DingTalkDriver(Driver):
    name = "dingtalk"

    def __init__(self, dingtalk: DingTalk):
        self.dingtalk, self.engine, self.fake = dingtalk, dingtalk.engine, dingtalk.fake
        self.users = USERS | {"lilei": LILEI}
        self.senders: dict[str, str] = {}  # a message's session -> the staff id who sent it

    @property
    def inbox(self):
        return self.dingtalk.platform.adapter.inbox

    @property
    def channels(self):
        return self.dingtalk.platform.channels()

    @property
    def config(self):
        return self.dingtalk.platform.adapter.config

    @property
    def platform(self):
        return self.dingtalk.platform

    def user_id(self, handle: str) -> str:
        return self.users.get(handle, STRANGER)

    def event(self, handle: str, text: str) -> dict:
        user, msg_id = self.user_id(handle), f"msg{next(DingTalk.ids)}"
        self.senders[f"s-{msg_id}"] = user
        picked = MENTION.findall(text)
        if not picked:
            return self.dingtalk.message(user, msg_id, text=text)
        # DingTalk's @ picker is a group's: "@<name shown>" in the text, the person in atUsers
        said = MENTION.sub(lambda m: f"@{NICKS[m.group(1)]}", text)
        return self.dingtalk.message(user, msg_id, text=said, group=True,
                                     at=[self.user_id(h) for h in picked])

    def deliver(self, event: dict) -> dict:
        # DingTalk sends a message it has no OK ack for again in a frame of the same id
        return self.fake.push_and_wait(ROBOT_TOPIC, event, f"frame-{event['msgId']}")

    def acked(self, ack: dict) -> bool:
        return ack["code"] == 200

    def asked_again(self, ack: dict) -> bool:
        return ack["code"] == 500  # a system exception: the gateway sends the frame again

    def refused(self, ack: dict) -> bool:
        return False  # a frame on the authenticated connection is always DingTalk's

    def stored(self, event: dict) -> tuple[str, str, dict]:
        return f"dingtalk:msg:{event['msgId']}", "message", event

    def answers(self, handle: str) -> list[str]:
        user = self.users.get(handle, STRANGER)
        tracks = {}  # a card's outTrackId -> whom it was delivered to
        shown = []
        for method, params in self.fake.calls:
            if method == "sendBySession" and self.senders.get(params["session"]) == user:
                shown.append(params["text"]["content"])  # the answer to their message
            elif method == "oToMessages/batchSend" and params["userId"] == user:
                shown.append(self.fake.text_of(params))  # a DM, or the answer to a click
            elif method == "card/createAndDeliver":
                tracks[params["outTrackId"]] = params["openSpaceId"]
                if params["openSpaceId"] == f"dtv1.card//IM_ROBOT.{user}":
                    shown.append(params["cardData"]["cardParamMap"]["markdown"])
            elif method == "card/update" and \
                    tracks.get(params["outTrackId"]) == f"dtv1.card//IM_ROBOT.{user}":
                shown.append(params["cardData"]["cardParamMap"].get("decided", ""))
        return shown

    def press(self, handle: str, command: str) -> None:
        card = next(c for c in reversed(self.fake.sent("card/createAndDeliver"))
                    if command in c["cardData"]["cardParamMap"].values())
        ack = self.dingtalk.click(self.users[handle], card["outTrackId"], command)
        assert ack["code"] == 200  # stored and acknowledged; its command runs after
        assert not self.fake.late_acks and not self.fake.bad_answers
        self.ran()

    def throttle_next_send(self) -> None:
        # One queue under every sending method: whichever the bot calls next is refused
        queue = self.fake.failures.setdefault(SENDS[0], [])
        for method in SENDS:
            assert self.fake.failures.setdefault(method, queue) is queue
        queue.append(Failure(status=429, error=QPS_LIMIT))

    # --- a real install ---------------------------------------------------------
    reaches_first = True  # an app robot messages anyone in the organisation one-to-one

    def never_wrote(self, handle: str) -> None:
        self.fake.never_wrote.add(self.user_id(handle))

    def shared_posts(self) -> list[str]:
        posts = []
        for method, params in self.fake.calls:
            if method == "groupMessages/send" and params["openConversationId"] == ALL_STAFF:
                posts.append(self.fake.text_of(params))
            elif method == "card/createAndDeliver" and \
                    params["openSpaceId"] == f"dtv1.card//IM_GROUP.{ALL_STAFF}":
                posts.append(params["cardData"]["cardParamMap"]["markdown"])
        return posts

    def fits(self, text: str) -> bool:
        return limits.fits(text)

    def withhold_permission(self) -> None:
        self.fake.withhold(limits.SEND_SCOPE)


@contextmanager
def driver(org: Engine) -> Iterator[DingTalkDriver]:
    with streaming(org, FakeDingTalk(), USERS | {"lilei": LILEI}) as dingtalk:
        yield DingTalkDriver(dingtalk)
