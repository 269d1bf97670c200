"""The processor role: consume raw articles, read them, store them, then commit offsets.

At-least-once: offsets are committed only after the database transaction
commits; a redelivered message finds its sighting and is skipped. A message
that cannot be read goes to the dead-letter topic (and table) and never blocks
its partition; a database outage is retried with backoff, committing nothing.
"""

from __future__ import annotations

import asyncio
import logging
import random
from concurrent.futures import Executor
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.messages import RawArticle
from processor import outbox, store
from processor.alerting import AlertPolicy
from processor.analyze import Analysis, analyze
from services.bus import Bus, Consumer, Producer, Record
from services.db import UNAVAILABLE, sessionmaker
from services.settings import Settings

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0


class Worker:
    def __init__(
        self, settings: Settings, bus: Bus, engine: AsyncEngine, executor: Executor | None
    ) -> None:
        self._settings = settings
        self._bus = bus
        self._sessions = sessionmaker(engine)
        self._executor = executor
        self._policy = AlertPolicy(
            kinds=frozenset(settings.alert_kinds),
            min_confidence=settings.alert_min_confidence,
            window=timedelta(hours=settings.alert_window_hours),
        )
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
            while not stop.is_set():
                records = await consumer.poll(timeout=0.5)
                if records:
                    await self._batch(records, consumer, producer, stop)
                await self._publish_alert_events(producer)
            if not self._bus.durable:  # nothing keeps these messages past this process
                while records := await consumer.poll(timeout=0.1):
                    await self._batch(records, consumer, producer, asyncio.Event())
        log.info(
            "processor stopped processed=%d", self.processed, extra={"processed": self.processed}
        )

    async def _batch(
        self, records: list[Record], consumer: Consumer, producer: Producer, stop: asyncio.Event
    ) -> None:
        done: list[Record] = []
        for record in records:
            if not await self._with_retry(record, producer, stop):
                break
            done.append(record)
        try:
            await consumer.commit(done)
        except (
            Exception
        ):  # a rebalance took the partition: the new owner redoes these, idempotently
            log.warning("offset commit failed; records will be redelivered", exc_info=True)

    async def _publish_alert_events(self, producer: Producer) -> None:
        """Relay the outbox; a failure is retried on the next round, nothing is lost."""
        try:
            while await outbox.relay(self._sessions, producer, self._settings.topic_alerts):
                pass
        except Exception as exc:  # noqa: BLE001 - the outbox keeps them; log and go on
            log.warning("alert events not published yet error=%s", exc)

    async def _with_retry(self, record: Record, producer: Producer, stop: asyncio.Event) -> bool:
        """Handle one record, retrying database failures; False if stopped before it was stored."""
        delay = 0.5
        while True:
            try:
                await self._handle(record, producer)
                return True
            except UNAVAILABLE as exc:
                log.warning(
                    "database unavailable topic=%s partition=%d offset=%d retry_in=%.1fs error=%s",
                    record.topic,
                    record.partition,
                    record.offset,
                    delay,
                    exc,
                )
            try:
                await asyncio.wait_for(stop.wait(), delay * random.uniform(0.5, 1.5))
                return False
            except TimeoutError:
                delay = min(delay * 2, MAX_BACKOFF)

    async def _read(self, raw: RawArticle) -> Analysis:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, analyze, raw.title, raw.text)

    async def _handle(self, record: Record, producer: Producer) -> None:
        try:
            raw = RawArticle.decode(record.value)
            analysis = await self._read(raw)
            async with self._sessions.begin() as session:
                stored = await store.save(session, raw, analysis, self._policy)
        except UNAVAILABLE:
            raise
        except Exception as exc:  # noqa: BLE001 - one policy: what cannot be processed is dead-lettered
            await self._dead_letter(record, producer, exc)
            return
        self.processed += 1
        if stored is not None:
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

    async def _dead_letter(self, record: Record, producer: Producer, exc: BaseException) -> None:
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
        async with self._sessions.begin() as session:
            await store.dead_letter(
                session, message_id, record.topic, record.partition, record.offset, error
            )
