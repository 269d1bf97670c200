"""Nothing lost, nothing doubled: a worker that dies after the database commit
but before the offset commit leaves the same rows once its messages are redone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy import func, select

from ingest.documents import from_text
from ingest.publish import publish
from processor.worker import Worker
from services.bus import Bus, Consumer, Producer, Record
from services.db import create_engine
from services.models import Alert, AlertArticle, Article, Event, Mention, Sighting
from services.pool import CpuPool
from services.runtime import make_bus
from services.settings import Settings
from tests.conftest import SEEDS

TABLES = (Article, Sighting, Mention, Event, Alert, AlertArticle)


class _CrashBeforeCommit:
    """A consumer whose offset commits never reach the broker (the process 'died')."""

    def __init__(self, inner: Consumer) -> None:
        self._inner = inner

    async def poll(self, timeout: float) -> list[Record]:
        return await self._inner.poll(timeout)

    async def commit(self, records: Sequence[Record]) -> None:
        raise ConnectionError("killed before the offset commit")


class _CrashingBus:
    durable = True

    def __init__(self, inner: Bus) -> None:
        self._inner = inner

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        await self._inner.ensure_topics(topics)

    def producer(self) -> AbstractAsyncContextManager[Producer]:
        return self._inner.producer()

    @asynccontextmanager
    async def consumer(self, topics: Sequence[str], group: str) -> AsyncIterator[Consumer]:
        async with self._inner.consumer(topics, group) as consumer:
            yield _CrashBeforeCommit(consumer)


async def _counts(settings: Settings) -> dict[str, int]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            return {
                t.__tablename__: await connection.scalar(select(func.count()).select_from(t)) or 0
                for t in TABLES
            }
    finally:
        await engine.dispose()


async def _run_until(worker: Worker, done: int) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(300):
        if worker.processed >= done or task.done():
            break
        await asyncio.sleep(0.1)
    stop.set()
    await task


async def test_redelivered_messages_leave_the_same_rows(kafka_settings: Settings) -> None:
    bus = make_bus(kafka_settings)
    await bus.ensure_topics([kafka_settings.topic_raw, kafka_settings.topic_dlq])
    seeds = sorted(SEEDS.glob("*.txt"))
    async with bus.producer() as producer:
        for path in seeds:
            await publish(producer, kafka_settings.topic_raw, from_text(path.read_bytes(), "test"))

    engine = create_engine(kafka_settings)
    try:
        crashing = Worker(kafka_settings, _CrashingBus(bus), engine, CpuPool(0))
        await _run_until(crashing, len(seeds))
        assert crashing.processed == len(seeds)
        before = await _counts(kafka_settings)
        assert before["articles"] == len(seeds)
        assert before["alerts"] > 0

        survivor = Worker(kafka_settings, bus, engine, CpuPool(0))
        await _run_until(survivor, len(seeds))
        assert survivor.processed == len(seeds)  # every message came back ...
    finally:
        await engine.dispose()
    assert await _counts(kafka_settings) == before  # ... and changed nothing
