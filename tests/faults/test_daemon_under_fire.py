"""`drawdown run` on PostgreSQL and Kafka while a local feed site publishes: the broker and
the database are each restarted once, and afterwards `drawdown status` is ready and every
count matches an undisturbed processor's reading of the same topic.

The daemon runs every role in one process on a PostgreSQL cluster of the test's own and a
Tansu that keeps its log in S3 (tests/faults/conftest.py), with a webhook subscription to
a local receiver. Where DRAWDOWN_TEST_KAFKA names an Apache Kafka the test is skipped: it
restarts only a broker of its own.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from services.db import create_engine, migrate
from services.settings import Settings
from tests.conftest import drawdown_cli
from tests.faults.conftest import (
    WAIT,
    Cluster,
    DurableBroker,
    Role,
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
from tests.servers import free_port, local_server
from tests.webhookkit import Receiver, wait_for

ENTRIES = 60
TAIL = 3  # documents published unhurried at the end (DurableBroker.settle)
DOWN_FOR = 4.0
pytestmark = pytest.mark.timeout(600)


async def _migrated(url: str) -> None:
    engine = create_engine(Settings(database_url=url))
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


async def test_the_daemon_rides_out_a_broker_and_a_database_restart(
    cluster: Cluster,
    durable_broker: DurableBroker,
    second_pg_url: str,
    unique: str,
    tmp_path: Path,
) -> None:
    await _migrated(cluster.url)
    bootstrap, prefix = durable_broker.bootstrap, f"t{unique}"
    topic = f"{prefix}.articles.raw"
    docs = documents(ENTRIES + TAIL, seed=7, source="daemon")
    receiver = Receiver()
    async with local_server() as server, publishing(bootstrap, topic) as send:
        site = FeedSite(server, feeds=4)
        sources = sources_file(
            tmp_path / "sources.yaml",
            site.sources(interval=0.5),
            [{"name": "newsroom", "url": receiver.mount(server), "secret": receiver.secret}],
        )
        env = pipeline_env(
            cluster.url, bootstrap, prefix, sources, http_addr=f"127.0.0.1:{free_port()}"
        )
        daemon = Role("run", env, tmp_path)
        with running(daemon):
            for number, doc in enumerate(docs[:ENTRIES]):
                site.add(doc)
                await asyncio.sleep(0.1)  # a site publishing as it goes
                if number == ENTRIES // 3:
                    await wait_for(lambda: _stored_some(cluster.url, site.urls), WAIT)
                    await asyncio.to_thread(durable_broker.restart, DOWN_FOR)
                elif number == 2 * ENTRIES // 3:
                    await asyncio.to_thread(cluster.stop)
                    await asyncio.sleep(DOWN_FOR)
                    await asyncio.to_thread(cluster.start)
            tail = docs[ENTRIES:]
            await durable_broker.settle(send, tail)
            links = site.urls
            await wait_for(lambda: _all_stored(cluster.url, links), WAIT)
            await wait_for(lambda: _at_least(cluster.url, ENTRIES + TAIL), WAIT)
            after = await counts(cluster.url)
            await wait_for(lambda: _all_delivered(cluster.url, after.deliveries), WAIT)
            status = await asyncio.to_thread(
                drawdown_cli, "status", "--json", env=env, cwd=tmp_path
            )
            alive = daemon.alive()
    reference = pipeline_env(
        second_pg_url, bootstrap, prefix, sources, consumer_group=f"{prefix}-reference"
    )
    (tmp_path / "reference").mkdir()
    with running(Role("process", reference, tmp_path / "reference")):
        await wait_for(lambda: _at_least(second_pg_url, after.processed), WAIT)
    undisturbed = await counts(second_pg_url)
    ids = set(receiver.ids)
    report(
        "daemon under fire",
        documents_in=ENTRIES + TAIL,
        broker_restarts=durable_broker.restarts,
        database_restarts=1,
        articles=after.articles,
        sightings=after.sightings,
        alerts=after.alerts,
        alert_events=after.alert_events,
        deliveries=after.deliveries,
        deliveries_received=len(receiver.received),
        distinct_webhook_ids=len(ids),
        lost=ENTRIES - await stored(cluster.url, links) + after.deliveries - len(ids),
        doubled=after.doubled_alert_events,
    )
    assert alive
    assert status.returncode == 0, status.stdout + status.stderr
    assert json.loads(status.stdout)["ready"] is True
    assert after.story() == undisturbed.story()
    assert after.deliveries > 0
    assert len(ids) == after.deliveries


async def _at_least(url: str, count: int) -> bool:
    return await processed(url) >= count


async def _stored_some(url: str, links: list[str]) -> bool:
    return await stored(url, links) > 0


async def _all_stored(url: str, links: list[str]) -> bool:
    return await stored(url, links) == len(links)


async def _all_delivered(url: str, count: int) -> bool:
    return await delivered(url) >= count
