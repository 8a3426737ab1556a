"""The Slack driver: the Bolt app on the bot's web app receives correctly signed
requests over real HTTP on 127.0.0.1 (slash commands, button clicks, modal
submissions, events), and its WebClient talks to a local fake of the Slack Web API
(tests/fake_slack.py), which also takes what is posted to a response_url."""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import httpx
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine

from bot.app.web import create_app
from bot.kit import Platform
from bot.kit.config import DEMO_CATALOG, parse_config
from bot.kit.outbox import dispatch_pending
from bot.platforms.slack import limits
from bot.platforms.slack.adapter import SlackAdapter
from bot.platforms.slack.channels import channels
from bot.platforms.slack.mentions import unescape
from bot.platforms.slack.platform import SlackPlatform
from storage.engine import transaction
from storage.models import ChatIdentity
from tests.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, dm_of
from tests.http_servers import serve
from tests.platforms.driver import MENTION, Driver
from tests.support import employee

USERS = {"wang": "UWANG", "alice": "UALICE", "bob": "UBOB", "lilei": "ULILEI", "hana": "UHANA"}
STRANGER = "USTRANGER"
ALL_STAFF, HARBOUR = "CALLSTAFF", "CHARBOUR"  # the all-staff channel, a team's channel
FORM = "application/x-www-form-urlencoded"


def settings(api_url: str, **overrides) -> dict:
    return {"roles": {"employee": {"per_incident_limit": "200"},
                      "supervisor": {"per_incident_limit": "1000"},
                      "hr": {"per_incident_limit": "1000"}},
            "catalog": DEMO_CATALOG,
            "platforms": {"slack": {"enabled": True, "api_base": f"{api_url}/api/",
                                    "all_staff_channel": ALL_STAFF,
                                    "team_channels": {"Harbour Street Store": HARBOUR},
                                    **overrides}}}


dm_channel = dm_of  # the id of the direct-message channel the fake gives a user's DMs


def mention(user_id: str, name: str) -> str:
    """A colleague picked from Slack's @ list, as a slash command with should_escape
    carries it: https://docs.slack.dev/interactivity/implementing-slash-commands#app_command_handling"""
    return f"<@{user_id}|{name}>"


