"""The broker SIGKILLed and restarted mid-stream: nothing published is lost, no count changes.

Tansu keeps its log in S3 here (a moto server on 127.0.0.1, tests/faults/conftest.py),
so what it acknowledged before a restart is there after it. A poller publishes the
entries of a local feed site and the test publishes documents of its own while a
processor consumes; the broker is killed and restarted twice. Every acknowledged
document must reach the database, and the counts must be those of an undisturbed
processor reading the same topic afterwards. Where DRAWDOWN_TEST_KAFKA names an
Apache Kafka the test is skipped: it restarts only a broker of its own.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka.errors import KafkaError

from ingest.messages import RawArticle
from tests.faults.conftest import (
    WAIT,
    DurableBroker,
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
from tests.faults.stream import Send, documents, publishing
from tests.servers import local_server
from tests.webhookkit import wait_for

DOCUMENTS = 300
ENTRIES = 15
CHUNK = 20
RESTART_AT = (4, 9)  # after these chunks
TAIL = 3  # documents published unhurried at the end (DurableBroker.settle)
DOWN_FOR = 2.0
pytestmark = pytest.mark.timeout(600)


async def _send(send: Send, docs: list[RawArticle]) -> None:
    """Publish until acknowledged; a send the broker dropped while going down is sent again
    (at least once: a second copy is a sighting in every run alike)."""
    while True:
        try:
            await send(docs)
            return
        except KafkaError:
            await asyncio.sleep(0.5)


async def test_broker_restarted_mid_stream(
    durable_broker: DurableBroker,
    pg_url: str,
    second_pg_url: str,
    unique: str,
    tmp_path: Path,
) -> None:
    bootstrap = durable_broker.bootstrap
    prefix = f"t{unique}"
    topic = f"{prefix}.articles.raw"
    docs = documents(DOCUMENTS + ENTRIES + TAIL, seed=4, source="broker")
    async with local_server() as server, publishing(bootstrap, topic) as send:
        site = FeedSite(server)
        sources = sources_file(tmp_path / "sources.yaml", site.sources())
        env = pipeline_env(pg_url, bootstrap, prefix, sources)
        roles = [Role(name, env, tmp_path) for name in ("ingest", "process")]
        with running(*roles):
            for number, start in enumerate(range(0, DOCUMENTS, CHUNK)):
                site.add(docs[DOCUMENTS + number])
                await _send(send, docs[start : start + CHUNK])
                if number in RESTART_AT:
                    await wait_for(lambda s=start: _at_least(pg_url, s), WAIT)
                    await asyncio.to_thread(durable_broker.restart, DOWN_FOR)
            await durable_broker.settle(send, docs[DOCUMENTS + ENTRIES :])
            links = site.urls
            await wait_for(lambda: _all_stored(pg_url, links), WAIT)
            ours = [doc.message_id for doc in [*docs[:DOCUMENTS], *docs[DOCUMENTS + ENTRIES :]]]
            await wait_for(lambda: _ours_stored(pg_url, ours), WAIT)
            alive = [role.role for role in roles if role.alive()]
    after = await counts(pg_url)
    missing = len(ours) - await _count_ours(pg_url, ours)
    reference = pipeline_env(
        second_pg_url, bootstrap, prefix, sources, consumer_group=f"{prefix}-reference"
    )
    (tmp_path / "reference").mkdir()
    with running(Role("process", reference, tmp_path / "reference")):
        await wait_for(lambda: _at_least(second_pg_url, after.processed), WAIT)
    undisturbed = await counts(second_pg_url)
    report(
        "broker restarted",
        documents_in=len(ours) + len(links),
        broker_restarts=durable_broker.restarts,
        articles=after.articles,
        sightings=after.sightings,
        alerts=after.alerts,
        alert_events=after.alert_events,
        lost=missing + len(links) - await stored(pg_url, links),
        doubled=after.doubled_alert_events,
    )
    assert alive == ["ingest", "process"]
    assert missing == 0
    assert after.story() == undisturbed.story()
    assert after.doubled_alert_events == 0


async def _at_least(url: str, count: int) -> bool:
    return await processed(url) >= count


async def _all_stored(url: str, links: list[str]) -> bool:
    return await stored(url, links) == len(links)


async def _count_ours(url: str, message_ids: list[str]) -> int:
    query = "SELECT count(*) FROM sightings WHERE message_id = any($1)"
    return await scalar(url, query, message_ids)


async def _ours_stored(url: str, message_ids: list[str]) -> bool:
    return await _count_ours(url, message_ids) == len(message_ids)
