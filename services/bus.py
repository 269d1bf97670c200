"""The message bus: ports every role talks to, and the in-process bus.

``KafkaBus`` (services.kafka) and ``MemoryBus`` (here) share one interface, so
the pipeline runs unchanged on Apache Kafka or inside one process. Both deliver
at least once: a consumer resumes from the group's last *committed* offset, and
workers commit only after the database commit.

Each bus also answers two questions for operators: ``ready()`` (can it be used
now) and ``lag(group, topics)`` (how many messages a consumer group has yet to
commit, per partition), which /readyz, /metrics and ``drawdown status`` show.
The in-process bus answers them only for its own process: they mean something
inside ``drawdown run``, where every role shares it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

Headers = Sequence[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class Record:
    """One consumed message with its coordinates."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


class Producer(Protocol):
    async def send(
        self,
        topic: str,
        value: bytes,
        *,
        key: bytes | None = None,
        headers: Headers = (),
        partition: int | None = None,
    ) -> None:
        """Publish one message and return once the bus has acknowledged it.

        ``partition`` pins the message (e.g. to keep a replay in order); by
        default the key decides.
        """


class Consumer(Protocol):
    async def poll(self, timeout: float) -> list[Record]:
        """Return the next records, waiting up to ``timeout`` seconds for any."""

    async def commit(self, records: Sequence[Record]) -> None:
        """Mark ``records`` (and everything before them per partition) as processed."""


class Bus(Protocol):
    durable: bool  # messages outlive the process (Kafka), or not (in-process)

    async def ensure_topics(self, topics: Sequence[str]) -> None: ...

    def producer(self) -> AbstractAsyncContextManager[Producer]: ...

    def consumer(
        self, topics: Sequence[str], group: str
    ) -> AbstractAsyncContextManager[Consumer]: ...

    async def ready(self) -> bool:
        """Whether the bus answers now (Kafka: a metadata request within a short timeout)."""

    async def lag(self, group: str, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        """Per (topic, partition) of the existing ``topics``: messages on the bus that
        ``group`` has not committed (end offset minus committed offset; with no commit,
        minus the log's start)."""


def next_offsets(records: Sequence[Record]) -> dict[tuple[str, int], int]:
    """The offset to commit per (topic, partition): one past the highest record."""
    offsets: dict[tuple[str, int], int] = {}
    for record in records:
        slot = (record.topic, record.partition)
        offsets[slot] = max(offsets.get(slot, 0), record.offset + 1)
    return offsets


class MemoryBus:
    """A single-partition, in-process bus with consumer-group offsets.

    Used by the embedded default (no servers). Messages live as long as the
    process; a consumer that stops without committing sees its records again.
    """

    durable = False

    def __init__(self) -> None:
        self._logs: dict[str, list[Record]] = defaultdict(list)
        self._committed: dict[tuple[str, str], int] = {}
        self._changed = asyncio.Condition()

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        for topic in topics:
            self._logs.setdefault(topic, [])

    @asynccontextmanager
    async def producer(self) -> AsyncIterator[Producer]:
        yield _MemoryProducer(self)

    @asynccontextmanager
    async def consumer(self, topics: Sequence[str], group: str) -> AsyncIterator[Consumer]:
        yield _MemoryConsumer(self, tuple(topics), group)

    async def ready(self) -> bool:
        return True

    async def lag(self, group: str, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        return {
            (topic, 0): len(self._logs[topic]) - self._committed.get((group, topic), 0)
            for topic in topics
            if topic in self._logs
        }

    async def _append(self, topic: str, value: bytes, key: bytes | None, headers: Headers) -> None:
        async with self._changed:
            log = self._logs[topic]
            log.append(Record(topic, 0, len(log), key, value, tuple(headers)))
            self._changed.notify_all()


class _MemoryProducer:
    def __init__(self, bus: MemoryBus) -> None:
        self._bus = bus

    async def send(
        self,
        topic: str,
        value: bytes,
        *,
        key: bytes | None = None,
        headers: Headers = (),
        partition: int | None = None,
    ) -> None:
        await self._bus._append(topic, value, key, headers)


class _MemoryConsumer:
    def __init__(self, bus: MemoryBus, topics: tuple[str, ...], group: str) -> None:
        self._bus = bus
        self._group = group
        self._position = {topic: bus._committed.get((group, topic), 0) for topic in topics}

    def _take(self) -> list[Record]:
        records: list[Record] = []
        for topic, position in self._position.items():
            fresh = self._bus._logs[topic][position:]
            self._position[topic] = position + len(fresh)
            records.extend(fresh)
        return records

    async def poll(self, timeout: float) -> list[Record]:
        async with self._bus._changed:
            records = self._take()
            if not records:
                try:
                    await asyncio.wait_for(self._bus._changed.wait(), timeout)
                except TimeoutError:
                    return []
                records = self._take()
        return records

    async def commit(self, records: Sequence[Record]) -> None:
        for (topic, _partition), offset in next_offsets(records).items():
            slot = (self._group, topic)
            self._bus._committed[slot] = max(self._bus._committed.get(slot, 0), offset)