class Slack:
    signer = SignatureVerifier(SIGNING_SECRET)

    def __init__(self, url, api_url, engine, fake, adapter):
        self.url, self.api_url, self.engine, self.fake, self.adapter = (
            url, api_url, engine, fake, adapter)
        self.n = 0

    def post(self, body: str, content_type: str, *, timestamp: int | None = None,
             signature: str | None = None, headers: dict | None = None) -> httpx.Response:
        timestamp = timestamp or int(time.time())
        signature = signature or self.signer.generate_signature(timestamp=str(timestamp),
                                                                body=body)
        self.fake.issue_in(_carried(body, content_type))  # Slack sends it now
        return httpx.post(f"{self.url}/slack/events", content=body.encode(), timeout=10,
                          headers={"Content-Type": content_type, "X-Slack-Signature": signature,
                                   "X-Slack-Request-Timestamp": str(timestamp),
                                   **(headers or {})})

    def slash(self, handle: str, text: str, trigger: str | None = None,
              command: str = "/frontline") -> dict:
        """A slash command's fields as Slack posts them (not yet sent); its response_url
        ends in its trigger id."""
        self.n += 1
        trigger = trigger or f"trig{self.n}"
        return {"command": command, "text": text, "user_id": USERS.get(handle, handle),
                "team_id": "T0001", "channel_id": "CDM", "trigger_id": trigger,
                "response_url": f"{self.api_url}/respond/{trigger}"}

    def command(self, handle: str, text: str, command: str = "/frontline", **kwargs) -> dict:
        """Runs a slash command; returns what was posted to its response_url."""
        before = len(self.fake.responses)
        body = urlencode(self.slash(handle, text, command=command))
        response = self.post(body, FORM, **kwargs)
        assert response.status_code == 200, response.text
        return self.fake.wait_for_response(before + 1)

    def interact(self, payload: dict, **kwargs) -> httpx.Response:
        return self.post(urlencode({"payload": json.dumps(payload)}), FORM, **kwargs)

    def click(self, handle: str, value: str, message: dict, channel: str) -> httpx.Response:
        """`handle` clicks the button carrying `value`; its response_url ends in
        click<n>, n being `self.n` once counted."""
        self.n += 1
        return self.interact({
            "type": "block_actions", "user": {"id": USERS[handle]}, "team": {"id": "T0001"},
            "trigger_id": f"trig{self.n}", "api_app_id": "A1",
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel},
            "channel": {"id": channel}, "message": message,
            "response_url": f"{self.api_url}/respond/click{self.n}",
            "actions": [{"action_id": "frontline:0", "block_id": "b", "type": "button",
                         "value": value, "action_ts": f"{time.time():.6f}"}]})

    def submit(self, handle: str, view: dict, values: dict, view_id: str = "V100"
               ) -> httpx.Response:
        """`handle` submits the modal `view` with `values` by block id, each in the state
        its element gives (a list for a multiple choice)."""
        kinds = {b["block_id"]: b["element"]["type"] for b in view.get("blocks", [])
                 if b.get("type") == "input"}
        state = {block_id: {"value": {"type": kinds.get(block_id, "plain_text_input"),
                                      **_state(kinds.get(block_id), value)}}
                 for block_id, value in values.items()}
        return self.interact({
            "type": "view_submission", "user": {"id": USERS[handle]}, "team": {"id": "T0001"},
            "api_app_id": "A1", "view": {**view, "id": view_id, "state": {"values": state}}})

    def event(self, event: dict, event_id: str, **kwargs) -> httpx.Response:
        body = json.dumps({"type": "event_callback", "team_id": "T0001", "api_app_id": "A1",
                           "event_id": event_id, "event_time": int(time.time()),
                           "event": event})
        return self.post(body, "application/json", **kwargs)

    def channels(self) -> list:
        return channels(self.adapter.client, self.engine, self.adapter.config)

    def dispatch(self, later: timedelta = timedelta(0)) -> int:
        """Deliver what is due `later` from now (a retry waits out its back-off)."""
        return dispatch_pending(self.engine, self.channels(),
                                now=lambda: datetime.now(UTC) + later)

    def dm(self, handle: str) -> list[dict]:
        return [p for p in self.fake.sent("chat.postMessage") if p["channel"] == USERS[handle]]


def _state(kind: str | None, value) -> dict:
    """An element's answer as a view_submission carries it in view.state.values:
    https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload"""
    if kind == "static_select":
        return {"selected_option": {"value": value}}
    if kind == "users_select":
        return {"selected_user": value}
    if kind == "multi_users_select":
        return {"selected_users": value}
    if kind == "checkboxes":
        return {"selected_options": [{"value": chosen} for chosen in value]}
    return {"value": value}


def _carried(body: str, content_type: str) -> dict:
    """What a request's body carries that Slack issued with it (trigger, response_url)."""
    if content_type != FORM:
        return {}
    fields = dict(parse_qsl(body))
    return json.loads(fields["payload"]) if "payload" in fields else fields


def text_of(posted: dict) -> str:
    return json.dumps(posted.get("blocks", []), ensure_ascii=False) + posted.get("text", "")


@contextmanager
def running(org: Engine, fake: FakeSlack, **overrides) -> Iterator[Slack]:
    """The adapter behind /slack/events, its people linked; `overrides` its settings."""
    with transaction(org) as session:
        for handle, user_id in USERS.items():
            session.add(ChatIdentity(employee_id=employee(org, handle).id, platform="slack",
                                     platform_user_id=user_id))
    fake.members.update({user_id: handle for handle, user_id in USERS.items()},
                        **{STRANGER: "stranger"})
    with fake.serve() as api_url:
        config = parse_config(settings(api_url, **overrides))
        adapter = SlackAdapter(org, config, BOT_TOKEN, SIGNING_SECRET)
        with serve(create_app([adapter.router()])) as bot_url:
            yield Slack(bot_url, api_url, org, fake, adapter)


