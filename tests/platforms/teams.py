"""The Teams driver: activities posted to /api/messages on the bot's web app with a
Bot Framework token signed by the local fake issuer (tests/fake_teams.py), whose
keys the bot fetches from the fake's OpenID/JWKS endpoint; the bot answers through
the fake Bot Connector (the activities' serviceUrl), which records every reply,
card, card update and proactive post.

The install is a real one: the app is installed for everyone (an admin's app setup
policy) but nobody has written to the bot, so it creates each personal chat it
needs; it was added to one team (its General channel) and posts to that team's
all-staff channel through the team's reference."""

import itertools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from unittest import mock

import httpx
import jwt
from microsoft_agents.activity import Activity
from sqlalchemy import Engine

from bot.app.web import create_app
from bot.kit.config import DEMO_CATALOG, parse_config
from bot.kit.outbox import dispatch_pending
from bot.kit.work_pool import WorkPool
from bot.platforms.teams import cards, limits, references
from bot.platforms.teams.channels import channels
from bot.platforms.teams.platform import TeamsPlatform, build
from handlers.base import Message
from handlers.i18n import render_message
from storage.engine import transaction
from storage.models import ChatIdentity
from tests.fake_teams import APP_ID, SECRET, TENANT, FakeTeams, new_key, personal_id
from tests.http_servers import serve
from tests.platforms.driver import MENTION, Driver
from tests.support import employee, settled

USERS = {"wang": "aad-wang", "alice": "aad-alice", "bob": "aad-bob", "hana": "aad-hana"}
GENERAL = "19:general@thread.tacv2"  # a team's id is its General channel's
ALL_STAFF = "19:all-staff@thread.tacv2"  # another channel of that team
STRANGER = "aad-stranger"
PEOPLE = {**USERS, "lilei": "aad-lilei"}  # the driver links all of the demo organisation
NOTE = "application/vnd.microsoft.activity.message"  # an invoke's answer shown on the card
SHOWN = ("send", "reply", "update")  # the Connector calls that show something in a chat


def teams_config(fake_url: str, **extra):
    return parse_config({"catalog": DEMO_CATALOG, "platforms": {"teams": {
        "enabled": True, "app_id": APP_ID, "tenant_id": TENANT, "login_base": fake_url,
        "openid_metadata_url": f"{fake_url}/openid", **extra}}})


def serving(platform: TeamsPlatform):
    """The web app with the platform started (its inbox) and stopped around it."""
    return serve(create_app([platform.router()], [platform.start], [platform.stop]),
                 lifespan="on")


personal = personal_id  # the id of a user's personal conversation with the bot


def mention(user: str, name: str) -> tuple[str, dict]:
    """A colleague picked from Teams' @ list: the text it puts in the message and its
    mention entity.
    https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/channel-and-group-conversations#receive-mentions"""
    text = f"<at>{name}</at>"
    return text, {"type": "mention", "text": text, "mentioned": {
        "id": f"29:{user}", "name": name, "aadObjectId": user}}


class Bot:
    ids = itertools.count(1000)

    def __init__(self, url, engine, fake, platform):
        self.url, self.engine, self.fake, self.platform = url, engine, fake, platform

    def activity(self, user: str, *, conversation: str | None = None, kind="personal",
                 **fields) -> dict:
        return {"type": "message", "id": f"act-{next(self.ids)}", "channelId": "msteams",
                "serviceUrl": f"{self.fake.url}/",
                "from": {"id": f"29:{user}", "aadObjectId": user, "name": user},
                "recipient": {"id": f"28:{APP_ID}", "name": "Frontline"},
                "conversation": {"id": conversation or personal(user),
                                 "conversationType": kind, "tenantId": TENANT},
                "channelData": {"tenant": {"id": TENANT}}, **fields}

    def post(self, activity: dict, token: str | None = "mint") -> httpx.Response:
        """Teams sends `activity` (with its own token: the conversation exists, the bot is
        in it); an invoke's answer is read for as long as Teams waits for it."""
        headers = {}
        if token == "mint":
            token = self.fake.mint()
            self.fake.heard(activity)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        timeout = limits.INVOKE_RESPONSE_SECONDS if activity.get("type") == "invoke" else 20
        return httpx.post(f"{self.url}/api/messages", json=activity, headers=headers,
                          timeout=timeout)

    def say(self, user: str, text: str, **fields) -> str:
        before = len(self.fake.calls)
        response = self.post(self.activity(user, text=text, **fields))
        assert response.status_code == 200, response.text
        self.settle()
        new = [params for name, params in self.fake.calls[before:] if name in SHOWN]
        return "\n".join(self.fake.text_of(p) for p in new)

    def click(self, user: str, data: dict, *, reply_to: str = "m1", activity_id=None,
              conversation=None) -> dict:
        activity = self.activity(user, conversation=conversation, type="invoke",
                                 name="adaptiveCard/action", replyToId=reply_to, value={
                                     "action": {"type": "Action.Execute", "verb": "frontline",
                                                "data": data}, "trigger": "manual"})
        if activity_id:
            activity["id"] = activity_id
        response = self.post(activity)
        assert response.status_code == 200, response.text
        return response.json()

    def settle(self) -> None:
        """Wait until every stored activity's turn has run (or failed)."""
        settled(self.platform.adapter.inbox.pool)

    def narrow(self, threads: int, queue: int) -> threading.Event:
        """A pool this small with its one thread held until the returned gate is set."""
        inbox = self.platform.adapter.inbox
        inbox.pool.stop()
        inbox.pool = WorkPool("teams-test", threads, queue)
        gate = threading.Event()
        assert inbox.pool.submit(gate.wait)
        return gate

    def deliver(self, hours_later: int = 0) -> int:
        """Run the outbox, `hours_later` (past the back-off of failed deliveries)."""
        return dispatch_pending(self.engine, self.platform.channels(), now=lambda: datetime.now(
            UTC) + timedelta(hours=hours_later))


