"""The one ASGI app that every webhook endpoint (and later the web pages) lives on."""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

Hook = Callable[[], Awaitable[None]]


def create_app(routers: Iterable[APIRouter], on_start: Iterable[Hook] = (),
               on_stop: Iterable[Hook] = ()) -> FastAPI:
    """`on_start`/`on_stop` run inside the server's event loop (e.g. a Telegram bot
    that polls, or sends for the outbox, from that loop)."""
    on_start, on_stop = list(on_start), list(on_stop)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for start in on_start:
            await start()
        try:
            yield
        finally:
            for stop in on_stop:
                await stop()

    app = FastAPI(title="Frontline", docs_url=None, redoc_url=None, lifespan=lifespan)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"ok": True}

    for router in routers:
        app.include_router(router)
    return app
