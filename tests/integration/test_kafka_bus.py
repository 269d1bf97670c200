"""KafkaBus against a real Kafka-API broker: delivery, headers, commits and redelivery."""

from __future__ import annotations

from services.bus import Record
from services.kafka import KafkaBus
from services.settings import Settings
from tests.conftest import KAFKA_SESSION_TIMEOUT


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
