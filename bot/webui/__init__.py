"""The web console for HR, supervisors and staff: pages, sign-in through chat, and
the JSON API, all on the shared web app."""

from fastapi import APIRouter
from sqlalchemy import Engine

from bot.config import Config


def router(engine: Engine, config: Config) -> APIRouter:
    from bot.webui import api, pages

    combined = APIRouter()
    combined.include_router(pages.router(engine, config))
    combined.include_router(api.router(engine, config))
    return combined
