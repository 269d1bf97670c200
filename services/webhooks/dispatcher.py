"""The ``dispatch`` role: send due deliveries as signed webhooks, record every attempt.

One loop claims due deliveries (services.webhooks.queue) a little ahead of
need; ``Slots`` starts them as slots free up (``DRAWDOWN_WEBHOOK_CONCURRENCY``
requests in flight at most, ``DRAWDOWN_WEBHOOK_PER_SUBSCRIPTION_CONCURRENCY`` per
subscription), each in a task of its own through the process's one HTTP client.
Answers are written in batches (attempt rows, delivery status, breakers) as they
come back. Any number of dispatchers can run against one database.

On stop no more deliveries are claimed, those held but not sent are handed back,
and the requests in flight finish (each within ``DRAWDOWN_WEBHOOK_TIMEOUT``). A
dispatcher that is killed leaves its claimed deliveries to be sent again once
their lease runs out: at least once, with the same ``webhook-id``, so receivers
can dedupe.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.leases import Batcher
from services.db import UNAVAILABLE
from services.settings import Settings
from services.webhooks import notify, payload, queue
from services.webhooks.metrics import METRICS, WebhookMetrics
from services.webhooks.policy import BreakerPolicy, RetryPolicy, decide
from services.webhooks.queue import Job, Result
from services.webhooks.send import Outcome, post
from services.webhooks.slots import Slots

log = logging.getLogger(__name__)

RESULTS_PER_TRANSACTION = 200
MAX_DATABASE_BACKOFF = 30.0


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        base=settings.webhook_backoff_base,
        cap=settings.webhook_backoff_max,
        horizon=settings.webhook_retry_horizon,
    )


def breaker_policy(settings: Settings) -> BreakerPolicy:
    return BreakerPolicy(
        threshold=settings.webhook_breaker_threshold, cooldown=settings.webhook_breaker_cooldown
    )


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        client: httpx.AsyncClient,
        *,
        metrics: WebhookMetrics = METRICS,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._client = client
        self._metrics = metrics
        self._rng = rng or random.Random()
        self._retry = retry_policy(settings)
        self._breaker = breaker_policy(settings)
        self._slots: Slots[Job] = Slots(
            settings.webhook_concurrency,
            settings.webhook_per_subscription_concurrency,
            settings.webhook_breaker_threshold,
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._room = asyncio.Event()  # set when a claim may find room it did not have
        self._stopping = False
        self._results: Batcher[Result, None] = Batcher(self._record, RESULTS_PER_TRANSACTION)
        self.sent = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until ``stop`` is set, then let the requests in flight finish."""
        s = self._settings
        log.info(
            "dispatcher started concurrency=%d per_subscription=%d",
            s.webhook_concurrency,
            s.webhook_per_subscription_concurrency,
        )
        delay = s.webhook_poll_interval
        while not stop.is_set():
            wanted = min(self._slots.room(), s.webhook_batch_size)
            claimed = 0
            if wanted:
                try:
                    claimed = await self._claim(wanted)
                    delay = s.webhook_poll_interval
                except UNAVAILABLE as exc:
                    delay = min(delay * 2, MAX_DATABASE_BACKOFF)
                    log.warning("database unavailable retry_in=%.1fs error=%s", delay, exc)
                    await _wait(stop, delay)
                    continue
            if wanted and claimed == wanted:
                await asyncio.sleep(0)  # more may be due: claim again at once
            else:  # until there is room for a claim worth making, or the next poll
                await _wait(stop, s.webhook_poll_interval, self._room)
        await self._drain()

    async def _drain(self) -> None:
        """Hand back what was claimed but not sent; let the requests in flight finish."""
        self._stopping = True
        await self._release(self._slots.drain())
        if self._tasks:
            log.info("dispatcher draining in_flight=%d", len(self._tasks))
            await asyncio.wait(self._tasks)
        log.info("dispatcher stopped sent=%d", self.sent, extra={"sent": self.sent})

    async def _claim(self, wanted: int) -> int:
        s = self._settings
        jobs = await queue.claim(
            self._engine,
            datetime.now(UTC),
            limit=wanted,
            lease=s.webhook_lease,
            per_subscription=self._slots.claim_cap(),
            threshold=s.webhook_breaker_threshold,
            busy=self._slots.busy(),
        )
        self._slots.add(jobs)
        self._start_ready()
        return len(jobs)

    def _start_ready(self) -> None:
        if self._stopping:
            return
        for job in self._slots.ready():
            self._spawn(self._deliver(job), f"delivery-{job.delivery_id}")

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _finished(self, job: Job, outcome: Outcome) -> None:
        """A request came back: free its slot and start the next held delivery at once."""
        released, room = self._slots.finished(job, outcome.verdict)
        if released:
            log.info(
                "subscription failing, handing back deliveries subscription=%s count=%d",
                job.subscription,
                len(released),
            )
            self._spawn(self._release(released), f"release-{job.subscription_id}")
        self._start_ready()
        if room:
            self._room.set()

    async def _release(self, jobs: list[Job]) -> None:
        if not jobs:
            return
        try:
            await queue.release(self._engine, jobs, datetime.now(UTC))
        except UNAVAILABLE as exc:  # their leases run out instead
            log.warning("deliveries not handed back count=%d error=%s", len(jobs), exc)

    async def _send(self, job: Job) -> Outcome:
        """One attempt: a signed POST, or a notification when the URL is Apprise's."""
        s = self._settings
        if notify.is_apprise(job.url):
            return await notify.deliver(
                job.url, job.body, allowed=s.webhook_allowed_networks, timeout=s.webhook_timeout
            )
        headers = payload.headers(
            job.secret, payload.message_id(job.delivery_id), job.body, datetime.now(UTC)
        )
        return await post(
            self._client,
            job.url,
            job.body,
            headers,
            timeout=s.webhook_timeout,
            max_bytes=s.webhook_max_response_bytes,
        )

    async def _deliver(self, job: Job) -> None:
        outcome = await self._send(job)
        at = datetime.now(UTC)
        self._finished(job, outcome)
        decision = decide(
            outcome.verdict,
            attempt=job.attempt,
            now=at,
            retrying_since=job.retrying_since,
            policy=self._retry,
            draw=self._rng.random(),
            retry_after=outcome.retry_after,
        )
        result = Result(job, outcome, decision, at)
        try:
            await self._results.submit(result)
        except Exception as exc:  # noqa: BLE001 - the lease runs out and it is sent again
            log.warning(
                "attempt not recorded, will be sent again delivery_id=%s error=%s",
                job.delivery_id,
                exc,
            )
            return
        finally:
            self._slots.recorded(job)
        self.sent += 1
        lag = (at - job.event_created_at).total_seconds() * 1000
        self._metrics.record(
            decision.status, blocked=outcome.blocked, latency_ms=outcome.latency_ms, lag_ms=lag
        )
        _log(result)

    async def _record(self, results: list[Result]) -> list[None]:
        await queue.record(self._engine, results, self._breaker)
        return [None] * len(results)


