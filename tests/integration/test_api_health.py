"""Health, readiness, metrics, the OpenAPI document, a 500, and the real server over TCP."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from services.api.app import create_app
from services.api.role import serve
from services.bus import MemoryBus
from services.db import create_engine
from services.errors import ConfigError
from services.kafka import KafkaBus
from services.settings import Settings
from tests.apikit import api_client, client, is_problem, seeded
from tests.conftest import Template

DEAD_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:9/drawdown"  # port 9: discard, closed


@pytest.fixture(scope="module")
async def api(pg_template: Template) -> AsyncIterator[httpx.AsyncClient]:
    database = await seeded(pg_template)
    async with api_client(database.url) as (http, _):
        yield http


async def test_healthz_and_readyz(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}


async def test_readyz_is_503_naming_what_is_not_ready() -> None:
    settings = Settings(database_url=DEAD_DATABASE)
    engine = create_engine(settings)
    try:
        async with client(create_app(settings, engine)) as dead:
            assert (await dead.get("/healthz")).status_code == 200
            body = is_problem(await dead.get("/readyz"), 503)
            assert body["checks"]["database"].startswith("unreachable")
            assert "database" in body["detail"]
            # A read that needs the database is a 503 problem too, not a 500.
            is_problem(await dead.get("/alerts"), 503)
    finally:
        await engine.dispose()


async def test_readyz_checks_the_kafka_bus(pg_url: str, kafka_bootstrap: str) -> None:
    settings = Settings(database_url=pg_url)
    engine = create_engine(settings)
    up = KafkaBus(Settings(kafka_bootstrap=kafka_bootstrap))
    down = KafkaBus(Settings(kafka_bootstrap=f"127.0.0.1:{_free_port()}"))  # nothing listens
    try:
        async with client(create_app(settings, engine, bus=up)) as app:
            ready = await app.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "bus": "ok"}
        async with client(create_app(settings, engine, bus=down)) as app:
            body = is_problem(await app.get("/readyz"), 503)
            assert body["checks"] == {"database": "ok", "migrations": "ok", "bus": "not ready"}
            assert body["detail"] == "not ready: bus: not ready"
        async with client(create_app(settings, engine, bus=MemoryBus())) as app:
            assert (await app.get("/readyz")).json()["checks"]["bus"] == "ok"
    finally:
        await engine.dispose()


def _value(text: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    assert match, f"{sample} not in metrics"
    return float(match.group(1))


async def test_metrics_after_the_replay(api: httpx.AsyncClient) -> None:
    response = await api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    for family, kind in [
        ("drawdown_articles_total", "counter"),
        ("drawdown_sightings_total", "counter"),
        ("drawdown_alerts", "gauge"),
        ("drawdown_alert_events_unpublished", "gauge"),
        ("drawdown_dead_letters_total", "counter"),
        ("drawdown_sources", "gauge"),
        ("drawdown_fetch_to_processed_seconds", "histogram"),
        ("drawdown_processed_to_alerted_seconds", "histogram"),
        ("drawdown_documents_processed_total", "counter"),
        ("drawdown_documents_deduplicated_total", "counter"),
        ("drawdown_entries_fetched_total", "counter"),
        ("drawdown_webhook_deliveries", "gauge"),
        ("drawdown_webhook_attempts_total", "counter"),
        ("drawdown_alert_to_delivered_seconds", "histogram"),
    ]:
        assert f"# TYPE {family} {kind}\n" in text
    assert "drawdown_consumer_lag" not in text  # the app was given no bus
    assert _value(text, "drawdown_articles_total") == 5
    assert _value(text, 'drawdown_sightings_total{match="new"}') == 5
    assert _value(text, 'drawdown_alerts{status="corroborated"}') >= 1
    assert _value(text, "drawdown_dead_letters_total") == 0
    assert _value(text, 'drawdown_sources{health="ok"}') == 0
    assert _value(text, "drawdown_fetch_to_processed_seconds_count") == 5
    assert _value(text, 'drawdown_fetch_to_processed_seconds_bucket{le="+Inf"}') == 5
    assert _value(text, "drawdown_processed_to_alerted_seconds_count") == 5
    assert _value(text, "drawdown_documents_processed_total") == 5
    assert _value(text, 'drawdown_documents_deduplicated_total{match="near"}') == 0


async def test_openapi_document_describes_every_path(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path in ("/alerts", "/alerts/{alert_id}", "/articles", "/articles/{article_id}"):
        assert path in paths
    for path in ("/places", "/places/{place_id}", "/sources", "/healthz", "/readyz", "/metrics"):
        assert path in paths
    schemas = document["components"]["schemas"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            ok = [code for code in responses if code.startswith("2")]
            assert ok, f"{method} {path} has no success response"
            for code, response in responses.items():
                if code == "204":  # No Content: nothing to describe
                    assert "content" not in response, f"{method} {path} {code}"
                    continue
                (media_type,) = response["content"]
                assert response["content"][media_type]["schema"], f"{method} {path} {code}"
                if int(code) >= 400:
                    assert media_type == "application/problem+json", f"{method} {path} {code}"
    assert "HTTPValidationError" not in schemas
    assert {"type", "title", "status", "detail", "instance"} <= set(
        schemas["Problem"]["properties"]
    )
    assert paths["/sources"]["post"]["security"] == [{"token": []}]
    assert "401" in paths["/sources"]["post"]["responses"]
    (kind,) = [p for p in paths["/alerts"]["get"]["parameters"] if p["name"] == "kind"]
    kinds = kind["schema"]["anyOf"][0]["items"]["enum"]
    assert "withdrawal_planned" in kinds
    docs = await api.get("/docs")
    assert docs.status_code == 200
    assert "/openapi.json" in docs.text


async def test_unexpected_errors_are_500_problems(pg_url: str) -> None:
    settings = Settings(database_url=pg_url)
    engine = create_engine(settings)
    app = create_app(settings, engine)

    async def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            body = is_problem(await http.get("/boom"), 500)
            assert "boom" not in body["detail"]  # no internals in the answer
    finally:
        await engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _when_up(http: httpx.AsyncClient, path: str) -> httpx.Response:
    for _ in range(100):
        try:
            return await http.get(path)
        except httpx.ConnectError:
            await asyncio.sleep(0.05)
    raise AssertionError("the server did not answer within 5 s")


async def test_serve_answers_over_tcp_until_stopped(pg_url: str) -> None:
    settings = Settings(database_url=pg_url)
    engine = create_engine(settings)
    port = _free_port()
    stop = asyncio.Event()
    server = asyncio.create_task(serve(create_app(settings, engine), "127.0.0.1", port, stop))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            response = await _when_up(http, "/healthz")
            assert response.status_code == 200
            assert response.json() == {"status": "ok"}
            assert (await http.get("/readyz")).status_code == 200

            with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
                await serve(create_app(settings, engine), "127.0.0.1", port, asyncio.Event())
        stop.set()
        await asyncio.wait_for(server, timeout=10)
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient() as http:
                await http.get(f"http://127.0.0.1:{port}/healthz")
    finally:
        stop.set()
        await asyncio.wait_for(server, timeout=10)
        await engine.dispose()
