"""services.bus.MemoryBus: the in-process bus with consumer-group offsets."""

from __future__ import annotations

import asyncio
import time

from services.bus import MemoryBus, Record, next_offsets

TOPIC = "drawdown.articles.raw"


async def produce(bus: MemoryBus, *values: bytes, topic: str = TOPIC) -> None:
    async with bus.producer() as producer:
        for value in values:
            await producer.send(topic, value, key=b"k", headers=[("message_id", value)])


async def test_produced_records_are_consumed_in_order_with_their_coordinates() -> None:
    bus = MemoryBus()
    await produce(bus, b"a", b"b")
    async with bus.consumer([TOPIC], "g") as consumer:
        records = await consumer.poll(timeout=0.1)
    assert [r.value for r in records] == [b"a", b"b"]
    assert [(r.topic, r.partition, r.offset) for r in records] == [(TOPIC, 0, 0), (TOPIC, 0, 1)]
    assert records[0].key == b"k"
    assert records[0].headers == (("message_id", b"a"),)


async def test_a_consumer_does_not_see_the_same_records_twice() -> None:
    bus = MemoryBus()
    await produce(bus, b"a")
    async with bus.consumer([TOPIC], "g") as consumer:
        assert len(await consumer.poll(timeout=0.1)) == 1
        assert await consumer.poll(timeout=0.01) == []
        await produce(bus, b"b")
        assert [r.value for r in await consumer.poll(timeout=0.1)] == [b"b"]


async def test_uncommitted_records_are_redelivered_to_a_new_consumer_of_the_group() -> None:
    bus = MemoryBus()
    await produce(bus, b"a", b"b")
    async with bus.consumer([TOPIC], "g") as consumer:
        assert len(await consumer.poll(timeout=0.1)) == 2
    async with bus.consumer([TOPIC], "g") as again:
        assert [r.value for r in await again.poll(timeout=0.1)] == [b"a", b"b"]


async def test_committed_records_are_not_redelivered() -> None:
    bus = MemoryBus()
    await produce(bus, b"a", b"b", b"c")
    async with bus.consumer([TOPIC], "g") as consumer:
        records = await consumer.poll(timeout=0.1)
        await consumer.commit(records[:2])
    async with bus.consumer([TOPIC], "g") as again:
        assert [r.value for r in await again.poll(timeout=0.1)] == [b"c"]


async def test_commit_never_moves_the_group_offset_back() -> None:
    bus = MemoryBus()
    await produce(bus, b"a", b"b")
    async with bus.consumer([TOPIC], "g") as consumer:
        records = await consumer.poll(timeout=0.1)
        await consumer.commit(records)
        await consumer.commit(records[:1])
    async with bus.consumer([TOPIC], "g") as again:
        assert await again.poll(timeout=0.01) == []


async def test_consumer_groups_are_independent() -> None:
    bus = MemoryBus()
    await produce(bus, b"a")
    async with bus.consumer([TOPIC], "first") as first:
        await first.commit(await first.poll(timeout=0.1))
    async with bus.consumer([TOPIC], "second") as second:
        assert [r.value for r in await second.poll(timeout=0.1)] == [b"a"]


async def test_topics_are_separate_logs() -> None:
    bus = MemoryBus()
    await bus.ensure_topics([TOPIC, "drawdown.articles.dlq"])
    await produce(bus, b"raw")
    await produce(bus, b"dead", topic="drawdown.articles.dlq")
    async with bus.consumer(["drawdown.articles.dlq"], "g") as consumer:
        records = await consumer.poll(timeout=0.1)
    assert [(r.topic, r.offset, r.value) for r in records] == [
        ("drawdown.articles.dlq", 0, b"dead")
    ]


async def test_poll_without_data_returns_empty_after_the_timeout() -> None:
    bus = MemoryBus()
    await bus.ensure_topics([TOPIC])
    async with bus.consumer([TOPIC], "g") as consumer:
        started = time.monotonic()
        assert await consumer.poll(timeout=0.05) == []
        assert time.monotonic() - started >= 0.04


async def test_poll_wakes_up_when_a_record_arrives() -> None:
    bus = MemoryBus()
    async with bus.consumer([TOPIC], "g") as consumer:
        waiting = asyncio.create_task(consumer.poll(timeout=5))
        await asyncio.sleep(0.01)
        started = time.monotonic()
        await produce(bus, b"late")
        records = await asyncio.wait_for(waiting, timeout=2)
    assert [r.value for r in records] == [b"late"]
    assert time.monotonic() - started < 1


def test_next_offsets_is_one_past_the_highest_offset_per_partition() -> None:
    records = [
        Record("t", 0, 4, None, b""),
        Record("t", 0, 2, None, b""),
        Record("t", 1, 0, None, b""),
        Record("u", 0, 7, None, b""),
    ]
    assert next_offsets(records) == {("t", 0): 5, ("t", 1): 1, ("u", 0): 8}
    assert next_offsets([]) == {}


async def test_the_memory_bus_is_always_ready() -> None:
    assert await MemoryBus().ready()


async def test_lag_counts_what_the_group_has_not_committed() -> None:
    bus = MemoryBus()
    await bus.ensure_topics([TOPIC, "empty"])
    await produce(bus, b"a", b"b", b"c")
    assert await bus.lag("g", [TOPIC, "empty", "unknown"]) == {(TOPIC, 0): 3, ("empty", 0): 0}
    async with bus.consumer([TOPIC], "g") as consumer:
        records = await consumer.poll(timeout=0.1)
        assert await bus.lag("g", [TOPIC]) == {(TOPIC, 0): 3}  # polled is not committed
        await consumer.commit(records[:2])
    assert await bus.lag("g", [TOPIC]) == {(TOPIC, 0): 1}
    assert await bus.lag("other", [TOPIC]) == {(TOPIC, 0): 3}
    assert await bus.lag("g", ["unknown"]) == {}  # asking about a topic did not make it
