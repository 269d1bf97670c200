"""GET /alerts/stream over a real server: alert events arrive as Server-Sent Events as the
processor writes them, filtered like /alerts, and a client that reconnects with
Last-Event-ID gets what it missed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.app import create_app
from services.api.role import serve
from services.settings import Settings
from tests.servers import free_port
from tests.webhookkit import AIN_AL_ASAD, AIN_AL_ASAD_AGAIN, AL_TANF, QASRAK, report


@asynccontextmanager
async def serving(database_url: str, engine: AsyncEngine) -> AsyncIterator[str]:
    port = free_port()
    stop = asyncio.Event()
    app = create_app(Settings(database_url=database_url), engine)
    task = asyncio.create_task(serve(app, "127.0.0.1", port, stop))
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    try:
        yield base
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def _events(
    response: httpx.Response, count: int, timeout: float = 30
) -> list[dict[str, Any]]:
    """The next ``count`` events of an open stream (ping comments skipped)."""
    found: list[dict[str, Any]] = []
    event: dict[str, Any] = {}
    lines = response.aiter_lines()

    async def read() -> None:
        nonlocal event
        async for line in lines:
            if not line:
                if "data" in event:
                    found.append({**event, "data": json.loads(event["data"])})
                    if len(found) == count:
                        return
                event = {}
            elif not line.startswith(":"):
                field, _, value = line.partition(":")
                event[field] = value.removeprefix(" ")

    await asyncio.wait_for(read(), timeout)
    return found


async def test_events_stream_as_they_happen_and_resume_after_a_drop(
    database_url: str, engine: AsyncEngine
) -> None:
    async with serving(database_url, engine) as base, httpx.AsyncClient(timeout=30) as client:
        await report(engine, AL_TANF)  # before anyone listens: not streamed
        async with client.stream("GET", f"{base}/alerts/stream?place=ain-al-asad") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            await asyncio.sleep(1.5)  # the stream has read where it starts
            await report(engine, QASRAK)  # another place: filtered out
            await report(engine, AIN_AL_ASAD, source="Outlet A")
            (created,) = await _events(stream, 1)
        assert created["event"] == "alert.created"
        body = created["data"]
        assert body["type"] == "alert.created"
        assert body["data"]["alert"]["place"] == "ain-al-asad"
        assert body["data"]["event_id"] == int(created["id"])
        assert body["data"]["alert"]["evidence"][0]["snippet"].startswith("US forces withdrew")

        # While nobody listens, the alert is corroborated; the reconnect gets it.
        await report(engine, AIN_AL_ASAD_AGAIN, source="Outlet B")
        headers = {"Last-Event-ID": created["id"]}
        async with client.stream(
            "GET", f"{base}/alerts/stream?place=ain-al-asad", headers=headers
        ) as resumed:
            (updated,) = await _events(resumed, 1)
        assert updated["event"] == "alert.updated"
        assert int(updated["id"]) > int(created["id"])
        assert updated["data"]["data"]["alert"]["status"] == "corroborated"

        refused = await client.get(f"{base}/alerts/stream", headers={"Last-Event-ID": "x"})
        assert refused.status_code == 400
        assert (await client.get(f"{base}/alerts/stream?plaec=1")).status_code == 422
