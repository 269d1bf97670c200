"""A poller SIGKILLed mid-poll: another takes its sources once the lease runs out, and every
entry is published and stored as one article, none twice.

The feed site serves the first article pages, then holds the rest until the first poller
is killed, so the kill lands while polls are in flight: some entries published, others
fetched or waiting. A second poller, a new process with a holder of its own, finds those
sources leased, waits for the compressed ``DRAWDOWN_POLL_LEASE`` to run out, and polls
them. An entry published twice would be a URL sighting, never a second article.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import Response

from tests.conftest import drawdown_cli
from tests.faults.conftest import (
    WAIT,
    Role,
    counts,
    pipeline_env,
    processed,
    report,
    running,
    scalar,
    stored,
)
from tests.faults.site import FeedSite, sources_file
from tests.faults.stream import documents
from tests.servers import local_server
from tests.webhookkit import wait_for

FEEDS = 4
ENTRIES = 40
LEASE = 3.0
PASSED = 6  # article pages served before the rest are held
LEASED = "SELECT count(*) FROM sources WHERE leased_by IS NOT NULL"
pytestmark = pytest.mark.timeout(600)


async def test_poller_killed_mid_poll_is_replaced_after_the_lease(
    pg_url: str, kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    arrived, release = asyncio.Event(), asyncio.Event()
    prefix = f"t{unique}"
    async with local_server() as server:
        site = FeedSite(server, feeds=FEEDS)
        for doc in documents(ENTRIES, seed=5, source="poller", copies=False):
            site.add(doc)
        served = 0

        async def held(request: Request) -> Response:
            nonlocal served
            served += 1
            if served > PASSED and not release.is_set():
                arrived.set()
                await release.wait()
            return await site.page(request)

        for path in site.pages:
            server.route(path, held)
        sources = sources_file(tmp_path / "sources.yaml", site.sources(interval=1))
        env = pipeline_env(pg_url, kafka_bootstrap, prefix, sources, poll_lease=LEASE)
        first, second = Role("ingest", env, tmp_path), Role("ingest", env, tmp_path)
        with running(Role("process", env, tmp_path), first):
            await asyncio.wait_for(arrived.wait(), WAIT)
            await asyncio.sleep(0.5)  # more polls reach their pages
            first.kill()
            leased = await scalar(
                pg_url, "SELECT count(*) FROM sources WHERE leased_by IS NOT NULL"
            )
            release.set()
            with running(second):
                links = site.urls
                await wait_for(lambda: _all_stored(pg_url, links), WAIT)
                alive = second.alive()
    after = await counts(pg_url)
    urls = await scalar(pg_url, "SELECT count(DISTINCT canonical_url) FROM articles")
    status = drawdown_cli("sources", "--json", env=env, cwd=tmp_path)
    report(
        "poller killed mid-poll",
        entries=ENTRIES,
        leased_when_killed=leased,
        published=after.processed,
        articles=after.articles,
        sightings=after.sightings,
        lost=ENTRIES - await stored(pg_url, links),
        doubled=after.articles - urls,
    )
    assert alive
    assert leased > 0, "the kill found no poll in flight"
    assert after.articles == ENTRIES
    assert urls == ENTRIES
    assert status.returncode == 0, status.stderr


async def _at_least(url: str, count: int) -> bool:
    return await processed(url) >= count


async def _all_stored(url: str, links: list[str]) -> bool:
    return await stored(url, links) == len(links)
