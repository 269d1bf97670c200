"""The processor role: consume raw articles in batches, read them, store them, commit offsets.

    poll (≤ DRAWDOWN_BATCH_SIZE) → read every document in the process pool at once
    → store the batch in one transaction (processor/store.py) → commit its offsets

While one batch is stored the next is already being read, so the pool keeps
working through the database's round trips. At-least-once: offsets are
committed only after the database transaction commits; a redelivered message
finds its sighting and is skipped. A message that cannot be read goes to the
dead-letter topic (and table) and never blocks its partition; a batch that
fails on one record is stored again record by record, so only that one is
dead-lettered. Transient database failures (the database unreachable, a lost
connection, a deadlock, a serialization failure, a lock timeout) are retried
with capped exponential backoff and jitter, committing nothing meanwhile:
they are never a reason to dead-letter. Alert events are relayed from the
outbox to the alerts topic by a task of their own, nudged after each batch
that wrote some and otherwise every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.messages import RawArticle
from processor import outbox, store
from processor.alerting import AlertPolicy
from processor.analyze import Analysis, analyze
from services.bus import Bus, Consumer, Producer, Record
from services.db import sessionmaker, transient
from services.pool import CpuPool
from services.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 30.0
RELAY_INTERVAL = 2.0  # seconds between outbox checks when no batch has nudged


@dataclass(frozen=True, slots=True)
class Read:
    """One consumed record and what became of its reading."""

    record: Record
    raw: RawArticle | None = None
    analysis: Analysis | None = None
    error: BaseException | None = None


class Stopped(Exception):
    """Stopping while waiting to retry: the batch in hand is left uncommitted."""


class Worker:
    def __init__(self, settings: Settings, bus: Bus, engine: AsyncEngine, pool: CpuPool) -> None:
        self._settings = settings
        self._bus = bus
        self._sessions = sessionmaker(engine)
        self._pool = pool
        self._policy = AlertPolicy(
            kinds=frozenset(settings.alert_kinds),
            min_confidence=settings.alert_min_confidence,
            window=timedelta(hours=settings.alert_window_hours),
        )
        self._backlog: list[Record] = []
        self._alert_events = asyncio.Event()  # set when a batch wrote alert events
        self.processed = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; the batch in hand is finished and committed first."""
        topic, group = self._settings.topic_raw, self._settings.consumer_group
        async with self._bus.consumer([topic], group) as consumer, self._bus.producer() as producer:
            log.info(
                "processor started topic=%s group=%s",
                topic,
                group,
                extra={"topic": topic, "group": group},
            )
            consumed = asyncio.Event()
            relaying = asyncio.create_task(self._relay(producer, consumed))
            try:
                await self._consume(consumer, producer, stop)
                if not self._bus.durable:  # nothing keeps these messages past this process
                    await self._consume(consumer, producer, asyncio.Event(), drain=True)
            finally:
                consumed.set()
                self._alert_events.set()
                await relaying
        log.info(
            "processor stopped processed=%d", self.processed, extra={"processed": self.processed}
        )

    async def _poll(self, consumer: Consumer, timeout: float) -> list[Record]:
        """The next batch: at most DRAWDOWN_BATCH_SIZE records."""
        if not self._backlog:
            self._backlog = await consumer.poll(timeout=timeout)
        size = self._settings.batch_size
        batch, self._backlog = self._backlog[:size], self._backlog[size:]
        return batch

    async def _consume(
        self, consumer: Consumer, producer: Producer, stop: asyncio.Event, *, drain: bool = False
    ) -> None:
        """Store batches while the next ones are read; return once stopped (or drained).

        A reader task polls and reads into a queue one batch deep, so at most three
        batches are in hand: one being stored, one read, one being read."""
        ready: asyncio.Queue[list[Read] | None] = asyncio.Queue(maxsize=1)
        reader = asyncio.create_task(self._reader(consumer, stop, ready, drain))
        try:
            while (reads := await ready.get()) is not None:
                try:
                    await self._handle(reads, producer, stop)
                except Stopped:
                    return
                try:
                    await consumer.commit([r.record for r in reads])
                except Exception:  # a rebalance took the partition: the new owner redoes these
                    log.warning("offset commit failed; records will be redelivered", exc_info=True)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _reader(
        self,
        consumer: Consumer,
        stop: asyncio.Event,
        ready: asyncio.Queue[list[Read] | None],
        drain: bool,
    ) -> None:
        """Poll and read batches into ``ready`` until stopped (or drained), then None."""
        while not stop.is_set():
            records = await self._poll(consumer, 0.1 if drain else 0.5)
            if records:
                await ready.put(await self._read(records))
            elif drain:
                break
        await ready.put(None)

    async def _read(self, records: list[Record]) -> list[Read]:
        """Decode every record, then read them all at once across the pool, each within
        DRAWDOWN_PARSE_TIMEOUT: an overrun is this record's error (dead-lettered)."""
        decoded: list[Read] = []
        for record in records:
            try:
                decoded.append(Read(record, RawArticle.decode(record.value)))
            except Exception as exc:  # noqa: BLE001 - one policy: unreadable is dead-lettered
                decoded.append(Read(record, error=exc))
        limit = self._settings.parse_timeout
        futures = [
            self._pool.run(analyze, r.raw.title, r.raw.text, timeout=limit)
            for r in decoded
            if r.raw is not None
        ]
        analyses = iter(await asyncio.gather(*futures, return_exceptions=True))
        reads = []
        for r in decoded:
            if r.raw is None:
                reads.append(r)
                continue
            result = next(analyses)
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                reads.append(Read(r.record, r.raw, error=result))
            else:
                reads.append(Read(r.record, r.raw, result))
        return reads

    async def _handle(self, reads: list[Read], producer: Producer, stop: asyncio.Event) -> None:
        for r in reads:
            if r.error is not None:
                await self._dead_letter(r.record, producer, r.error, stop)
        await self._store([r for r in reads if r.analysis is not None], producer, stop)
        self.processed += len(reads)

    async def _store(self, reads: list[Read], producer: Producer, stop: asyncio.Event) -> None:
        """Store ``reads`` in one transaction; if one of them cannot be stored, each alone."""
        if not reads:
            return
        documents = [(r.raw, r.analysis) for r in reads if r.raw and r.analysis]

        async def save() -> list[store.Stored | None]:
            async with self._sessions.begin() as session:
                return await store.save_batch(session, documents, self._policy)

        try:
            results = await self._retrying(save, stop, reads[0].record, len(reads))
        except Stopped:
            raise
        except Exception as exc:  # noqa: BLE001 - the same input fails again: find which one
            if len(reads) > 1:
                log.warning("batch failed, storing its records one by one error=%s", exc)
                for r in reads:
                    await self._store([r], producer, stop)
                return
            await self._dead_letter(reads[0].record, producer, exc, stop)
            return
        if any(s is not None and s.alerts for s in results):
            self._alert_events.set()
        for r, stored in zip(reads, results, strict=True):
            if stored is not None and r.raw is not None and r.analysis is not None:
                _log_stored(r.raw, r.analysis, stored)

    async def _retrying(
        self, attempt: Callable[[], Awaitable[T]], stop: asyncio.Event, record: Record, count: int
    ) -> T:
        """``attempt()``, retried while it fails transiently; Stopped if stopping meanwhile."""
        delay = FIRST_BACKOFF
        while True:
            try:
                return await attempt()
            except Exception as exc:
                if not transient(exc):
                    raise
                wait = delay * random.uniform(0.5, 1.5)
                log.warning(
                    "database failure, retrying topic=%s partition=%d offset=%d records=%d "
                    "retry_in=%.2fs error=%s",
                    record.topic,
                    record.partition,
                    record.offset,
                    count,
                    wait,
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                )
            try:
                await asyncio.wait_for(stop.wait(), wait)
                raise Stopped
            except TimeoutError:
                delay = min(delay * 2, MAX_BACKOFF)

    async def _relay(self, producer: Producer, consumed: asyncio.Event) -> None:
        """Relay the outbox when nudged (or every RELAY_INTERVAL), a last time once
        consuming is over; a failure is retried on the next round, nothing is lost."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._alert_events.wait(), RELAY_INTERVAL)
            self._alert_events.clear()
            try:
                while await outbox.relay(self._sessions, producer, self._settings.topic_alerts):
                    pass
            except Exception as exc:  # noqa: BLE001 - the outbox keeps them; log and go on
                log.warning("alert events not published yet error=%s", exc)
            if consumed.is_set():
                return

    async def _dead_letter(
        self, record: Record, producer: Producer, exc: BaseException, stop: asyncio.Event
    ) -> None:
        error = f"{type(exc).__name__}: {exc}"
        log.error(
            "dead-lettered topic=%s partition=%d offset=%d key=%r error=%s",
            record.topic,
            record.partition,
            record.offset,
            record.key,
            error,
            extra={"topic": record.topic, "partition": record.partition, "offset": record.offset},
        )
        message_id = dict(record.headers).get("message_id", b"").decode() or None
        await producer.send(
            self._settings.topic_dlq,
            record.value,
            key=record.key,
            headers=[*record.headers, ("error", error.encode()[:1000])],
        )

        async def remember() -> None:
            async with self._sessions.begin() as session:
                await store.dead_letter(
                    session, message_id, record.topic, record.partition, record.offset, error
                )

        await self._retrying(remember, stop, record, 1)


def _log_stored(raw: RawArticle, analysis: Analysis, stored: store.Stored) -> None:
    log.info(
        "stored message_id=%s article_id=%s duplicate=%s events=%d alerts=%d",
        raw.message_id,
        stored.article_id,
        stored.duplicate,
        len(analysis.events),
        len(stored.alerts),
        extra={
            "message_id": raw.message_id,
            "article_id": str(stored.article_id),
            "duplicate": stored.duplicate,
            "alerts": [
                {
                    "alert_id": str(a.alert_id),
                    "place": a.place,
                    "kind": a.kind,
                    "status": a.status,
                    "new": a.new,
                }
                for a in stored.alerts
            ],
        },
    )
