"""/metrics moves when the seeds are replayed through Kafka, webhooks are delivered and
sources are polled; the consumer lag comes from the bus and never breaks a scrape.

Every scrape is parsed by prometheus_client's own parser, which also checks the format.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from ingest.publish import publish
from ingest.replay import read_all, replay
from processor.worker import Worker
from services.api.app import create_app
from services.bus import MemoryBus
from services.db import create_engine, sessionmaker
from services.kafka import KafkaBus
from services.models import Delivery, Source
from services.runtime import Runtime, open_runtime
from services.settings import Settings
from services.webhooks.subscriptions import SubscriptionSpec
from tests.apikit import client
from tests.conftest import SEEDS
from tests.servers import free_port, local_server
from tests.webhookkit import (
    Receiver,
    dispatching,
    settled,
    status,
    subscribe,
    wait_for,
    webhook_settings,
)

DEADLINE = 60.0  # seconds any awaited change may take
Labels = tuple[tuple[str, str], ...]


class Scrape:
    """One parsed /metrics answer."""

    def __init__(self, text: str) -> None:
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.samples: dict[tuple[str, Labels], float] = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in self.families.values()
            for s in family.samples
        }

    def __call__(self, sample: str, /, **labels: str) -> float:
        return self.samples[(sample, tuple(sorted(labels.items())))]

    def total(self, name: str) -> float:
        return sum(value for (sample, _), value in self.samples.items() if sample == name)

    def labelled(self, name: str) -> dict[Labels, float]:
        return {labels: value for (sample, labels), value in self.samples.items() if sample == name}


async def scrape(http: httpx.AsyncClient) -> Scrape:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Scrape(response.text)


async def scrape_until(
    http: httpx.AsyncClient, holds: Callable[[Scrape], bool], what: str
) -> Scrape:
    deadline = time.monotonic() + DEADLINE
    while True:
        now = await scrape(http)
        if holds(now):
            return now
        if time.monotonic() > deadline:
            raise AssertionError(f"metrics never showed {what} within {DEADLINE}s")
        await asyncio.sleep(0.2)


def lags(now: Scrape, settings: Settings) -> dict[int, float]:
    """The processor group's lag on the raw topic, by partition."""
    found = {}
    for labels, value in now.labelled("drawdown_consumer_lag").items():
        named = dict(labels)
        assert named["group"] == settings.consumer_group
        assert named["topic"] == settings.topic_raw
        found[int(named["partition"])] = value
    return found


async def run_worker_until(runtime: Runtime, done: Callable[[], Awaitable[bool]]) -> None:
    stop = asyncio.Event()
    worker = Worker(runtime.settings, runtime.bus, runtime.engine, runtime.pool)
    task = asyncio.create_task(worker.run(stop))
    try:
        await wait_for(done, DEADLINE)
    finally:
        stop.set()
        await asyncio.wait_for(task, DEADLINE)


@pytest.fixture
async def runtime(kafka_settings: Settings) -> AsyncIterator[Runtime]:
    """PostgreSQL and Kafka (topics and group of this test's own), receivers on 127.0.0.1."""
    settings = webhook_settings(
        kafka_settings.database_url,
        kafka_bootstrap=kafka_settings.kafka_bootstrap,
        topic_prefix=kafka_settings.topic_prefix,
        consumer_group=kafka_settings.consumer_group,
        topic_partitions=kafka_settings.topic_partitions,
        kafka_session_timeout=kafka_settings.kafka_session_timeout,
        worker_processes=0,
    )
    async with open_runtime(settings) as opened:
        yield opened


