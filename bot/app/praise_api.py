"""POST /api/praise and POST /api/feedback: survey and feedback tools push the voice
of the customer (praise, NPS, CSAT and CES scores, complaints).

/api/praise takes praise signed the Frontline way: the tool signs `<timestamp>.<body>`
with HMAC-SHA256 under the shared secret and sends `X-Frontline-Timestamp` and
`X-Frontline-Signature: sha256=<hex>`. /api/feedback takes every kind, signed that way
or the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature`;
any tool's stock library signs for it), and the `webhook-id` is an idempotency key
too. A bad signature or a timestamp outside the window is refused; the same (source,
source_id) twice is kept once and answers as the first time. Every text field is
bounded by its limit declared in `handlers.limits` and may hold no character it
refuses (NUL, a lone surrogate, another control character, a bidi override): a 422.
"""

import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError, model_validator
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bot.kit.config import Config, ConfigError
from handlers import feedback, limits, praise
from handlers.base import ACTIVE_BY_HANDLE
from handlers.dispatch import find_sender
from storage.engine import transaction
from storage.models import CommandReceipt

SIGNATURE_PREFIX = "sha256="


class PraisePush(BaseModel):
    employee: str | None = Field(default=None, max_length=limits.limit("employee"),
                                 description="directory handle")
    platform: str | None = Field(default=None, max_length=limits.limit("platform"),
                                 description="or a chat platform …")
    chat_id: str | None = Field(default=None, max_length=limits.limit("chat_id"),
                                description="… and the person's id there")
    text: str = Field(min_length=1, max_length=limits.limit("text"))
    audio_url: str | None = Field(default=None, max_length=limits.limit("audio_url"),
                                  pattern=r"^https://\S+$")
    source: str = Field(min_length=1, max_length=limits.limit("source"),
                        pattern=r"^[\w.-]+$")
    source_id: str = Field(min_length=1, max_length=limits.limit("source_id"))
    customer_ref: str = Field(default="", max_length=limits.limit("customer_ref"),
                              description="the customer, when the tool knows them")

    @model_validator(mode="after")
    def _storable(self) -> "PraisePush":
        for name, value in self:
            if isinstance(value, str) and not limits.storable(value):
                raise ValueError(f"{name} holds {limits.REFUSED_CHARACTERS}")
        return self

    @model_validator(mode="after")
    def _names_someone(self) -> "PraisePush":
        if not self.employee and not (self.platform and self.chat_id):
            raise ValueError("give employee (a directory handle) or platform and chat_id")
        return self


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


def _fresh(stamp: str, now: float, window: int) -> bool:
    """A Unix time in at most 12 ASCII digits within `window` seconds of now
    (`isdigit` alone also takes "²", and `int` refuses that or 5,000 digits)."""
    return len(stamp) <= 12 and stamp.isascii() and stamp.isdigit() \
        and abs(now - int(stamp)) <= window


def _frontline_signed(request: Request, body: bytes, secret: str | None, now: float,
                      window: int) -> JSONResponse | None:
    """None when signed the Frontline way under `secret`, else the refusal."""
    stamp = request.headers.get("X-Frontline-Timestamp", "")
    given = request.headers.get("X-Frontline-Signature", "")
    if not _fresh(stamp, now, window):
        return JSONResponse({"error": "stale or missing X-Frontline-Timestamp"}, 401)
    # Bytes, not str: compare_digest refuses a str with non-ASCII characters.
    if secret is None or not hmac.compare_digest(given.encode("utf-8", "replace"),
                                                 signature(secret, stamp, body).encode()):
        return JSONResponse({"error": "bad X-Frontline-Signature"}, 401)
    return None


def _webhook_signed(request: Request, body: bytes, hook: Webhook | None, now: float,
                    window: int) -> JSONResponse | None:
    """None when signed the Standard Webhooks way, else the refusal. The library checks
    the signature (and its own 5-minute tolerance); the id and the stamp are bounded
    here first, so no header it is handed can make it raise something unexpected."""
    message_id = request.headers.get("webhook-id", "")
    if not message_id or len(message_id) > limits.ID or not message_id.isprintable():
        return JSONResponse({"error": "missing or bad webhook-id"}, 401)
    if not _fresh(request.headers.get("webhook-timestamp", ""), now, window):
        return JSONResponse({"error": "stale or missing webhook-timestamp"}, 401)
    try:
        if hook is None:
            raise WebhookVerificationError("no secret")
        hook.verify(body, dict(request.headers), json_parse=False)
    except (WebhookVerificationError, ValueError, TypeError):
        return JSONResponse({"error": "bad webhook-signature"}, 401)
    return None


def _read(model: type[BaseModel], body: bytes):
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        return JSONResponse({"error": f"{where}: {first['msg']}"}, 422)


