"""The one ASGI app that every webhook endpoint and the web console live on.

Every request body is bounded before it is read (`BodyLimit`): a platform's routes take
what the platform declares (`Platform.body_limit`), every other route the default (the
web console's forms, the JSON API, a praise letter or a feedback response). A
declared Content-Length over it is answered 413 at once; a chunked body is counted as
it streams and answered 413 as soon as it passes the limit, so nobody can make the
server hold a body it would refuse. These refusals come before any route, so they say
why in plain text in the language the request's Accept-Language prefers."""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import ExitStack, asynccontextmanager
from urllib.parse import unquote_to_bytes

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.app import health
from bot.kit import metrics
from handlers.base import Message as Text
from handlers.i18n import language_tag, preferred_locale, render_message
from storage.errors import FrontlineError

Hook = Callable[[], Awaitable[None]]

# The largest request body a route takes unless its platform says more: the web
# console's forms, the JSON API, a praise letter or a feedback response as JSON.
DEFAULT_BODY_LIMIT = 64 * 1024


class BodyTooLarge(FrontlineError):
    """A request body passed its route's limit while it was being read."""


class BodyLimit:
    """ASGI middleware: 413 for a body over its path's limit, without reading it all."""

    def __init__(self, app: ASGIApp, limits: Mapping[str, int],
                 default: int = DEFAULT_BODY_LIMIT) -> None:
        self.app, self.limits, self.default = app, limits, default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(scope, send, limit)
            return
        received, over, started = 0, False, False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise BodyTooLarge(f"request body over {limit} bytes")
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if over:  # whatever the route made of the error, the answer is 413
                if not started and message["type"] == "http.response.start":
                    started = True
                    await _too_large(scope, send, limit)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except BodyTooLarge:
            if not started:
                started = True
                await _too_large(scope, send, limit)


class NoNulInAddress:
    """ASGI middleware: 400 for a NUL byte in a request's path or query. No store keeps
    one (PostgreSQL refuses it in any text), so no lookup may be asked for one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"] or _has_nul(
                scope.get("query_string", b""))):
            await _refuse(scope, send, 400, Text("web.error.nul"))
            return
        await self.app(scope, receive, send)


def _has_nul(query: bytes) -> bool:
    return b"\x00" in unquote_to_bytes(query)


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    await _refuse(scope, send, 413, Text("web.error.too_large", {"limit": limit}))


async def _refuse(scope: Scope, send: Send, status: int, reason: Text) -> None:
    asked = dict(scope["headers"]).get(b"accept-language", b"")
    locale = preferred_locale(asked.decode("latin-1"))
    body = render_message(reason, locale).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-language", language_tag(locale).encode()),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def create_app(routers: Iterable[APIRouter], on_start: Iterable[Hook] = (),
               on_stop: Iterable[Hook] = (), *, engine: Engine | None = None,
               platforms: health.Readiness = dict,
               webhooks: Mapping[str, str] | None = None,
               body_limits: Mapping[str, int] | None = None) -> FastAPI:
    """`on_start`/`on_stop` run inside the server's event loop (e.g. a Telegram bot
    that polls, or sends for the outbox, from that loop). With the `engine` the app
    also answers `/readyz` (the database, its migrations and the `platforms`) and
    `/metrics`, counting what runs on that engine while it serves, and timing the
    acknowledgement of each of the `webhooks` (path -> platform). A request body over
    its path's limit (`body_limits`, else the default) is refused unread."""
    on_start, on_stop = list(on_start), list(on_stop)
    measured = metrics.Metrics(engine) if engine is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as counting:
            if measured is not None:
                counting.enter_context(metrics.serving(measured))
            for start in on_start:
                await start()
            try:
                yield
            finally:
                for stop in on_stop:
                    await stop()

    app = FastAPI(title="Frontline", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.add_middleware(BodyLimit, limits=body_limits or {})
    app.add_middleware(NoNulInAddress)
    if measured is not None:
        app.add_middleware(metrics.AckTimer, metrics=measured, webhooks=webhooks or {})
        app.include_router(health.router(engine, platforms))
        app.include_router(metrics.router(measured))

    @app.get("/healthz")
    def healthz() -> dict:
        """Alive: answers without touching the database (see `/readyz`)."""
        return {"ok": True}

    for router in routers:
        app.include_router(router)
    return app