@contextmanager
def running(org: Engine, fake: FakeTeams, people: dict[str, str] = USERS,
            **extra) -> Iterator[Bot]:
    """The platform behind /api/messages, `people` (handle -> Entra object id) linked;
    `extra` its settings. The app's client secret is in the environment throughout (a
    rebuilt platform reads it too)."""
    with transaction(org) as session:
        for handle, aad in people.items():
            session.add(ChatIdentity(employee_id=employee(org, handle).id, platform="teams",
                                     platform_user_id=aad))
    with mock.patch.dict(os.environ, {"TEAMS_APP_SECRET": SECRET}), \
            fake.serve() as fake_url:
        fake.url = fake_url
        platform = build(org, teams_config(fake_url, **extra))
        with serving(platform) as bot_url:
            yield Bot(bot_url, org, fake, platform)


@dataclass
class Ack:
    """What Teams got for an activity: the HTTP answer, and what the bot said in reply
    to the activity before giving it (a full pool's "send it again")."""

    response: httpx.Response
    replies: list[str]


def invoke_text(answer: dict) -> str:
    """What an invoke's answer shows the person who clicked: a note, or the card redrawn."""
    value = answer.get("value")
    if isinstance(value, str):
        return value
    blocks = value.get("body", []) if isinstance(value, dict) else []
    return "\n".join(filter(None, (block.get("text", "") for block in blocks)))


def buttons(card: dict, inputs: tuple[str, ...] = ()) -> Iterator[tuple[dict, tuple[str, ...]]]:
    """Every Action.Execute of a card (inside Action.ShowCard too), with the ids of the
    inputs of the card it is on: Teams sends their values with its data."""
    here = inputs + tuple(block["id"] for block in card.get("body", [])
                          if block.get("type", "").startswith("Input.") and "id" in block)
    for action in card.get("actions", []):
        if action.get("type") == "Action.Execute":
            yield action, here
        elif action.get("type") == "Action.ShowCard":
            yield from buttons(action.get("card", {}), here)


