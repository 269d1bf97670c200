"""The ingest role's loop: lease due sources, poll them concurrently, record what happened.

One loop per process leases due sources (ingest.leases) in batches, up to
``DRAWDOWN_POLL_CONCURRENCY`` polls at a time, each in a task (ingest.poll does
the poll itself). Leases are renewed while polls run; each outcome is recorded
on the source row with others finishing at the same time. On stop, polls in
flight get most of ``DRAWDOWN_SHUTDOWN_TIMEOUT`` to finish; polls that had not
made their first request, and any still running then, give their leases back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest import leases, schedule
from ingest.poll import Abandoned, Polling
from services.bus import Producer
from services.db import UNAVAILABLE
from services.models import utcnow
from services.pool import CpuPool
from services.settings import Settings

log = logging.getLogger(__name__)

MAX_DATABASE_BACKOFF = 30.0
IDLE_WAIT = 1.0  # seconds between looks for due sources when none are due


@dataclass(frozen=True, slots=True)
class PollResult:
    source_id: int
    source: str
    url: str
    status: str | None
    new: int
    error: str | None
    next_poll_at: datetime


def holder_id() -> str:
    """Who holds a lease: host, process and a random suffix (a restarted process is new)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Poller:
    """Polls due sources until stopped; state lives in the ``sources`` table."""

    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        producer: Producer,
        client: httpx.AsyncClient,
        pool: CpuPool,
        *,
        holder: str | None = None,
        rand: schedule.Random = random.random,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._settings = settings
        self._engine = engine
        self.holder = holder or holder_id()
        self._ledger = leases.Ledger(engine, self.holder)
        self._polling = Polling(
            settings, producer, client, pool, self._ledger, rand=rand, clock=clock
        )
        self._clock = clock
        self._stop = asyncio.Event()
        self._inflight: dict[asyncio.Task[PollResult | None], int] = {}
        self.polls = 0

    # ---- the loop ---------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set, then finish polls in flight within the shutdown timeout."""
        self._stop = stop
        log.info(
            "poller started holder=%s concurrency=%d per_host=%d per_host_delay=%gs",
            self.holder,
            self._settings.poll_concurrency,
            self._settings.per_host_concurrency,
            self._settings.per_host_delay,
            extra={"holder": self.holder},
        )
        renewing = asyncio.create_task(self._renew_leases(stop))
        try:
            await self._lease_loop(stop)
        finally:
            await self._drain()
            renewing.cancel()
        log.info(
            "poller stopped holder=%s polls=%d",
            self.holder,
            self.polls,
            extra={"holder": self.holder, "polls": self.polls},
        )

    async def run_once(self) -> list[PollResult]:
        """Poll every source due now, once, and return what happened (for tests and tools)."""
        results: list[PollResult] = []
        while True:
            taken = await self._take(self._settings.poll_concurrency)
            if not taken:
                return results
            polled = await asyncio.gather(*(self._poll_task(lease) for lease in taken))
            results += [r for r in polled if r is not None]

    async def _lease_loop(self, stop: asyncio.Event) -> None:
        failures = 0
        # Lease in batches: wait until a quarter of the slots are free (or none is busy).
        batch = max(1, self._settings.poll_concurrency // 4)
        while not stop.is_set():
            free = self._settings.poll_concurrency - len(self._inflight)
            if self._inflight and free < batch:
                await self._wait_for_a_slot(stop)
                continue
            try:
                taken = await self._take(free)
                failures = 0
            except UNAVAILABLE as exc:
                failures += 1
                delay = min(MAX_DATABASE_BACKOFF, 0.5 * 2**failures) * random.uniform(0.5, 1.5)
                log.warning("cannot lease sources retry_in=%.1fs error=%s", delay, exc)
                await self._wait(stop, delay)
                continue
            for lease in taken:
                task = asyncio.create_task(self._poll_task(lease), name=f"poll-{lease.id}")
                self._inflight[task] = lease.id
                task.add_done_callback(self._inflight.pop)
            if len(taken) < free:  # nothing more is due: look again in a while
                await self._wait(stop, IDLE_WAIT)

    async def _wait_for_a_slot(self, stop: asyncio.Event) -> None:
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([*self._inflight, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()

    async def _take(self, limit: int) -> list[leases.Lease]:
        return await leases.take(
            self._engine,
            self.holder,
            now=self._clock(),
            limit=limit,
            duration=self._settings.poll_lease,
        )

    @staticmethod
    async def _wait(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    async def _renew_leases(self, stop: asyncio.Event) -> None:
        every = self._settings.poll_lease / 3
        while True:
            await asyncio.sleep(every)
            try:
                await leases.renew(
                    self._engine,
                    self.holder,
                    set(self._inflight.values()),
                    now=self._clock(),
                    duration=self._settings.poll_lease,
                )
            except UNAVAILABLE as exc:
                log.warning("cannot renew leases holder=%s error=%s", self.holder, exc)

    async def _drain(self) -> None:
        waiting = [t for t, i in self._inflight.items() if not self._polling.started(i)]
        if waiting:  # still queued at a host's gate: give these back rather than start them
            ids = [self._inflight[task] for task in waiting]
            for task in waiting:
                task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)
            await self._give_back(ids)
        if not self._inflight:
            return
        # Leave the daemon time to close everything else within its own shutdown deadline.
        timeout = self._settings.shutdown_timeout * 0.75
        log.info("finishing polls in flight polls=%d timeout=%.0fs", len(self._inflight), timeout)
        _, late = await asyncio.wait(list(self._inflight), timeout=timeout)
        if not late:
            return
        ids = [self._inflight[task] for task in late if task in self._inflight]
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        log.warning("abandoned unfinished polls source_ids=%s", ids)
        await self._give_back(ids)

    async def _give_back(self, ids: list[int]) -> None:
        try:
            await leases.abandon(self._engine, self.holder, ids)
        except UNAVAILABLE as exc:
            log.warning("cannot give back leases (they expire) ids=%s error=%s", ids, exc)

    # ---- one poll ---------------------------------------------------------------------

    async def _poll_task(self, lease: leases.Lease) -> PollResult | None:
        """Poll one source and record the outcome on its row."""
        try:
            outcome = await self._polling.poll(lease, self._stop)
        except Abandoned:
            await self._give_back([lease.id])
            return None
        try:
            await self._ledger.record(outcome.record)
        except UNAVAILABLE as exc:
            log.warning(
                "cannot record poll (the lease expires and it is polled again) "
                "source_id=%d url=%s error=%s",
                lease.id,
                lease.url,
                exc,
            )
            return None
        self.polls += 1
        return self._report(lease, outcome.record, outcome.new)

    def _report(self, lease: leases.Lease, record: leases.PollRecord, new: int) -> PollResult:
        next_in = (record.health.next_poll_at - record.polled_at).total_seconds()
        if not record.health.error_count:  # a success, perhaps with a note in its error
            log.info(
                "polled source_id=%d source=%r url=%s status=%s new=%d next_poll_in=%.0fs%s",
                lease.id,
                lease.name,
                lease.url,
                record.status,
                new,
                next_in,
                f" note={record.error!r}" if record.error else "",
                extra={
                    "source_id": lease.id,
                    "url": lease.url,
                    "status": record.status,
                    "new": new,
                    "note": record.error,
                },
            )
        else:
            log.warning(
                "poll failed source_id=%d source=%r url=%s status=%s error_count=%d "
                "parked=%s error=%r next_poll_in=%.0fs",
                lease.id,
                lease.name,
                lease.url,
                record.status,
                record.health.error_count,
                record.health.parked,
                record.error,
                next_in,
                extra={
                    "source_id": lease.id,
                    "url": lease.url,
                    "status": record.status,
                    "error_count": record.health.error_count,
                    "parked": record.health.parked,
                    "error": record.error,
                },
            )
        return PollResult(
            source_id=lease.id,
            source=lease.name,
            url=lease.url,
            status=record.status,
            new=new,
            error=record.error,
            next_poll_at=record.health.next_poll_at,
        )
