"""``KafkaBus``: the bus on Apache Kafka (or any Kafka-API broker) via aiokafka."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from services.bus import Consumer, Headers, Producer, Record, next_offsets
from services.errors import BusError
from services.settings import Settings

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 8 * 1024 * 1024
_TOPIC_ALREADY_EXISTS = 36


class KafkaBus:
    """Producers and consumer-group members on the brokers in ``settings.kafka_bootstrap``."""

    durable = True

    def __init__(self, settings: Settings) -> None:
        if not settings.kafka_bootstrap:
            raise BusError("KafkaBus needs DRAWDOWN_KAFKA_BOOTSTRAP")
        self._bootstrap = settings.kafka_bootstrap
        self._settings = settings

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        try:
            await admin.start()
            wanted = [NewTopic(t, self._settings.topic_partitions, 1) for t in topics]
            response = await admin.create_topics(wanted)
        except KafkaError as exc:
            raise BusError(f"cannot reach Kafka at {self._bootstrap}: {exc}") from exc
        finally:
            await admin.close()
        for topic, code, message in response.topic_errors:
            if code not in (0, _TOPIC_ALREADY_EXISTS):
                raise BusError(f"cannot create topic {topic}: error {code} {message}")

    @asynccontextmanager
    async def producer(self) -> AsyncIterator[Producer]:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            acks="all",
            enable_idempotence=self._settings.kafka_idempotence,
            compression_type="gzip",
            max_request_size=MAX_MESSAGE_BYTES,
            linger_ms=5,
        )
        await producer.start()
        try:
            yield _KafkaProducer(producer)
        finally:
            await producer.stop()

    @asynccontextmanager
    async def consumer(self, topics: Sequence[str], group: str) -> AsyncIterator[Consumer]:
        consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=self._bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self._settings.batch_size,
            session_timeout_ms=int(self._settings.kafka_session_timeout * 1000),
            heartbeat_interval_ms=int(self._settings.kafka_session_timeout * 1000 / 3),
            max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
            fetch_max_bytes=4 * MAX_MESSAGE_BYTES,
        )
        await consumer.start()
        try:
            yield _KafkaConsumer(consumer)
        finally:
            await consumer.stop()


class _KafkaProducer:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    async def send(
        self,
        topic: str,
        value: bytes,
        *,
        key: bytes | None = None,
        headers: Headers = (),
        partition: int | None = None,
    ) -> None:
        await self._producer.send_and_wait(
            topic, value, key=key, headers=list(headers), partition=partition
        )


class _KafkaConsumer:
    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer

    async def poll(self, timeout: float) -> list[Record]:
        batches = await self._consumer.getmany(timeout_ms=int(timeout * 1000))
        return [
            Record(m.topic, m.partition, m.offset, m.key, m.value, tuple(m.headers or ()))
            for messages in batches.values()
            for m in messages
        ]

    async def commit(self, records: Sequence[Record]) -> None:
        offsets = next_offsets(records)
        if offsets:
            await self._consumer.commit(
                {TopicPartition(topic, part): offset for (topic, part), offset in offsets.items()}
            )