async def test_metrics_move_when_the_seeds_are_replayed(runtime: Runtime) -> None:
    settings, engine = runtime.settings, runtime.engine
    receiver = Receiver(answers=[status(500)])  # the first request fails, its retry succeeds
    async with (
        local_server() as server,
        client(create_app(settings, engine, bus=runtime.bus)) as http,
    ):
        await subscribe(
            engine, SubscriptionSpec("metrics", receiver.mount(server), receiver.secret)
        )
        before = await scrape(http)
        assert before("drawdown_articles_total") == 0
        assert before("drawdown_documents_processed_total") == 0
        assert before.total("drawdown_alerts") == 0
        assert before("drawdown_fetch_to_processed_seconds_count") == 0
        assert lags(before, settings) == {0: 0, 1: 0, 2: 0}

        # The seeds go onto the raw topic (as `drawdown replay` puts them): the lag shows them.
        documents = await read_all(runtime, SEEDS)
        async with runtime.bus.producer() as producer:
            for document in documents:
                assert document.article is not None
                await publish(producer, settings.topic_raw, document.article, partition=0)
        seeds = len(documents)
        assert lags(await scrape(http), settings) == {0: seeds, 1: 0, 2: 0}

        # A worker reads them: articles, sightings, alerts and latencies rise, the lag drains.
        async def processed() -> bool:
            now = await scrape(http)
            return now("drawdown_documents_processed_total") == seeds and not any(
                lags(now, settings).values()
            )

        await run_worker_until(runtime, processed)
        after = await scrape(http)
        assert after("drawdown_articles_total") == seeds
        assert after("drawdown_sightings_total", match="new") == seeds
        assert after.total("drawdown_documents_deduplicated_total") == 0
        assert after.total("drawdown_alerts") > 0
        assert after("drawdown_fetch_to_processed_seconds_count") == seeds
        assert after("drawdown_fetch_to_processed_seconds_bucket", le="+Inf") == seeds
        assert after("drawdown_processed_to_alerted_seconds_count") >= 1
        assert after("drawdown_dead_letters_total") == 0
        assert lags(after, settings) == {0: 0, 1: 0, 2: 0}

        # The alerts owe the subscription webhooks: pending until a dispatcher sends them.
        owed = after("drawdown_webhook_deliveries", status="pending")
        assert owed > 0
        assert after.total("drawdown_webhook_attempts_total") == 0
        assert after("drawdown_alert_to_delivered_seconds_count") == 0
        async with dispatching(settings, engine):
            await wait_for(lambda: settled(engine), DEADLINE)
        sent = await scrape(http)
        assert sent("drawdown_webhook_deliveries", status="delivered") == owed
        assert sent("drawdown_webhook_deliveries", status="pending") == 0
        assert sent("drawdown_webhook_attempts_total", outcome="5xx") == 1
        assert sent("drawdown_webhook_attempts_total", outcome="2xx") == owed
        assert sent("drawdown_alert_to_delivered_seconds_count") == owed
        assert sent("drawdown_alert_to_delivered_seconds_bucket", le="+Inf") == owed
        assert sent("drawdown_alert_to_delivered_seconds_sum") > 0

        # Replayed again, every seed is a duplicate: counted as such, no new article or alert.
        reports = await replay(runtime, SEEDS)
        assert all(r["duplicate_of"] for r in reports if "file" in r)
        again = await scrape_until(
            http,
            lambda now: not any(lags(now, settings).values()),
            "the processor's lag back at 0",
        )
        assert again("drawdown_articles_total") == seeds
        assert again("drawdown_documents_processed_total") == 2 * seeds
        assert again.total("drawdown_documents_deduplicated_total") == seeds
        assert again("drawdown_sightings_total", match="new") == seeds
        assert again.total("drawdown_alerts") == after.total("drawdown_alerts")
    async with sessionmaker(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == owed


async def test_the_lag_is_left_out_when_the_bus_does_not_answer(pg_url: str) -> None:
    settings = Settings(database_url=pg_url)
    engine = create_engine(settings)
    dead = KafkaBus(Settings(kafka_bootstrap=f"127.0.0.1:{free_port()}"))  # nothing listens
    memory = MemoryBus()
    await memory.ensure_topics([settings.topic_raw])
    try:
        async with client(create_app(settings, engine, bus=dead)) as http:
            now = await scrape(http)
            assert "drawdown_consumer_lag" not in now.families
            assert now("drawdown_articles_total") == 0
        async with client(create_app(settings, engine, bus=memory)) as http:
            assert lags(await scrape(http), settings) == {0: 0}
    finally:
        await engine.dispose()


async def test_per_source_poll_outcomes(pg_url: str) -> None:
    settings = Settings(database_url=pg_url)
    engine = create_engine(settings)
    polled = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    try:
        async with sessionmaker(engine).begin() as session:
            session.add_all(
                [
                    Source(
                        name="Outlet A",
                        url="https://a.example/feed",
                        kind="feed",
                        last_status="200",
                        last_polled_at=polled,
                        articles_found=3,
                    ),
                    Source(
                        name="Outlet B",
                        url="https://b.example/feed",
                        kind="feed",
                        last_status="timeout",
                        last_polled_at=polled,
                        error_count=2,
                        articles_found=1,
                    ),
                    Source(name="Outlet C", url="https://c.example/", kind="page", enabled=False),
                ]
            )
        async with sessionmaker(engine)() as session:
            ids = {
                row.name: row.id for row in await session.execute(select(Source.name, Source.id))
            }
        a, b, c = (
            {"source": str(ids[name]), "name": name}
            for name in ("Outlet A", "Outlet B", "Outlet C")
        )
        async with client(create_app(settings, engine)) as http:
            now = await scrape(http)
        assert now("drawdown_entries_fetched_total") == 4
        assert now("drawdown_sources", health="ok") == 1
        assert now("drawdown_sources", health="erroring") == 1
        assert now("drawdown_sources", health="disabled") == 1
        assert now("drawdown_source_health", **a, health="ok") == 1
        assert now("drawdown_source_health", **a, health="erroring") == 0
        assert now("drawdown_source_health", **b, health="erroring") == 1
        assert now("drawdown_source_health", **c, health="disabled") == 1
        assert now("drawdown_source_last_poll_status", **a, status="200") == 1
        assert now("drawdown_source_last_poll_status", **b, status="timeout") == 1
        assert len(now.labelled("drawdown_source_last_poll_status")) == 2  # C was never polled
        assert now("drawdown_source_last_poll_timestamp_seconds", **a) == polled.timestamp()
        assert now("drawdown_source_consecutive_errors", **a) == 0
        assert now("drawdown_source_consecutive_errors", **b) == 2
        assert now("drawdown_source_articles_found_total", **a) == 3
        assert now("drawdown_source_articles_found_total", **c) == 0
    finally:
        await engine.dispose()