WEBHOOKS = {"/api/praise": "praise_api", "/api/feedback": "feedback_api"}  # for metrics


def router(engine: Engine, config: Config, secret: str | None,
           clock: Callable[[], float] = time.time, *,
           feedback_secret: str | None = None) -> APIRouter:
    """/api/praise under the Frontline `secret`; /api/feedback under either secret."""
    api = APIRouter()
    window = config.web.praise_window_seconds
    try:
        hook = Webhook(feedback_secret) if feedback_secret else None
    except ValueError:  # not base64
        raise ConfigError("web.feedback_secret_env: the secret is no whsec_ base64 "
                          "string") from None

    if secret:
        @api.post("/api/praise", status_code=201)
        async def push_praise(request: Request):
            body = await request.body()
            refused = _frontline_signed(request, body, secret, clock(), window)
            if refused is not None:
                return refused
            push = _read(PraisePush, body)
            if isinstance(push, JSONResponse):
                return push
            return _credit(engine, config, push)

    @api.post("/api/feedback", status_code=201)
    async def push_feedback(request: Request):
        body = await request.body()
        standard = "webhook-signature" in request.headers
        refused = (_webhook_signed(request, body, hook, clock(), window) if standard else
                   _frontline_signed(request, body, secret, clock(), window))
        if refused is not None:
            return refused
        item = _read(feedback.FeedbackItem, body)
        if isinstance(item, JSONResponse):
            return item
        message_id = request.headers.get("webhook-id") if standard else None
        return _accept(engine, config, item, message_id)

    return api


def _replayed(session, keys: list[str]) -> JSONResponse | None:
    for key in keys:
        done = session.get(CommandReceipt, key)
        if done is not None:
            return JSONResponse({**done.reply, "duplicate": True}, 200)
    return None


def _accept(engine: Engine, config: Config, item: feedback.FeedbackItem,
            message_id: str | None) -> JSONResponse:
    """Praise is credited as /api/praise credits it; a score or complaint is kept."""
    if item.kind == "praise":
        return _credit(engine, config, PraisePush(
            employee=item.employee, platform=item.platform, chat_id=item.chat_id,
            text=item.text, audio_url=item.audio_url, source=item.source,
            source_id=item.source_id, customer_ref=item.customer_ref), message_id)
    keys = [f"feedback-api:msg:{message_id}"] if message_id else []
    now = datetime.now(UTC)
    try:
        with transaction(engine) as session:
            replayed = _replayed(session, keys)
            if replayed is not None:
                return replayed
            try:
                team_id, employee_id = feedback.resolve(session, item)
            except feedback.FeedbackRefused as refused:
                return JSONResponse({"error": str(refused)}, 422)
            kept = feedback.record(session, item, team_id, employee_id, now, config.themes,
                                   config)
            if kept.id is None:  # the same response from the tool again
                return JSONResponse({"kind": item.kind, "duplicate": True}, 200)
            answer = {"feedback": f"F{kept.id}", "kind": item.kind}
            session.add_all([CommandReceipt(key=key, reply=answer, created_at=now)
                             for key in keys])
            return JSONResponse(answer, 201)
    except IntegrityError:  # the same message twice at once: the other one kept it
        with transaction(engine) as session:
            return _replayed(session, keys) or JSONResponse(
                {"kind": item.kind, "duplicate": True}, 200)


def _credit(engine: Engine, config: Config, push: PraisePush,
            message_id: str | None = None) -> JSONResponse:
    key = f"praise-api:{push.source}:{push.source_id}"
    keys = [key, *([f"feedback-api:msg:{message_id}"] if message_id else [])]
    now = datetime.now(UTC)
    try:
        with transaction(engine) as session:
            replayed = _replayed(session, keys)
            if replayed is not None:
                return replayed
            if push.employee:
                person = session.exec(ACTIVE_BY_HANDLE,
                                      params={"handle": push.employee.lower()}).first()
            else:
                person = find_sender(session, push.platform, push.chat_id)
            if person is None:
                return JSONResponse({"error": "no active person with that handle or chat id"},
                                    422)
            credited = praise.receive(session, config, now, person, push.text,
                                      push.audio_url or "", f"webhook:{push.source}",
                                      push.customer_ref)
            answer = {"praise": f"P{credited.id}", "employee": person.handle,
                      "points": config.points.praise}
            session.add_all([CommandReceipt(key=k, reply=answer, created_at=now)
                             for k in keys])
            return JSONResponse(answer, 201)
    except IntegrityError:  # the same push twice at once: the other one credited it
        with transaction(engine) as session:
            return _replayed(session, keys) or JSONResponse({"duplicate": True}, 200)
