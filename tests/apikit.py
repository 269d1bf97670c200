"""Helpers for the HTTP API tests: a PostgreSQL database holding the replayed seeds, and
in-process clients of the app.

The seeded database is made once per test session (a copy of the migrated template,
filled by replaying ``seeds/`` through the real bus and worker) and shared by the
read-only API tests; tests that write use ``pg_url`` instead.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.replay import replay
from services.api.app import create_app
from services.db import create_engine
from services.runtime import open_runtime
from services.settings import Settings
from tests.conftest import PG_ADMIN, SEEDS, Template

TOKEN = "test-token-9f2c"
BASE = "http://drawdown.test"
_seeded: dict[str, Seeded] = {}


@dataclass(frozen=True, slots=True)
class Seeded:
    url: str
    reports: list[dict[str, Any]]


async def copy_database(template: Template) -> str:
    """A new database copied from the migrated template (dropped with the template)."""
    name = f"{template.name}_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(PG_ADMIN)
    try:
        await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.name}"')
    finally:
        await connection.close()
    template.copies.append(name)
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def replay_seeds(database_url: str) -> list[dict[str, Any]]:
    """Replay the seeds through the in-process bus and a worker, as ``drawdown replay``."""
    async with open_runtime(Settings(database_url=database_url, worker_processes=0)) as runtime:
        return await replay(runtime, SEEDS)


async def seeded(template: Template) -> Seeded:
    """The session's seeded database (made on first use). Read it, never write to it."""
    if template.name not in _seeded:
        url = await copy_database(template)
        _seeded[template.name] = Seeded(url, await replay_seeds(url))
    return _seeded[template.name]


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


@asynccontextmanager
async def api_client(
    database_url: str, *, token: str | None = TOKEN, **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, AsyncEngine]]:
    """A client of a fresh app over ``database_url`` (its engine disposed of afterwards);
    ``overrides`` are further settings."""
    settings = Settings(database_url=database_url, api_token=token, **overrides)
    engine = create_engine(settings)
    try:
        async with client(create_app(settings, engine)) as http:
            yield http, engine
    finally:
        await engine.dispose()


def is_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The RFC 9457 body of ``response``, checked to be one with ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"]
    assert body["detail"]
    assert body["instance"] == response.request.url.path
    return body
