"""A processor SIGKILLed mid-batch, again and again, ends with the rows of an undisturbed run.

A couple of thousand distinct documents (tests/faults/stream.py) go to one Kafka topic.
Two consumer groups read it into two databases: one processor left alone (the
reference), and one killed whenever the documents it has finished reach one of a few
seeded random marks, then restarted. Offsets are committed after the database commit,
so the killed one redoes part of a batch each time; its writes are idempotent, so every
count equals the reference and no alert change is recorded twice.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from tests.conftest import KAFKA_SESSION_TIMEOUT
from tests.faults.conftest import Role, counts, env_of, processed, report, running, until_reached
from tests.faults.stream import documents, publish

DOCUMENTS = 2000
pytestmark = pytest.mark.timeout(1800)  # the waits fail on a stall; this only on a hang
KILLS = 4
SEED = 20260315


def processor(url: str, bootstrap: str, prefix: str, group: str, cwd: Path) -> Role:
    sources = cwd / "sources.yaml"
    sources.write_text("sources: []\n", encoding="utf-8")
    env = env_of(
        database_url=url,
        kafka_bootstrap=bootstrap,
        topic_prefix=prefix,
        consumer_group=group,
        topic_partitions=1,
        worker_processes=0,
        batch_size=50,
        kafka_session_timeout=KAFKA_SESSION_TIMEOUT,
        sources=sources,
        log_format="text",
    )
    return Role("process", env, cwd)


def done(url: str) -> int:
    return asyncio.run(processed(url))


async def test_processor_killed_mid_batch_keeps_every_count(
    pg_url: str, second_pg_url: str, kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    docs = documents(DOCUMENTS, SEED)
    prefix = f"t{unique}"
    await publish(kafka_bootstrap, f"{prefix}.articles.raw", docs)
    (tmp_path / "reference").mkdir()
    (tmp_path / "killed").mkdir()
    reference = processor(
        second_pg_url, kafka_bootstrap, prefix, f"r{unique}", tmp_path / "reference"
    )
    killed = processor(pg_url, kafka_bootstrap, prefix, f"k{unique}", tmp_path / "killed")
    rng = random.Random(SEED)
    marks = sorted(rng.sample(range(100, DOCUMENTS - 100), KILLS))
    with running(reference, killed):
        for mark in marks:
            await asyncio.to_thread(until_reached, lambda: done(pg_url), mark, "the killed one")
            killed.kill()
            killed.start()
        await asyncio.to_thread(until_reached, lambda: done(pg_url), DOCUMENTS, "the killed one")
        await asyncio.to_thread(
            until_reached, lambda: done(second_pg_url), DOCUMENTS, "the reference"
        )
    after, undisturbed = await counts(pg_url), await counts(second_pg_url)
    report(
        "processor killed mid-batch",
        documents_in=DOCUMENTS,
        kills=killed.kills,
        articles=after.articles,
        sightings=after.sightings,
        alerts=after.alerts,
        alert_events=after.alert_events,
        dead_letters=after.dead_letters,
        lost=DOCUMENTS - after.processed,
        doubled=after.processed - DOCUMENTS + after.doubled_alert_events,
        reference=undisturbed.story(),
    )
    assert after.processed == DOCUMENTS
    assert after.story() == undisturbed.story()
    assert after.doubled_alert_events == 0
    assert after.alerts > 0
    assert after.sightings > 0
