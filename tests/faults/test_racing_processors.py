"""Two processors racing: two ``drawdown process`` processes in one consumer group on
interleaved copies of the same stories (Kafka + PostgreSQL).

Each story is published four times, its copies spread over the topic's partitions
at the same offsets, so the two processes store copies of one story at the same
moment: the original, the same text republished under another URL (a content-hash
copy), its AMP edition (a canonical-URL copy) and a lightly edited copy (a
near-duplicate, for texts long enough to be fingerprinted). Every document must be
stored as an article or a sighting, none dead-lettered (a deadlock or lock timeout is
retried, never a reason to dead-letter), every story one article, every (place, kind)
one alert.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.messages import RawArticle
from ingest.publish import publish
from processor.fingerprint import MIN_WORDS
from services.db import create_engine
from services.models import Alert, AlertEvent, Article, DeadLetter, Sighting
from services.runtime import make_bus
from services.settings import Settings
from tests.conftest import KAFKA_SESSION_TIMEOUT, ROOT
from tests.processes import drawdown_processes, wait_until

CORPUS = ROOT / "tests" / "eval" / "corpus"
COPIES = 4
PROCESSORS = 2


def _copies(n: int, text: str) -> list[RawArticle]:
    """One story as four documents from four places."""
    title = text.splitlines()[0]
    original = f"https://a.example/story/{n}"
    long_enough = len(text.split()) >= 2 * MIN_WORDS
    edited = f"{text}\n\nRead more from Outlet C." if long_enough else text
    return [
        RawArticle(text=text, title=title, url=original, source="Outlet A"),
        RawArticle(text=text, title=title, url=f"https://b.example/s/{n}", source="Outlet B"),
        RawArticle(text=text, title=title, url=f"{original}/amp", source="Outlet A"),
        RawArticle(text=edited, title=title, url=f"https://c.example/{n}", source="Outlet C"),
    ]


async def _count(engine: AsyncEngine, model: type) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(select(func.count()).select_from(model)) or 0


async def test_two_processors_store_every_copy_once_and_dead_letter_none(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    stories = [
        _copies(n, path.read_text().strip()) for n, path in enumerate(sorted(CORPUS.glob("*.txt")))
    ]
    documents = [doc for story in stories for doc in story]
    settings = kafka_settings
    bus = make_bus(settings)
    await bus.ensure_topics([settings.topic_raw, settings.topic_dlq, settings.topic_alerts])
    env = {
        "DRAWDOWN_DATABASE_URL": settings.database_url,
        "DRAWDOWN_KAFKA_BOOTSTRAP": str(settings.kafka_bootstrap),
        "DRAWDOWN_TOPIC_PREFIX": settings.topic_prefix,
        "DRAWDOWN_CONSUMER_GROUP": settings.consumer_group,
        "DRAWDOWN_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "DRAWDOWN_KAFKA_SESSION_TIMEOUT": KAFKA_SESSION_TIMEOUT,
        "DRAWDOWN_WORKER_PROCESSES": "1",
        "DRAWDOWN_BATCH_SIZE": "16",  # many small transactions: many chances to collide
        "DRAWDOWN_LOG_FORMAT": "text",
    }
    engine = create_engine(settings)
    try:
        with drawdown_processes("process", count=PROCESSORS, env=env, cwd=tmp_path) as procs:

            async def started() -> bool:
                return all(p.count("processor started") for p in procs)

            assert await wait_until(started, 120), "the processors did not start"
            async with bus.producer() as producer:
                for story in stories:  # copy k of every story on partition k mod 3
                    for k, doc in enumerate(story):
                        partition = k % settings.topic_partitions
                        await publish(producer, settings.topic_raw, doc, partition=partition)

            async def finished() -> bool:
                done = await _count(engine, Sighting) + await _count(engine, DeadLetter)
                return done >= len(documents) or not all(p.alive() for p in procs)

            await wait_until(finished, 600)
            stored_by = {p.name: p.count("stored message_id=") for p in procs}
            retried = sum(p.count("database failure, retrying") for p in procs)

        async with engine.connect() as connection:
            resolved = dict(
                (await connection.execute(select(Sighting.message_id, Sighting.article_id))).all()
            )
            alert_keys = (await connection.execute(select(Alert.place, Alert.kind))).all()
        counts = {
            "documents": len(documents),
            "articles": await _count(engine, Article),
            "sightings": await _count(engine, Sighting),
            "alerts": len(alert_keys),
            "alert_events": await _count(engine, AlertEvent),
            "dead_lettered": await _count(engine, DeadLetter),
        }
    finally:
        await engine.dispose()

    articles_of: defaultdict[int, set[object]] = defaultdict(set)
    lost = 0
    for n, story in enumerate(stories):
        for doc in story:
            if doc.message_id in resolved:
                articles_of[n].add(resolved[doc.message_id])
            else:
                lost += 1
    doubled = sum(len(ids) - 1 for ids in articles_of.values())
    print(  # noqa: T201 - the fault suite prints its counts
        {**counts, "lost": lost, "doubled": doubled, "retried": retried, "stored_by": stored_by}
    )
    assert counts["dead_lettered"] == 0
    assert lost == 0
    assert doubled == 0
    assert counts["sightings"] == len(documents)
    assert counts["articles"] == len(articles_of) == len(stories)
    assert len(alert_keys) == len(set(alert_keys)), "one (place, kind) story opened two alerts"
    assert all(stored_by.values()), f"both processors should have stored documents: {stored_by}"
