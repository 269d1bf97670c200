"""The API's composition: ``create_app`` builds the FastAPI application for one process."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api import (
    alerts,
    articles,
    dashboard,
    deliveries,
    exports,
    health,
    metrics,
    openapi,
    places,
    problems,
    sources,
    stream,
    strict,
    subscriptions,
)
from services.api.admission import Admission
from services.api.deps import ApiState
from services.api.mapsvg import STATIC_DIR
from services.bus import Bus
from services.db import sessionmaker
from services.settings import Settings

DESCRIPTION = """\
Alerts, articles, places and sources of Drawdown, a multilingual news watch for
reports of foreign forces withdrawing from named military bases.

Lists are newest first and paginated by cursor (`next`). Errors are RFC 9457
problem details (`application/problem+json`). Write endpoints need
`Authorization: Bearer <DRAWDOWN_API_TOKEN>`, checked before the body is read;
a body over `DRAWDOWN_API_MAX_BODY_BYTES` is refused with 413.
"""


def create_app(
    settings: Settings,
    engine: AsyncEngine,
    *,
    bus: Bus | None = None,
) -> FastAPI:
    """The application over ``engine``; ``bus``, if given, is checked by /readyz and its
    processor lag shown by /metrics.

    The caller owns the engine and the bus (opens and closes them); the app holds one
    sessionmaker over the engine. Give an in-process bus only where the processor
    shares it (``drawdown run``): anywhere else it is an empty bus of the API's own.
    """
    # Interactive docs at /docs with Swagger UI's files served by the app itself (no CDN).
    app = FastAPIOffline(
        title="Drawdown",
        version="1",
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        static_url="/docs/assets",
        dependencies=[Depends(strict.known_query_only)],
    )
    app.state.api = ApiState(settings, engine, sessionmaker(engine), bus)
    problems.install(app)
    # Runs before any route: the token of a write, then the body cap (services/api/admission.py).
    app.add_middleware(Admission, settings=settings)
    for module in (
        stream,  # before alerts: /alerts/stream is not an alert id
        exports,
        alerts,
        articles,
        places,
        sources,
        subscriptions,
        deliveries,
        health,
        metrics,
        dashboard,
    ):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    openapi.install(app)
    return app