def _log(result: Result) -> None:
    job, outcome, decision = result.job, result.outcome, result.decision
    if decision.status == "delivered" and not log.isEnabledFor(logging.DEBUG):
        return
    what = outcome.error or f"HTTP {outcome.status}"
    context = (
        f"delivery_id={job.delivery_id} subscription={job.subscription} event_id={job.event_id} "
        f"attempt={job.attempt} answer={what!r} latency_ms={outcome.latency_ms:.0f}"
    )
    fields = {
        "delivery_id": str(job.delivery_id),
        "subscription_id": job.subscription_id,
        "event_id": job.event_id,
        "attempt": job.attempt,
        "status": decision.status,
    }
    if decision.status == "delivered":
        log.debug("webhook delivered %s", context, extra=fields)
    elif decision.status == "pending" and decision.next_attempt_at is not None:
        wait = (decision.next_attempt_at - result.at).total_seconds()
        log.info("webhook failed, retrying %s retry_in=%.1fs", context, wait, extra=fields)
    elif decision.status == "cancelled":
        log.warning("webhook endpoint is gone, subscription disabled %s", context, extra=fields)
    else:
        log.warning("webhook delivery dead %s", context, extra=fields)


async def _wait(stop: asyncio.Event, timeout: float, *events: asyncio.Event) -> None:
    """Until ``stop`` or any of ``events`` is set, or ``timeout`` seconds pass."""
    waiters = [asyncio.ensure_future(e.wait()) for e in (stop, *events)]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    for event in events:
        event.clear()