class SlackDriver(Driver):
    """HTTP mode, the slash command its way in: a command is acknowledged empty and
    answered at its response_url, so the driver remembers whose each response_url is."""

    name = "slack"

    def __init__(self, slack: Slack):
        self.slack, self.engine, self.fake = slack, slack.engine, slack.fake
        self.owners: dict[str, str] = {}  # a response_url's last part -> whose it is

    @property
    def inbox(self):
        return self.slack.adapter.inbox

    @property
    def channels(self):
        return self.slack.channels()

    @property
    def config(self):
        return self.slack.adapter.config

    def event(self, handle: str, text: str) -> dict:
        text = MENTION.sub(lambda m: mention(self.user_id(m[1]), m[1]), text)
        command = self.slack.slash(USERS.get(handle, STRANGER), text)
        self.owners[command["response_url"].rsplit("/", 1)[1]] = handle
        return command

    def deliver(self, event: dict) -> httpx.Response:
        return self.slack.post(urlencode(event), FORM)

    def forge(self, event: dict) -> httpx.Response:
        return self.slack.post(urlencode(event), FORM, signature="v0=" + "0" * 64)

    def acked(self, ack: httpx.Response) -> bool:
        return ack.status_code == 200 and not ack.content  # a plain, prompt ack

    def asked_again(self, ack: httpx.Response) -> bool:
        # Slack does not send a slash command again: the ack itself asks the person,
        # shown to them only
        answer = ack.json() if ack.status_code == 200 and ack.content else {}
        return (answer.get("response_type") == "ephemeral"
                and "very busy" in answer.get("text", ""))

    def refused(self, ack: httpx.Response) -> bool:
        return ack.status_code == 401

    def stored(self, event: dict) -> tuple[str, str, dict]:
        return f"slack:command:{event['trigger_id']}", "command", event

    def answers(self, handle: str) -> list[str]:
        user = USERS.get(handle, STRANGER)
        return [unescape(params.get("text", "")) for method, params in list(self.fake.calls)
                if self._shown(handle, user, method, params)]  # as Slack shows mrkdwn

    def _shown(self, handle: str, user: str, method: str, params: dict) -> bool:
        if method == "respond":  # an answer to a command or a click, at its response_url
            return self.owners.get(params["token"]) == handle
        if method in ("chat.postMessage", "chat.update"):  # a DM, a card rewritten
            return params.get("channel") in (user, dm_channel(user))
        return False

    def press(self, handle: str, command: str) -> None:
        cards = self.fake.sent("chat.postMessage")
        at, card = next((at, card) for at, card in reversed(list(enumerate(cards)))
                        if command in json.dumps(card.get("blocks", [])))
        message = {"ts": f"{1700 + at}.000100", "blocks": card["blocks"], "text": card["text"]}
        channel = card["channel"]
        self.owners[f"click{self.slack.n + 1}"] = handle  # the url Slack.click gives it
        assert self.slack.click(handle, command, message,
                                dm_channel(channel) if channel.startswith("U") else channel
                                ).status_code == 200

    def throttle_next_send(self) -> None:
        self.fake.fail("chat.postMessage", status=429, retry_after=1)  # "Retry-After: 1"

    # --- a real install ---------------------------------------------------------
    reaches_first = True  # a bot may DM any member by their id (the DM opens)

    @property
    def platform(self) -> Platform:
        return SlackPlatform(self.slack.adapter)

    def user_id(self, handle: str) -> str:
        return USERS.get(handle, STRANGER)

    def never_wrote(self, handle: str) -> None:
        self.fake.never_wrote(self.user_id(handle))

    def told_unreachable(self, handle: str) -> bool:
        return False  # Slack reaches everyone in the workspace

    def shared_posts(self) -> list[str]:
        return [text_of(p) for p in self.fake.sent("chat.postMessage")
                if p["channel"] == ALL_STAFF]

    def fits(self, text: str) -> bool:
        return len(text) <= limits.MESSAGE_TEXT

    def withhold_permission(self) -> None:
        self.fake.withhold("im:history")  # typed DMs would no longer arrive


@contextmanager
def driver(org: Engine) -> Iterator[SlackDriver]:
    with running(org, FakeSlack()) as slack:
        yield SlackDriver(slack)
