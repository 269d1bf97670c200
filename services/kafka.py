"""``KafkaBus``: the bus on Apache Kafka (or any Kafka-API broker) via aiokafka.

``ready()`` and ``lag()`` open short-lived clients of their own: they run once
per probe or scrape, not per message. ``lag()`` reads the partitions from a
metadata request for all topics (asking for a topic by name may create it), the
group's committed offsets from one OffsetFetch naming those partitions (aiokafka
cannot decode some Kafka-API brokers' answer to the all-partitions form), and
the log's start and end offsets from ListOffsets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from services.bus import Consumer, Headers, Producer, Record, next_offsets
from services.errors import BusError
from services.settings import Settings

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 8 * 1024 * 1024
PROBE_TIMEOUT = 3.0  # seconds ready() waits for the broker's metadata
LAG_TIMEOUT = 5.0  # seconds lag() may take in all
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

    async def ready(self) -> bool:
        """The broker answers a metadata request, naming at least one broker, within
        PROBE_TIMEOUT seconds."""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT), self._admin(PROBE_TIMEOUT) as admin:
                cluster = await admin.describe_cluster()
        except (KafkaError, OSError, TimeoutError) as exc:
            log.info("kafka not ready bootstrap=%s error=%s", self._bootstrap, _why(exc))
            return False
        return bool(cluster.get("brokers"))

    async def lag(self, group: str, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        """End offset minus ``group``'s committed offset (or the log start, with no commit
        yet) per partition of those ``topics`` that exist; BusError if Kafka does not answer
        within LAG_TIMEOUT seconds."""
        try:
            async with asyncio.timeout(LAG_TIMEOUT):
                return await self._lag(group, topics)
        except (KafkaError, OSError, TimeoutError) as exc:
            raise BusError(
                f"cannot read the lag of group {group} from Kafka at {self._bootstrap}: {_why(exc)}"
            ) from exc

    async def _lag(self, group: str, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        async with self._admin(LAG_TIMEOUT) as admin:
            partitions = _partitions(await admin.describe_topics(None), topics)
            if not partitions:
                return {}
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            enable_auto_commit=False,
            request_timeout_ms=int(LAG_TIMEOUT * 1000),
        )
        try:
            await consumer.start()
            ends = await consumer.end_offsets(partitions)
            starts = await consumer.beginning_offsets(partitions)
        finally:
            await consumer.stop()
        lags: dict[tuple[str, int], int] = {}
        for slot in partitions:
            done = committed.get(slot)
            position = max(done.offset if done is not None else -1, starts[slot])
            lags[(slot.topic, slot.partition)] = max(ends[slot] - position, 0)
        return lags

    @asynccontextmanager
    async def _admin(self, timeout: float) -> AsyncIterator[AIOKafkaAdminClient]:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self._bootstrap, request_timeout_ms=int(timeout * 1000)
        )
        try:
            await admin.start()
            yield admin
        finally:
            await admin.close()

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


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _partitions(metadata: list[dict[str, Any]], topics: Sequence[str]) -> list[TopicPartition]:
    """The partitions of ``topics`` in a metadata answer, in order; unknown topics are left out."""
    wanted = set(topics)
    return sorted(
        TopicPartition(entry["topic"], part["partition"])
        for entry in metadata
        if entry["topic"] in wanted and not entry["error_code"]
        for part in entry["partitions"]
    )


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
