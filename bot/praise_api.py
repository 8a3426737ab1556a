"""POST /api/praise: a survey or feedback tool pushes customer praise.

The body is JSON; the tool signs `<timestamp>.<body>` with HMAC-SHA256 under the
shared secret and sends `X-Frontline-Timestamp` and `X-Frontline-Signature:
sha256=<hex>`. A bad signature or a timestamp outside the window is refused; the
same (source, source_id) twice credits once and answers as the first time. Every
text field is bounded by the limits of `handlers.limits` and may hold no character a
store cannot keep (NUL; a lone surrogate is already invalid JSON).
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

from bot.config import Config
from handlers import limits, praise
from handlers.base import ACTIVE_BY_HANDLE
from handlers.dispatch import find_sender
from storage.engine import transaction
from storage.models import CommandReceipt

SIGNATURE_PREFIX = "sha256="


class PraisePush(BaseModel):
    employee: str | None = Field(default=None, max_length=limits.WORD,
                                 description="directory handle")
    platform: str | None = Field(default=None, max_length=limits.WORD,
                                 description="or a chat platform …")
    chat_id: str | None = Field(default=None, max_length=limits.ID,
                                description="… and the person's id there")
    text: str = Field(min_length=1, max_length=limits.FIELDS["text"])
    audio_url: str | None = Field(default=None, max_length=limits.FIELDS["attachment"],
                                  pattern=r"^https://\S+$")
    source: str = Field(min_length=1, max_length=40, pattern=r"^[\w.-]+$")
    source_id: str = Field(min_length=1, max_length=limits.ID)

    @model_validator(mode="after")
    def _storable(self) -> "PraisePush":
        for name, value in self:
            if isinstance(value, str) and not limits.storable(value):
                raise ValueError(f"{name} holds a NUL byte or a lone surrogate")
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


def router(engine: Engine, config: Config, secret: str,
           clock: Callable[[], float] = time.time) -> APIRouter:
    api = APIRouter()

    @api.post("/api/praise", status_code=201)
    async def push_praise(request: Request):
        body = await request.body()
        stamp = request.headers.get("X-Frontline-Timestamp", "")
        given = request.headers.get("X-Frontline-Signature", "")
        if not _fresh(stamp, clock(), config.web.praise_window_seconds):
            return JSONResponse({"error": "stale or missing X-Frontline-Timestamp"}, 401)
        # Bytes, not str: compare_digest refuses a str with non-ASCII characters.
        if not hmac.compare_digest(given.encode("utf-8", "replace"),
                                   signature(secret, stamp, body).encode()):
            return JSONResponse({"error": "bad X-Frontline-Signature"}, 401)
        try:
            push = PraisePush.model_validate_json(body)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            return JSONResponse({"error": f"{where}: {first['msg']}"}, 422)
        return _credit(engine, config, push)

    return api


def _credit(engine: Engine, config: Config, push: PraisePush) -> JSONResponse:
    key = f"praise-api:{push.source}:{push.source_id}"
    now = datetime.now(UTC)
    try:
        with transaction(engine) as session:
            done = session.get(CommandReceipt, key)
            if done is not None:
                return JSONResponse({**done.reply, "duplicate": True}, 200)
            if push.employee:
                person = session.exec(ACTIVE_BY_HANDLE,
                                      params={"handle": push.employee.lower()}).first()
            else:
                person = find_sender(session, push.platform, push.chat_id)
            if person is None:
                return JSONResponse({"error": "no active person with that handle or chat id"},
                                    422)
            credited = praise.receive(session, config, now, person, push.text,
                                      push.audio_url or "", f"webhook:{push.source}")
            answer = {"praise": f"P{credited.id}", "employee": person.handle,
                      "points": config.points.praise}
            session.add(CommandReceipt(key=key, reply=answer, created_at=now))
            return JSONResponse(answer, 201)
    except IntegrityError:  # the same push twice at once: the other one credited it
        with transaction(engine) as session:
            return JSONResponse({**session.get(CommandReceipt, key).reply, "duplicate": True},
                                200)
