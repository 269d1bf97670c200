"""Leases share sources between pollers: on PostgreSQL and SQLite, in one process and in two."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from ingest import leases
from ingest.schedule import Health
from ingest.sources import SourceSpec, sync_sources
from services.db import sessionmaker
from services.models import SeenUrl, Source
from services.settings import Settings
from tests.conftest import KAFKA_SESSION_TIMEOUT, ROOT
from tests.feedkit import Item, article_html, rss, seed, write_sources
from tests.servers import local_server

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def add_sources(engine: AsyncEngine, count: int) -> None:
    specs = [SourceSpec(f"s{i}", f"https://s{i:03d}.example/feed") for i in range(count)]
    async with sessionmaker(engine).begin() as session:
        await sync_sources(session, specs, now=NOW)
        # Stagger due times: source i is due i seconds after NOW.
        for i in range(count):
            await session.execute(
                update(Source)
                .where(Source.url == specs[i].url)
                .values(next_poll_at=NOW + timedelta(seconds=i))
            )


async def test_due_sources_are_leased_oldest_first_and_only_once(engine: AsyncEngine) -> None:
    await add_sources(engine, 5)
    later = NOW + timedelta(seconds=2)
    first = await leases.take(engine, "a", now=later, limit=2, duration=60)
    assert [lease.name for lease in first] == ["s0", "s1"]
    second = await leases.take(engine, "b", now=later, limit=10, duration=60)
    assert [lease.name for lease in second] == ["s2"]  # s3, s4 are not due yet
    assert await leases.take(engine, "c", now=later, limit=10, duration=60) == []

    async with engine.connect() as connection:
        holders = dict((await connection.execute(select(Source.name, Source.leased_by))).all())
    assert holders == {"s0": "a", "s1": "a", "s2": "b", "s3": None, "s4": None}

    expired = later + timedelta(seconds=61)
    retaken = await leases.take(engine, "c", now=expired, limit=10, duration=60)
    assert [lease.name for lease in retaken] == ["s0", "s1", "s2", "s3", "s4"]


async def test_disabled_sources_are_never_leased(engine: AsyncEngine) -> None:
    await add_sources(engine, 3)
    async with engine.begin() as connection:
        await connection.execute(update(Source).where(Source.name == "s1").values(enabled=False))
    taken = await leases.take(engine, "a", now=NOW + timedelta(hours=1), limit=10, duration=60)
    assert [lease.name for lease in taken] == ["s0", "s2"]


async def test_concurrent_takers_get_disjoint_sources(engine: AsyncEngine) -> None:
    await add_sources(engine, 60)
    later = NOW + timedelta(hours=1)

    async def taker(name: str) -> list[int]:
        got: list[int] = []
        while batch := await leases.take(engine, name, now=later, limit=7, duration=60):
            got += [lease.id for lease in batch]
        return got

    results = await asyncio.gather(*(taker(f"t{i}") for i in range(6)))
    every = [source_id for result in results for source_id in result]
    assert len(every) == len(set(every)) == 60


async def test_renewal_keeps_a_lease_and_abandoning_gives_it_back(engine: AsyncEngine) -> None:
    await add_sources(engine, 2)
    later = NOW + timedelta(hours=1)
    held = await leases.take(engine, "a", now=later, limit=2, duration=60)
    await leases.renew(engine, "a", [held[0].id], now=later + timedelta(seconds=50), duration=60)
    after = later + timedelta(seconds=70)  # s1's lease ran out, s0's was renewed
    taken = await leases.take(engine, "b", now=after, limit=9, duration=60)
    assert [lease.name for lease in taken] == ["s1"]
    await leases.abandon(engine, "a", [held[0].id])
    taken = await leases.take(engine, "c", now=after, limit=9, duration=60)
    assert [lease.name for lease in taken] == ["s0"]


async def test_release_writes_schedule_health_and_seen_urls_for_the_holder_only(
    engine: AsyncEngine,
) -> None:
    await add_sources(engine, 2)
    later = NOW + timedelta(hours=1)
    mine, theirs = await leases.take(engine, "a", now=later, limit=2, duration=60)
    record = leases.PollRecord(
        source_id=mine.id,
        polled_at=later,
        health=Health(later + timedelta(minutes=5), 0, None),
        status="200",
        error=None,
        etag='"e1"',
        last_modified="Sun, 01 Mar 2026 12:00:00 GMT",
        articles=2,
        seen=("https://s000.example/a/1", "https://s000.example/a/2"),
    )
    stolen = leases.PollRecord(
        source_id=theirs.id,
        polled_at=later,
        health=Health(later + timedelta(minutes=9), 3, None),
        status="500",
        error="http: HTTP 500",
        etag=None,
        last_modified=None,
    )
    await leases.Ledger(engine, "a").record(record)
    await leases.Ledger(engine, "intruder").record(stolen)
    await leases.Ledger(engine, "a").record(record)  # again, after the release: changes nothing

    async with engine.connect() as connection:
        rows = {r.id: r for r in await connection.execute(select(Source))}
        seen = (await connection.execute(select(SeenUrl.url, SeenUrl.source_id))).all()
    released = rows[mine.id]
    assert released.leased_by is None
    assert released.next_poll_at == later + timedelta(minutes=5)
    assert (released.etag, released.last_status, released.articles_found) == ('"e1"', "200", 2)
    assert rows[theirs.id].leased_by == "a"  # the intruder's release changed nothing
    assert rows[theirs.id].error_count == 0
    assert sorted(seen) == [
        ("https://s000.example/a/1", mine.id),
        ("https://s000.example/a/2", mine.id),
    ]
    assert await leases.known_urls(engine, ["https://s000.example/a/2", "https://x.example/"]) == {
        "https://s000.example/a/2"
    }


# ---- two poller processes ------------------------------------------------------------------

SOURCES = 200


async def test_two_poller_processes_share_sources_without_polling_any_twice(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    title, body = seed("004")
    page = article_html(title, body)
    async with local_server() as server:

        async def feed(request: Request) -> Response:
            await asyncio.sleep(0.05)  # slow enough that both processes are at work
            number = request.url.path.rsplit("/", 1)[-1]
            link = server.url(f"/a/{number}")
            return Response(rss([Item(f"{title} {number}", link, "short")]), media_type="text/xml")

        async def article(request: Request) -> Response:
            return Response(page, media_type="text/html")

        for i in range(SOURCES):
            server.route(f"/feed/{i}", feed)
            server.route(f"/a/{i}", article)
        sources = write_sources(
            tmp_path / "sources.yaml",
            [
                {"name": f"feed {i}", "url": server.url(f"/feed/{i}"), "interval": 120.0}
                for i in range(SOURCES)
            ],
        )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DRAWDOWN_")},
            "PYTHONPATH": str(ROOT),
            "DRAWDOWN_DATABASE_URL": kafka_settings.database_url,
            "DRAWDOWN_KAFKA_BOOTSTRAP": kafka_settings.kafka_bootstrap or "",
            "DRAWDOWN_TOPIC_PREFIX": kafka_settings.topic_prefix,
            "DRAWDOWN_KAFKA_SESSION_TIMEOUT": KAFKA_SESSION_TIMEOUT,
            "DRAWDOWN_SOURCES": str(sources),
            "DRAWDOWN_MIN_POLL_INTERVAL": "1",
            "DRAWDOWN_POLL_CONCURRENCY": "8",
            "DRAWDOWN_PER_HOST_CONCURRENCY": "8",
            "DRAWDOWN_PER_HOST_DELAY": "0",
            "DRAWDOWN_WORKER_PROCESSES": "0",
            "DRAWDOWN_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32",  # the local feed server
        }
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "services.cli",
                "ingest",
                env=env,
                cwd=tmp_path,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(2)
        ]
        logs = [asyncio.create_task(p.stderr.read()) for p in processes if p.stderr]
        try:
            deadline = time.monotonic() + 90  # generous: a loaded machine is slow, not wrong
            while time.monotonic() < deadline:
                polled = {r.url.path for r in server.requests if r.url.path.startswith("/a/")}
                if len(polled) == SOURCES:
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)  # a moment for any double poll to show
        finally:
            for process in processes:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            codes = [await asyncio.wait_for(p.wait(), 30) for p in processes]
        stderr = [(await log).decode() for log in logs]

    assert codes == [0, 0], stderr[0][-2000:] + stderr[1][-2000:]
    feed_hits = [server.hits(f"/feed/{i}") for i in range(SOURCES)]
    article_hits = [server.hits(f"/a/{i}") for i in range(SOURCES)]
    assert feed_hits == [1] * SOURCES, stderr[0][-2000:]
    assert article_hits == [1] * SOURCES
    polls = [len(re.findall(r"polled source_id=", text)) for text in stderr]
    assert sum(polls) == SOURCES
    assert min(polls) > 0, f"one process did all the polling: {polls}"