class TeamsDriver(Driver):
    name = "teams"

    def __init__(self, bot: Bot):
        self.bot, self.engine, self.fake = bot, bot.engine, bot.fake
        # invoke answers, shown to who clicked: (Connector calls made before it, who, text)
        self.pressed: list[tuple[int, str, str]] = []
        self.busy = render_message(Message("busy.retry"),
                                   bot.platform.adapter.config.organisation.default_locale)

    @property
    def inbox(self):
        return self.bot.platform.adapter.inbox

    @property
    def channels(self):
        adapter = self.bot.platform.adapter  # a Retry-After waited out on the fake's clock
        return channels(adapter.engine, adapter.cloud, adapter.config, sleep=self.fake.advance)

    @property
    def config(self):
        return self.bot.platform.adapter.config

    @staticmethod
    def user(handle: str) -> str:
        return PEOPLE.get(handle, STRANGER)

    def event(self, handle: str, text: str) -> dict:
        entities = []

        def picked(found) -> str:
            shown, entity = mention(self.user(found[1]), found[1])
            entities.append(entity)
            return shown

        text = MENTION.sub(picked, text)
        activity = self.bot.activity(self.user(handle), text=text,
                                     **({"entities": entities} if entities else {}))
        self.fake.heard(activity)  # typed in a chat that exists
        return activity

    def deliver(self, event: dict, token: str = "mint") -> Ack:
        before = len(self.fake.calls)
        response = self.bot.post(event, token=token)
        replies = [self.fake.text_of(params) for method, params in self.fake.calls[before:]
                   if method == "reply" and params["activity_id"] == event["id"]]
        return Ack(response, replies)

    def forge(self, event: dict) -> Ack:
        return self.deliver(event, token=self.fake.mint(key=new_key()))

    def acked(self, ack: Ack) -> bool:
        return ack.response.status_code == 200 and self.busy not in ack.replies

    def asked_again(self, ack: Ack) -> bool:
        # the Connector reply is sent before the request is answered: it is in the ack
        return ack.response.status_code == 200 and self.busy in ack.replies

    def refused(self, ack: Ack) -> bool:
        return ack.response.status_code == 401

    def stored(self, event: dict) -> tuple[str, str, dict]:
        claims = jwt.decode(self.fake.mint(), options={"verify_signature": False})
        return f"teams:activity:{event['id']}", "activity", {"activity": event,
                                                             "claims": claims}

    def answers(self, handle: str) -> list[str]:
        chat = personal(self.user(handle))
        shown = [((at, 0), text) for at, who, text in self.pressed if who == handle]
        shown += [((index, 1), self.fake.text_of(params))
                  for index, (method, params) in enumerate(list(self.fake.calls))
                  if method in SHOWN and params["conversation"] == chat]
        return [text for _order, text in sorted(shown, key=lambda item: item[0])]

    def press(self, handle: str, command: str) -> None:
        post, data, inputs = next(
            (params, action["data"], inputs) for method, params in reversed(list(self.fake.calls))
            if method in ("send", "reply")
            for attachment in params["activity"].get("attachments") or []
            for action, inputs in buttons(attachment["content"])
            if action.get("data", {}).get("command") == command)
        typed = {name: f"typed by {handle}" for name in inputs}  # e.g. Decline's reason
        user = self.user(handle)
        answer = self.bot.click(user, {**data, **typed}, reply_to=post["id"],
                                conversation=personal(user))
        self.pressed.append((len(self.fake.calls), handle, invoke_text(answer)))

    def throttle_next_send(self) -> None:
        self.fake.fail("send", status=429, retry_after=1)  # "Retry-After: 1"

    # --- a real install ---------------------------------------------------------
    reaches_first = True  # once the app is installed for them, the bot opens the chat

    @property
    def platform(self) -> TeamsPlatform:
        return self.bot.platform

    def user_id(self, handle: str) -> str:
        return self.user(handle)

    def never_wrote(self, handle: str) -> None:
        self.fake.never_wrote(self.user(handle))
        references.forget(self.engine, personal(self.user(handle)))

    def told_unreachable(self, handle: str) -> bool:
        hana = employee(self.engine, "hana")
        told = render_message(Message("teams.unreachable.not_installed", {
            "name": employee(self.engine, handle).name}), hana.locale)
        return told in self.answers("hana")

    def shared_posts(self) -> list[str]:
        return [self.fake.text_of(p) for p in self.fake.sent() if p["conversation"] == ALL_STAFF]

    def fits(self, text: str) -> bool:
        return cards.size(text) <= limits.TEXT_BYTES

    def withhold_permission(self) -> None:
        self.fake.refuse_tokens("unauthorized_client")  # the app not in the tenant


@contextmanager
def driver(org: Engine) -> Iterator[TeamsDriver]:
    fake = FakeTeams()
    for handle, user in PEOPLE.items():  # installed for everyone by an app setup policy
        fake.install(user, handle)
    fake.add_channel(ALL_STAFF, GENERAL)
    with running(org, fake, people=PEOPLE, all_staff_channel=ALL_STAFF) as bot:
        # The app added to the team: Teams tells the bot of its General channel only.
        added = bot.activity("aad-hana", conversation=GENERAL, kind="channel",
                             type="conversationUpdate", membersAdded=[{"id": f"28:{APP_ID}"}],
                             channelData={"team": {"id": GENERAL}, "tenant": {"id": TENANT}})
        fake.heard(added)
        references.remember(org, Activity.model_validate(added))
        yield TeamsDriver(bot)
