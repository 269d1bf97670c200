"""A transient database failure is waited out and retried, never dead-lettered; a record
the database refuses for good is dead-lettered alone while the rest of its batch is stored."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from ingest.documents import from_text
from ingest.messages import RawArticle
from ingest.publish import publish
from processor.store import STORY_LOCK
from processor.worker import Worker
from services.db import create_engine, sessionmaker
from services.models import DeadLetter, Sighting
from services.pool import CpuPool
from services.runtime import make_bus
from services.settings import Settings
from tests.conftest import PG_ADMIN, SEEDS

SEED_FILES = sorted(SEEDS.glob("*.txt"))[:3]


async def _publish(settings: Settings, articles: list[RawArticle]) -> None:
    bus = make_bus(settings)
    await bus.ensure_topics([settings.topic_raw, settings.topic_dlq, settings.topic_alerts])
    async with bus.producer() as producer:
        for article in articles:
            await publish(producer, settings.topic_raw, article, partition=0)


async def _until(worker: Worker, count: int, stop: asyncio.Event) -> None:
    for _ in range(600):
        if worker.processed >= count:
            break
        await asyncio.sleep(0.1)
    stop.set()


async def _stored(settings: Settings) -> tuple[int, list[str | None]]:
    engine = create_engine(settings)
    try:
        async with sessionmaker(engine)() as session:
            sightings = await session.scalar(select(func.count()).select_from(Sighting)) or 0
            letters = list(await session.scalars(select(DeadLetter.message_id)))
    finally:
        await engine.dispose()
    return sightings, letters


async def test_lock_timeouts_are_retried_not_dead_lettered(
    kafka_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    database = make_url(kafka_settings.database_url).database
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f"ALTER DATABASE \"{database}\" SET lock_timeout = '100ms'")
    finally:
        await admin.close()
    holder = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + f"/{database}")
    await holder.execute("SELECT pg_advisory_lock($1)", STORY_LOCK)  # another writer, stuck
    await _publish(kafka_settings, [from_text(p.read_bytes(), "test") for p in SEED_FILES])

    engine = create_engine(kafka_settings)
    stop = asyncio.Event()
    worker = Worker(kafka_settings, make_bus(kafka_settings), engine, CpuPool(0))
    caplog.set_level(logging.WARNING, logger="processor.worker")
    running = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(600):  # until the worker has met the lock timeout at least twice
            if sum("lock timeout" in r.getMessage() for r in caplog.records) >= 2:
                break
            await asyncio.sleep(0.1)
        assert worker.processed == 0
        await holder.execute("SELECT pg_advisory_unlock($1)", STORY_LOCK)
        await _until(worker, len(SEED_FILES), stop)
    finally:
        stop.set()
        await running
        await holder.close()
        await engine.dispose()

    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) >= 2
    assert not [r for r in caplog.records if "dead-lettered" in r.getMessage()]
    assert await _stored(kafka_settings) == (len(SEED_FILES), [])


async def test_a_record_the_database_refuses_is_dead_lettered_alone(
    kafka_settings: Settings,
) -> None:
    good = [from_text(p.read_bytes(), "test") for p in SEED_FILES]
    refused = RawArticle(  # its URL is longer than the articles table takes
        text="US forces left Qasrak on Monday.", url="https://outlet.com/" + "x" * 3000
    )
    await _publish(kafka_settings, [good[0], refused, *good[1:]])

    engine = create_engine(kafka_settings)
    stop = asyncio.Event()
    worker = Worker(kafka_settings, make_bus(kafka_settings), engine, CpuPool(0))
    running = asyncio.create_task(worker.run(stop))
    try:
        await _until(worker, len(good) + 1, stop)
    finally:
        stop.set()
        await running
        await engine.dispose()
    assert await _stored(kafka_settings) == (len(good), [refused.message_id])
