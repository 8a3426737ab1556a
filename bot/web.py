"""The one ASGI app that every webhook endpoint (and later the web pages) lives on."""

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI


def create_app(routers: Iterable[APIRouter]) -> FastAPI:
    app = FastAPI(title="Frontline", docs_url=None, redoc_url=None)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"ok": True}

    for router in routers:
        app.include_router(router)
    return app
