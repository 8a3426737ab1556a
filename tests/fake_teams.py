"""A local fake of what a Teams bot talks to: the token issuer (its OpenID metadata,
its JWKS from an RSA key made here, the client-credentials token endpoint) and the
Bot Connector (the activities of a conversation: posts, replies, updates; creating a
personal conversation; a conversation's members), which records what the bot sent
and answers 429/500 on demand.

It is as strict as Teams where Frontline depends on it (each rule cites Microsoft's
documentation; the numbers are bot/platforms/teams/limits.py): the bot posts only
into conversations it is in (Teams told it of them: `heard`), creates a personal
conversation only with someone the app is installed for (`install`), sends activities
of a bounded size at a bounded rate per conversation, and gets a token only while
the app registration grants one (`refuse_tokens`).

`dialog_problems` reads a dialog the bot answers an invoke with as Teams renders it.

`mint` signs the tokens Teams would send with requests to /api/messages."""

import base64
import itertools
import json
import math
import time
from collections import deque
from dataclasses import dataclass, field

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bot.platforms.teams import limits
from tests.fake_api import Failure, FakeApi

APP_ID, TENANT, SECRET = "00000000-feed-4bee-8000-00000000f00d", "tenant-1", "app-secret"
ISSUER = "https://api.botframework.com"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# The Bot Connector's refusals, as it words them.
# https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/conversation-messages#status-codes-from-bot-conversational-apis
NOT_FOUND = (404, "ConversationNotFound", "Conversation not found.")
NOT_INSTALLED = (403, "BotNotInConversationRoster",
                 "The bot isn't part of the conversation roster.")
ERRORS = {  # the token endpoint's, with the AADSTS codes Entra gives
    "invalid_client": "AADSTS7000215: Invalid client secret provided.",
    "unauthorized_client": "AADSTS700016: Application with identifier was not found in "
                           "the directory.",
}


# People Picker's datasets: the organisation's directory, or the conversation's members.
# https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/people-picker#dataset
PEOPLE_DATASETS = ("graph.microsoft.com/users", "graph.microsoft.com/users?scope=currentContext")


def dialog_problems(answer: dict) -> list[str]:
    """What Teams would not show of a dialog (task module) the bot answers with: a
    `continue` carries an Adaptive Card whose inputs have unique ids; a choice set
    offers choices with a title and a value, or is a People Picker (`choices.data` a
    Data.Query of a known dataset, cards from version 1.2), whose value is Entra
    object ids, several (comma-separated) only when it is multi-select; a toggle has a
    title and a value that is its valueOn or valueOff.
    https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/what-are-task-modules
    https://adaptivecards.io/explorer/Input.ChoiceSet.html
    https://adaptivecards.io/explorer/Input.Toggle.html"""
    task = answer.get("task") or {}
    if task.get("type") == "message":
        return [] if isinstance(task.get("value"), str) else ["a message dialog without text"]
    attached = (task.get("value") or {}).get("card") or {}
    if task.get("type") != "continue" or \
            attached.get("contentType") != "application/vnd.microsoft.card.adaptive":
        return ["not a dialog with an Adaptive Card"]
    card, problems, ids = attached.get("content") or {}, [], set()
    version = tuple(int(n) for n in str(card.get("version", "0")).split("."))
    for block in card.get("body") or []:
        kind, name = block.get("type", ""), block.get("id")
        if kind.startswith("Input.") and (not name or name in ids):
            problems.append(f"{kind} without a unique id: {name!r}")
        ids.add(name)
        if kind == "Input.ChoiceSet":
            problems += _choice_problems(block, version)
        if kind == "Input.Toggle" and (not block.get("title") or block.get("value") not in (
                block.get("valueOn", "true"), block.get("valueOff", "false"))):
            problems.append(f"toggle {name} needs a title and a value it can take")
    return problems


