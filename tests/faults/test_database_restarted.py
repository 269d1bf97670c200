"""PostgreSQL stopped for several seconds mid-stream: every role waits, resumes, loses nothing.

A poller (on a local feed site that keeps publishing), a processor and a dispatcher (to a
local webhook receiver) run on a PostgreSQL cluster of the test's own, while the test
also publishes documents straight to Kafka. The cluster is stopped once the processor is
under way and started again a few seconds later. No role may exit; afterwards the
database holds what an undisturbed processor made of the same topic on the shared
server, and every delivery reached the receiver.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.db import create_engine, migrate
from services.settings import Settings
from tests.faults.conftest import (
    WAIT,
    Cluster,
    Role,
    caught_up,
    counts,
    delivered,
    pipeline_env,
    processed,
    report,
    running,
    stored,
)
from tests.faults.site import FeedSite, sources_file
from tests.faults.stream import documents, publishing
from tests.servers import local_server
from tests.webhookkit import Receiver, wait_for

DOCUMENTS = 400
pytestmark = pytest.mark.timeout(600)
ENTRIES = 20
CHUNK = 20
DOWN_FOR = 6.0  # seconds the database stays stopped


async def _migrated(url: str) -> None:
    engine = create_engine(Settings(database_url=url))
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


async def test_database_restarted_mid_stream(
    cluster: Cluster, second_pg_url: str, kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    await _migrated(cluster.url)
    prefix = f"t{unique}"
    topic, group = f"{prefix}.articles.raw", f"{prefix}-processors"
    docs = documents(DOCUMENTS + ENTRIES, seed=3, source="db")
    receiver = Receiver()
    async with local_server() as server, publishing(kafka_bootstrap, topic) as send:
        site = FeedSite(server)
        sources = sources_file(
            tmp_path / "sources.yaml",
            site.sources(),
            [{"name": "newsroom", "url": receiver.mount(server), "secret": receiver.secret}],
        )
        env = pipeline_env(cluster.url, kafka_bootstrap, prefix, sources, poll_lease=6)
        roles = [Role(name, env, tmp_path) for name in ("ingest", "process", "dispatch")]
        with running(*roles):
            for number, start in enumerate(range(0, DOCUMENTS, CHUNK)):
                site.add(docs[DOCUMENTS + number])
                await send(docs[start : start + CHUNK])
                if number == 4:  # the processor is under way: pull the database from under it
                    await wait_for(lambda: _at_least(cluster.url, CHUNK), WAIT)
                    await asyncio.to_thread(cluster.stop)
                    await asyncio.sleep(DOWN_FOR)
                    assert all(role.alive() for role in roles), "a role died with the database"
                    await asyncio.to_thread(cluster.start)
            links = site.urls
            await wait_for(lambda: _all_stored(cluster.url, links), WAIT)
            await wait_for(lambda: caught_up(kafka_bootstrap, group, topic), WAIT)
            after = await counts(cluster.url)
            await wait_for(lambda: _all_delivered(cluster.url, after.deliveries), WAIT)
            alive = [role.role for role in roles if role.alive()]
    # The same topic, undisturbed, into the shared server: what the counts must be.
    reference = pipeline_env(
        second_pg_url, kafka_bootstrap, prefix, sources, consumer_group=f"{prefix}-reference"
    )
    (tmp_path / "reference").mkdir()
    with running(Role("process", reference, tmp_path / "reference")):
        await wait_for(lambda: caught_up(kafka_bootstrap, f"{prefix}-reference", topic), WAIT)
    undisturbed = await counts(second_pg_url)
    ids = set(receiver.ids)
    report(
        "database restarted",
        documents_in=DOCUMENTS + len(links),
        articles=after.articles,
        sightings=after.sightings,
        alerts=after.alerts,
        alert_events=after.alert_events,
        deliveries=after.deliveries,
        deliveries_received=len(receiver.received),
        distinct_webhook_ids=len(ids),
        lost=undisturbed.processed - after.processed + after.deliveries - len(ids),
        doubled=after.doubled_alert_events,
    )
    assert alive == ["ingest", "process", "dispatch"]
    assert after.story() == undisturbed.story()
    assert after.deliveries > 0
    assert len(ids) == after.deliveries


async def _at_least(url: str, count: int) -> bool:
    return await processed(url) >= count


async def _all_stored(url: str, links: list[str]) -> bool:
    return await stored(url, links) == len(links)


async def _all_delivered(url: str, count: int) -> bool:
    return await delivered(url) >= count
