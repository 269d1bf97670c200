"""A message that cannot be read goes to the dead-letter topic and table; the rest go on."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from ingest.documents import from_text
from ingest.publish import publish
from processor.worker import Worker
from services.bus import Record
from services.db import create_engine, sessionmaker
from services.models import Article, DeadLetter
from services.pool import CpuPool
from services.runtime import make_bus
from services.settings import Settings
from tests.conftest import SEEDS


async def test_poison_message_is_dead_lettered_and_does_not_block(
    kafka_settings: Settings,
) -> None:
    bus = make_bus(kafka_settings)
    topics = [kafka_settings.topic_raw, kafka_settings.topic_dlq]
    await bus.ensure_topics(topics)
    good = from_text((SEEDS / "000_467fa69daf76dde6.txt").read_bytes(), "test")
    async with bus.producer() as producer:
        await producer.send(
            kafka_settings.topic_raw,
            b"\xff not json",
            key=b"poison",
            headers=[("message_id", b"poison-1")],
            partition=0,
        )
        await publish(producer, kafka_settings.topic_raw, good, partition=0)

    engine = create_engine(kafka_settings)
    try:
        worker = Worker(kafka_settings, bus, engine, CpuPool(0))
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        for _ in range(300):
            if worker.processed >= 1 or task.done():
                break
            await asyncio.sleep(0.1)
        stop.set()
        await task
        async with sessionmaker(engine)() as session:
            letters = (await session.scalars(select(DeadLetter))).all()
            articles = (await session.scalars(select(Article.title))).all()
    finally:
        await engine.dispose()

    assert [(d.message_id, d.partition, d.offset) for d in letters] == [("poison-1", 0, 0)]
    assert "MessageError" in letters[0].error
    assert articles == [good.title]

    dlq: list[Record] = []
    group = f"{kafka_settings.consumer_group}-dlq"
    async with bus.consumer([kafka_settings.topic_dlq], group) as consumer:
        for _ in range(60):
            dlq += await consumer.poll(timeout=0.5)
            if dlq:
                break
    assert [r.value for r in dlq] == [b"\xff not json"]
    assert dict(dlq[0].headers)["error"].startswith(b"MessageError")
