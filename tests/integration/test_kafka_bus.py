"""KafkaBus against a real Kafka-API broker: delivery, headers, commits and redelivery,
readiness and consumer lag."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from services.bus import Record
from services.errors import BusError
from services.kafka import KafkaBus
from services.settings import Settings
from tests.conftest import KAFKA_SESSION_TIMEOUT
from tests.servers import free_port


async def _drain(bus: KafkaBus, topic: str, group: str, want: int) -> list[Record]:
    records: list[Record] = []
    async with bus.consumer([topic], group) as consumer:
        for _ in range(60):
            records += await consumer.poll(timeout=0.5)
            if len(records) >= want:
                break
    return records


async def test_uncommitted_records_are_redelivered_and_committed_ones_are_not(
    kafka_bootstrap: str, unique: str
) -> None:
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_partitions=2,
        kafka_session_timeout=float(KAFKA_SESSION_TIMEOUT),
    )
    bus = KafkaBus(settings)
    topic, group = f"t{unique}", f"g{unique}"
    await bus.ensure_topics([topic])
    await bus.ensure_topics([topic])  # idempotent
    async with bus.producer() as producer:
        for i in range(6):
            await producer.send(
                topic, f"m{i}".encode(), key=f"k{i}".encode(), headers=[("h", b"v")]
            )
        await producer.send(topic, b"x" * 1_500_000, key=b"big")

    first = await _drain(bus, topic, group, 7)
    assert sorted(r.value for r in first if r.key != b"big") == [f"m{i}".encode() for i in range(6)]
    assert all(("h", b"v") in r.headers for r in first if r.key != b"big")
    assert [len(r.value) for r in first if r.key == b"big"] == [1_500_000]

    again = await _drain(bus, topic, group, 7)  # nothing was committed
    assert len(again) == 7
    async with bus.consumer([topic], group) as consumer:
        seen: list[Record] = []
        for _ in range(60):
            seen += await consumer.poll(timeout=0.5)
            if len(seen) >= 7:
                break
        await consumer.commit(seen)
    async with bus.producer() as producer:
        await producer.send(topic, b"after", key=b"k0")
    assert [r.value for r in await _drain(bus, topic, group, 1)] == [b"after"]


def _bus(bootstrap: str, partitions: int = 3) -> KafkaBus:
    return KafkaBus(
        Settings(
            kafka_bootstrap=bootstrap,
            topic_partitions=partitions,
            kafka_session_timeout=float(KAFKA_SESSION_TIMEOUT),
        )
    )


async def _topics(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        topics: list[str] = await admin.list_topics()
        return topics
    finally:
        await admin.close()


async def test_ready_when_the_broker_answers(kafka_bootstrap: str) -> None:
    assert await _bus(kafka_bootstrap).ready()


async def test_not_ready_when_nothing_listens() -> None:
    dead = _bus(f"127.0.0.1:{free_port()}")
    assert not await dead.ready()
    with pytest.raises(BusError, match="cannot read the lag"):
        await dead.lag("g", ["t"])


async def test_lag_is_what_the_group_has_not_committed_per_partition(
    kafka_bootstrap: str, unique: str
) -> None:
    bus = _bus(kafka_bootstrap)
    topic, group, missing = f"t{unique}", f"g{unique}", f"missing{unique}"
    await bus.ensure_topics([topic])
    assert await bus.lag(group, [topic]) == {(topic, 0): 0, (topic, 1): 0, (topic, 2): 0}

    sizes = {0: 4, 1: 3, 2: 0}
    async with bus.producer() as producer:
        for partition, size in sizes.items():
            for i in range(size):
                await producer.send(topic, f"{partition}-{i}".encode(), partition=partition)
    # No commit yet: everything from the log's start.
    assert await bus.lag(group, [topic]) == {(topic, 0): 4, (topic, 1): 3, (topic, 2): 0}

    async with bus.consumer([topic], group) as consumer:
        records: list[Record] = []
        for _ in range(60):
            records += await consumer.poll(timeout=0.5)
            if len(records) >= 7:
                break
        assert len(records) == 7
        # Commit two of partition 0's four and all of partition 1.
        await consumer.commit(
            [r for r in records if (r.partition, r.offset) in {(0, 0), (0, 1)} or r.partition == 1]
        )
    assert await bus.lag(group, [topic]) == {(topic, 0): 2, (topic, 1): 0, (topic, 2): 0}
    assert await bus.lag(f"other{unique}", [topic]) == {(topic, 0): 4, (topic, 1): 3, (topic, 2): 0}

    # A topic that does not exist has no partitions, and asking does not create it.
    assert await bus.lag(group, [missing]) == {}
    assert missing not in await _topics(kafka_bootstrap)
