"""/readyz turns unready when the database is stopped, and ready again when it is back.

The test runs a PostgreSQL cluster of its own (tests/faults/conftest.py), because
stopping the shared server on 127.0.0.1:5432 would fail every other test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from services.api.app import create_app
from services.db import create_engine, migrate
from services.settings import Settings
from tests.apikit import client, is_problem
from tests.faults.conftest import Cluster, private_cluster

DEADLINE = 60.0  # seconds the app may take to see the database again


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with private_cluster() as made:
        yield made


async def _until_ready(http: httpx.AsyncClient) -> httpx.Response:
    deadline = time.monotonic() + DEADLINE
    while True:
        response = await http.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.2)


async def test_readyz_follows_the_database_down_and_up(cluster: Cluster) -> None:
    settings = Settings(database_url=cluster.url)
    engine = create_engine(settings)
    try:
        await migrate(engine)
        async with client(create_app(settings, engine)) as http:
            ready = await http.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"database": "ok", "migrations": "ok"}

            await asyncio.to_thread(cluster.stop)
            body = is_problem(await http.get("/readyz"), 503)
            assert body["checks"]["database"].startswith("unreachable"), body
            assert body["detail"].startswith("not ready: database: unreachable")
            assert (await http.get("/healthz")).status_code == 200  # alive all the same

            await asyncio.to_thread(cluster.start)
            again = await _until_ready(http)
            assert again.status_code == 200, again.text
            assert again.json()["checks"] == {"database": "ok", "migrations": "ok"}
    finally:
        await engine.dispose()
