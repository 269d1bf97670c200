"""The API's composition: ``create_app`` builds the FastAPI application for one process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api import (
    alerts,
    articles,
    dashboard,
    health,
    metrics,
    openapi,
    places,
    problems,
    sources,
)
from services.api.deps import ApiState
from services.api.mapsvg import STATIC_DIR
from services.db import sessionmaker
from services.settings import Settings

DESCRIPTION = """\
Alerts, articles, places and sources of Drawdown, a multilingual news watch for
reports of foreign forces withdrawing from named military bases.

Lists are newest first and paginated by cursor (`next`). Errors are RFC 9457
problem details (`application/problem+json`). Write endpoints need
`Authorization: Bearer <DRAWDOWN_API_TOKEN>`.
"""


def create_app(
    settings: Settings,
    engine: AsyncEngine,
    *,
    bus_ready: Callable[[], Awaitable[bool]] | None = None,
) -> FastAPI:
    """The application over ``engine``; ``bus_ready``, if given, is part of /readyz.

    The caller owns the engine (opens and disposes of it); the app holds one
    sessionmaker over it.
    """
    app = FastAPI(
        title="Drawdown",
        version="1",
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.api = ApiState(settings, engine, sessionmaker(engine), bus_ready)
    problems.install(app)
    for module in (alerts, articles, places, sources, health, metrics, dashboard):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    openapi.install(app)
    return app
