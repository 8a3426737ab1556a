"""The web console for HR, supervisors and staff: pages, sign-in through chat, and
the JSON API, all on the shared web app."""

from fastapi import APIRouter
from sqlalchemy import Engine

from bot.kit.config import Config


def router(engine: Engine, config: Config) -> APIRouter:
    """Every page and API route, bound to this engine and configuration."""
    from bot.webui import api, deps, pages

    console = APIRouter(dependencies=[deps.bind(engine, config)])
    for routes in (*pages.ROUTERS, api.router):
        console.include_router(routes)
    return console