def _choice_problems(block: dict, version: tuple[int, ...]) -> list[str]:
    name, data = block.get("id"), block.get("choices.data")
    if data is None:
        if not all(c.get("title") and c.get("value") for c in block.get("choices") or []) \
                or not block.get("choices"):
            return [f"choice set {name} needs choices with a title and a value"]
        return []
    problems = []
    if data.get("type") != "Data.Query" or data.get("dataset") not in PEOPLE_DATASETS:
        problems.append(f"people picker {name} queries no known dataset")
    if version < (1, 2) or not isinstance(block.get("choices"), list):
        problems.append(f"people picker {name} needs a card of 1.2 or later and choices")
    if "," in str(block.get("value") or "") and not block.get("isMultiSelect"):
        problems.append(f"people picker {name} picks one person, not several")
    return problems


def personal_id(aad: str) -> str:
    """The id Teams (and the fake) gives a person's personal chat with the bot."""
    return f"a:personal-{aad}"


def refusal(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status,
                        headers=headers)


@dataclass
class FakeTeams(FakeApi):
    MESSAGES = "send"
    RECIPIENT = "conversation"

    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    kid: str = "fake-key-1"
    tokens_issued: list[str] = field(default_factory=list)
    key_fetches: int = 0
    url: str = ""  # its base URL once served
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # name -> data, type
    certificate: x509.Certificate | None = None  # registered for the app, if any
    assertions: list[dict] = field(default_factory=list)  # the ones accepted
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    # --- what Teams knows of the bot's install ---------------------------------
    installed: set[str] = field(default_factory=set)  # Entra object ids with the app
    conversations: set[str] = field(default_factory=set)  # the ones the bot is in
    channels: dict[str, str] = field(default_factory=dict)  # channel id -> team id
    teams: set[str] = field(default_factory=set)  # the teams the app was added to
    names: dict[str, str] = field(default_factory=dict)  # Entra object id -> name shown
    token_error: str | None = None  # the token endpoint refuses the app so, if set
    # Sends per conversation, by the fake's clock (`advance` moves it, for a test that
    # must not wait out a real Retry-After).
    offset: float = 0.0
    _sent_at: dict[tuple[str, str], deque] = field(default_factory=dict)

    # --- the install, as a test sets it up ------------------------------------
    def install(self, aad: str, name: str = "") -> None:
        """The app installed for the person (by themselves, or an admin's app setup
        policy): the bot may create their personal conversation."""
        self.installed.add(aad)
        self.names[aad] = name or aad

    def never_wrote(self, aad: str) -> None:
        """The person's personal conversation with the bot does not exist (yet)."""
        self.conversations.discard(personal_id(aad))

    def add_channel(self, channel: str, team: str) -> None:
        """A channel of `team` (the team's id is its General channel's)."""
        self.channels[channel] = team

    def heard(self, activity: dict) -> None:
        """Teams sends the bot `activity`: the conversation it comes from exists and the
        bot is in it (a personal chat: the app is installed for its sender)."""
        conversation = activity.get("conversation") or {}
        chat = str(conversation.get("id", "")).split(";", 1)[0]
        sender = activity.get("from") or {}
        if conversation.get("conversationType", "personal") == "personal":
            if sender.get("aadObjectId"):
                self.install(sender["aadObjectId"], sender.get("name", ""))
        else:
            team = ((activity.get("channelData") or {}).get("team") or {}).get("id")
            if conversation.get("conversationType") == "channel":
                team = team or self.channels.get(chat) or chat
                self.channels[chat] = team
                self.teams.add(team)
        self.conversations.add(chat)

    def refuse_tokens(self, error: str = "unauthorized_client") -> None:
        """The token endpoint refuses the app's client-credentials request."""
        self.token_error = error

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def now(self) -> float:
        return time.monotonic() + self.offset

    # --- the rules ------------------------------------------------------------
    def in_conversation(self, conversation: str) -> bool:
        """The bot may post here: a conversation it is in, or a channel of a team it
        was added to (posting to another channel uses the team's reference with that
        channel's id).
        https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/send-proactive-messages"""
        chat = conversation.split(";", 1)[0]
        return chat in self.conversations or self.channels.get(chat) in self.teams

    def throttled(self, scenario: str, conversation: str,
                  windows: tuple[tuple[int, int], ...]) -> int | None:
        """Seconds to wait when this operation would pass a per-bot-per-thread limit
        (None: it may go, and is counted).
        https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/rate-limit#per-bot-per-thread-limit"""
        now = self.now()
        times = self._sent_at.setdefault((scenario, conversation.split(";", 1)[0]), deque())
        longest = max(seconds for seconds, _ in windows)
        while times and times[0] <= now - longest:
            times.popleft()
        wait = 0.0
        for seconds, most in windows:
            inside = [at for at in times if at > now - seconds]
            if len(inside) >= most:
                wait = max(wait, inside[-most] + seconds - now)
        if wait > 0:
            self.failed.append((scenario, Failure(429, "Throttled", max(1, math.ceil(wait)))))
            return max(1, math.ceil(wait))
        times.append(now)
        return None

    def mint(self, *, key: rsa.RSAPrivateKey | None = None, kid: str | None = None,
             **claims) -> str:
        """A token as Teams sends it; `claims` override (None drops one)."""
        now = int(time.time())
        body = {"iss": ISSUER, "aud": APP_ID, "nbf": now - 5, "iat": now - 5,
                "exp": now + 3600, "serviceurl": f"{self.url}/"}
        body.update(claims)
        body = {name: value for name, value in body.items() if value is not None}
        return jwt.encode(body, key or self.key, algorithm="RS256",
                          headers={"kid": kid or self.kid})

    def assertion_holds(self, assertion: str, token_url: str) -> bool:
        """A certificate's client assertion: signed by the registered certificate's key,
        naming it by thumbprint, for this token endpoint, from the app itself."""
        if self.certificate is None or not assertion:
            return False
        thumbprint = base64.urlsafe_b64encode(
            self.certificate.fingerprint(hashes.SHA1())).decode().rstrip("=")
        try:
            if jwt.get_unverified_header(assertion).get("x5t") != thumbprint:
                return False
            claims = jwt.decode(assertion, self.certificate.public_key(), algorithms=["RS256"],
                                audience=token_url, issuer=APP_ID)
        except jwt.PyJWTError:
            return False
        self.assertions.append(claims)
        return claims.get("sub") == APP_ID

    def text_of(self, params: dict) -> str:
        activity = params["activity"]
        texts = [activity.get("text") or ""]
        for attachment in activity.get("attachments") or []:
            texts += [b.get("text", "") for b in attachment["content"].get("body", [])]
        return "\n".join(filter(None, texts))

    def cards(self, method: str | None = None) -> list[dict]:
        return [a["content"] for p in self.sent(method) for a in
                p["activity"].get("attachments") or []]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/openid")
        def openid(request: Request):
            base = str(request.base_url).rstrip("/")
            return {"issuer": ISSUER, "jwks_uri": f"{base}/keys",
                    "id_token_signing_alg_values_supported": ["RS256"]}

        @app.get("/files/{name}")
        def download(name: str):  # a file's pre-authorised download URL
            if name not in self.files:
                return JSONResponse({"error": "not found"}, status_code=404)
            data, content_type = self.files[name]
            return Response(data, media_type=content_type)

        @app.get("/keys")
        def keys():
            self.key_fetches += 1
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256",
                              "endorsements": ["msteams"]}]}

        @app.post("/{tenant}/oauth2/v2.0/token")
        async def token(tenant: str, request: Request):
            form = await request.form()
            if self.token_error is not None:  # e.g. the secret deleted, the app removed
                # https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow#error-response
                return JSONResponse({"error": self.token_error, "error_description":
                                     ERRORS.get(self.token_error, self.token_error)},
                                    status_code=401 if self.token_error == "invalid_client"
                                    else 400)
            proven = form.get("client_secret") == SECRET or self.assertion_holds(
                str(form.get("client_assertion") or ""), str(request.url))
            if (tenant, form.get("client_id")) != (TENANT, APP_ID) or not proven \
                    or form.get("grant_type") != "client_credentials":
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            self.tokens_issued.append(f"bot-token-{len(self.tokens_issued) + 1}")
            return {"token_type": "Bearer", "expires_in": 3600,
                    "access_token": self.tokens_issued[-1]}

        async def connector(method: str, request: Request, conversation: str,
                            activity_id: str = "") -> Response:
            header = request.headers.get("Authorization", "")
            if header.removeprefix("Bearer ") not in self.tokens_issued:
                return JSONResponse({"error": "unauthorized"}, status_code=401)
            if (failure := self.injected(method)) is not None:
                return failure
            if not self.in_conversation(conversation):
                return refusal(*NOT_FOUND)
            activity = await request.json()
            # https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/format-your-bot-messages
            size = len(json.dumps(activity, ensure_ascii=False).encode("utf-16-le"))
            if size > limits.ACTIVITY_BYTES:
                return refusal(413, "MessageSizeTooBig", "Message size too large.")
            if (wait := self.throttled("send", conversation, limits.SEND_PER_THREAD)):
                return refusal(429, "Throttled", "Too many requests.",
                               {"Retry-After": str(wait)})
            posted = f"m{next(self._ids)}" if method != "update" else activity_id
            self.record(method, {"conversation": conversation, "activity_id": activity_id,
                                 "activity": activity, "id": posted})
            return {"id": posted}

        def authorised(request: Request) -> bool:
            header = request.headers.get("Authorization", "")
            return header.removeprefix("Bearer ") in self.tokens_issued

        @app.post("/v3/conversations")
        async def create(request: Request):
            """createConversation: a personal chat from the tenant and the person's Entra
            object id, only with someone the app is installed for.
            https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/send-proactive-messages#create-the-conversation"""
            if not authorised(request):
                return JSONResponse({"error": "unauthorized"}, status_code=401)
            if (failure := self.injected("create")) is not None:
                return failure
            body = await request.json()
            members = body.get("members") or []
            tenant = body.get("tenantId") or ((body.get("channelData") or {}).get(
                "tenant") or {}).get("id")
            if tenant != TENANT or len(members) != 1 or body.get("isGroup"):
                return refusal(400, "BadArgument", "A personal conversation needs the "
                               "tenant and one member.")
            aad = str(members[0].get("aadObjectId") or members[0].get("id") or "")
            aad = aad.removeprefix("8:orgid:").removeprefix("29:")
            if aad not in self.installed:
                return refusal(*NOT_INSTALLED)
            chat = personal_id(aad)
            if (wait := self.throttled("create", chat, limits.CREATE_PER_THREAD)):
                return refusal(429, "Throttled", "Too many requests.",
                               {"Retry-After": str(wait)})
            self.conversations.add(chat)
            self.record("create", {"conversation": chat, "body": body})
            return {"id": chat}

        @app.get("/v3/conversations/{conversation}/members/{member}")
        async def member(conversation: str, member: str, request: Request):
            """A member of a conversation, with their Entra object id.
            https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/get-teams-context#get-single-member-details"""
            if not authorised(request):
                return JSONResponse({"error": "unauthorized"}, status_code=401)
            if not self.in_conversation(conversation):
                return refusal(*NOT_FOUND)
            aad = member.removeprefix("29:")
            if aad not in self.names:
                return refusal(404, "MemberNotFoundInConversation", "Member not found.")
            self.record("member", {"conversation": conversation, "member": member})
            return {"id": member, "aadObjectId": aad, "name": self.names[aad],
                    "tenantId": TENANT, "userRole": "user"}

        @app.post("/v3/conversations/{conversation}/activities")
        async def send(conversation: str, request: Request):
            return await connector("send", request, conversation)

        @app.post("/v3/conversations/{conversation}/activities/{activity_id}")
        async def reply(conversation: str, activity_id: str, request: Request):
            return await connector("reply", request, conversation, activity_id)

        @app.put("/v3/conversations/{conversation}/activities/{activity_id}")
        async def update(conversation: str, activity_id: str, request: Request):
            return await connector("update", request, conversation, activity_id)

        return app
