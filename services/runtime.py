"""The composition root: every long-lived resource of a process, opened and closed in one place."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from processor.analyze import warm_up
from services.bus import Bus, MemoryBus
from services.db import open_database
from services.kafka import KafkaBus
from services.pool import CpuPool, processes
from services.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    bus: Bus
    pool: CpuPool


def make_bus(settings: Settings) -> Bus:
    return KafkaBus(settings) if settings.kafka_bootstrap else MemoryBus()


def make_pool(settings: Settings, *, reads: bool = True) -> CpuPool:
    """The pool for CPU-bound work (parsing, extraction, reading; services.pool), so the
    event loop and Kafka heartbeats never wait. Workers load the reader's data up front
    only if they will read."""
    return CpuPool(processes(settings.worker_processes), warm_up if reads else None)


@asynccontextmanager
async def open_runtime(settings: Settings, *, reads: bool = True) -> AsyncIterator[Runtime]:
    """Open the process's resources; ``reads`` says whether documents are read here."""
    async with AsyncExitStack() as stack:
        engine = await stack.enter_async_context(open_database(settings))
        bus = make_bus(settings)
        await bus.ensure_topics([settings.topic_raw, settings.topic_dlq, settings.topic_alerts])
        pool = stack.enter_context(make_pool(settings, reads=reads))
        log.info(
            "runtime ready database=%s bus=%s",
            engine.url.render_as_string(hide_password=True),
            "kafka" if settings.kafka_bootstrap else "in-process",
        )
        yield Runtime(settings, engine, bus, pool)
