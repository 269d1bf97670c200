"""``GET /metrics``: Prometheus figures computed at scrape time.

Every figure but one is read from the tables, so any API process reports the
whole deployment (every worker's articles, every poller's sources, every
dispatcher's deliveries), not its own share. The consumer lag comes from the
bus the app was given; when the bus does not answer, that family is left out
of the scrape and the rest is served.

Each query is one grouped count, one sum or one window: the latency
histograms describe the latest ``RECENT_ARTICLES`` articles and the latest
``RECENT_DELIVERIES`` delivered webhooks. They are windows, not running
totals, so read them with ``histogram_quantile`` directly rather than through
``rate()``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, get_args

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from processor.alerts import STATUSES
from services.api.deps import Session, State
from services.api.exposition import (
    CONTENT_TYPE,
    Family,
    MetricType,
    histogram,
    labelled,
    render,
    single,
    table,
)
from services.api.sources import health
from services.api.vocabulary import SourceHealth
from services.bus import Bus
from services.models import (
    Alert,
    AlertEvent,
    Article,
    Base,
    DeadLetter,
    Delivery,
    DeliveryAttempt,
    Sighting,
    Source,
)
from services.settings import Settings
from services.webhooks.policy import Status as DeliveryStatus

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
RECENT_ARTICLES = 1000
RECENT_DELIVERIES = 1000
LAG_TIMEOUT = 5.0  # seconds the bus may take to report its lag
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
# Webhooks are retried for a day, so their buckets reach further.
DELIVERY_BUCKETS = (*LATENCY_BUCKETS[1:], 21600.0, 86400.0)
MATCHES = ("new", "url", "content", "near")
HEALTHS: tuple[SourceHealth, ...] = ("ok", "erroring", "parked", "disabled")
DELIVERY_STATUSES: tuple[str, ...] = get_args(DeliveryStatus)
ATTEMPT_OUTCOMES = ("2xx", "3xx", "4xx", "5xx", "no_response")
SOURCE_LABELS = ("source", "name")


async def _count(session: AsyncSession, model: type[Base], *where: ColumnElement[bool]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _grouped(session: AsyncSession, column: InstrumentedAttribute[Any]) -> dict[str, float]:
    rows = await session.execute(select(column, func.count()).group_by(column))
    return {str(key): float(count) for key, count in rows}


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return max((later - earlier).total_seconds(), 0.0)


async def latencies(session: AsyncSession) -> tuple[list[float], list[float]]:
    """fetch→processed and processed→alerted seconds over the latest articles."""
    rows = await session.execute(
        select(Article.fetched_at, Article.processed_at, Article.alerted_at)
        .order_by(Article.created_at.desc())
        .limit(RECENT_ARTICLES)
    )
    processing, alerting = [], []
    for fetched, processed, alerted in rows:
        if (seconds := _seconds(processed, fetched)) is not None:
            processing.append(seconds)
        if (seconds := _seconds(alerted, processed)) is not None:
            alerting.append(seconds)
    return processing, alerting


def attempt_outcome(status: int | None) -> str:
    """An attempt's answer as a class: ``2xx`` … ``5xx``, or ``no_response`` (a timeout,
    a refused connection, or an address the guard would not call)."""
    return "no_response" if status is None else f"{status // 100}xx"


async def documents(session: AsyncSession) -> list[Family]:
    """What the processor received and stored, from one grouped count of sightings."""
    sightings = dict.fromkeys(MATCHES, 0.0) | await _grouped(session, Sighting.match)
    duplicates = {match: count for match, count in sightings.items() if match != "new"}
    return [
        single(
            "drawdown_articles_total", "counter", "Articles stored.", await _count(session, Article)
        ),
        labelled(
            "drawdown_sightings_total",
            "counter",
            "Documents received, by how they matched a stored article (new: none).",
            "match",
            sightings,
        ),
        single(
            "drawdown_documents_processed_total",
            "counter",
            "Documents the processor read and stored: new articles and duplicates alike "
            "(one sighting each). Dead letters are not counted here.",
            sum(sightings.values()),
        ),
        labelled(
            "drawdown_documents_deduplicated_total",
            "counter",
            "Documents found to repeat a stored article, by how: the same canonical URL, "
            "the same normalized text, or a near-duplicate text.",
            "match",
            duplicates,
        ),
        single(
            "drawdown_dead_letters_total",
            "counter",
            "The dead-letter queue's size: documents that could not be processed and were "
            "sent to the dead-letter topic (kept in dead_letters, never removed).",
            await _count(session, DeadLetter),
        ),
    ]


async def alerting(session: AsyncSession) -> list[Family]:
    alerts = dict.fromkeys(STATUSES, 0.0) | await _grouped(session, Alert.status)
    processing, alerted = await latencies(session)
    return [
        labelled("drawdown_alerts", "gauge", "Alerts by current status.", "status", alerts),
        single(
            "drawdown_alert_events_unpublished",
            "gauge",
            "Alert events written but not yet published to the alerts topic.",
            await _count(session, AlertEvent, AlertEvent.published_at.is_(None)),
        ),
        histogram(
            "drawdown_fetch_to_processed_seconds",
            f"Fetch to stored, over the latest {RECENT_ARTICLES} articles.",
            processing,
            LATENCY_BUCKETS,
        ),
        histogram(
            "drawdown_processed_to_alerted_seconds",
            f"Stored to first alerted, for those of the latest {RECENT_ARTICLES} articles "
            "that alerted.",
            alerted,
            LATENCY_BUCKETS,
        ),
    ]


def _per_source(
    rows: Sequence[Any], name: str, kind: MetricType, help_text: str, column: str
) -> Family:
    """One sample per source: ``column`` of its row."""
    values = ((_source_labels(row), float(getattr(row, column))) for row in rows)
    return table(name, kind, help_text, SOURCE_LABELS, values)


def _source_labels(row: Any) -> tuple[str, str]:
    return str(row.id), row.name


def _health_rows(rows: Iterable[Any]) -> Iterable[tuple[tuple[str, ...], float]]:
    for row in rows:
        now = health(row.enabled, row.parked_until, row.error_count)
        for state in HEALTHS:
            yield (*_source_labels(row), state), float(state == now)


async def sources(session: AsyncSession) -> list[Family]:
    """The pollers' figures, from one read of the sources table (a list the operator keeps)."""
    rows = (
        await session.execute(
            select(
                Source.id,
                Source.name,
                Source.enabled,
                Source.parked_until,
                Source.error_count,
                Source.articles_found,
                Source.last_status,
                Source.last_polled_at,
            ).order_by(Source.id)
        )
    ).all()
    healths = Counter(health(r.enabled, r.parked_until, r.error_count) for r in rows)
    polled = [r for r in rows if r.last_polled_at is not None]
    return [
        single(
            "drawdown_entries_fetched_total",
            "counter",
            "Feed and page entries the pollers fetched and published to the raw topic "
            "(the sum of every source's articles_found); replayed documents are not counted.",
            sum(r.articles_found for r in rows),
        ),
        labelled(
            "drawdown_sources",
            "gauge",
            "Sources by health (ok, erroring, parked, disabled).",
            "health",
            {state: float(healths[state]) for state in HEALTHS},
        ),
        table(
            "drawdown_source_health",
            "gauge",
            "1 for the source's health (ok, erroring, parked, disabled), 0 for the others.",
            (*SOURCE_LABELS, "health"),
            _health_rows(rows),
        ),
        table(
            "drawdown_source_last_poll_status",
            "gauge",
            "1, labelled with the outcome of the source's last poll: ok, empty, "
            'not_modified, or why it failed (an HTTP status such as "429", or "timeout", '
            '"blocked", "binary", "parse", "pages" …).',
            (*SOURCE_LABELS, "status"),
            (((*_source_labels(r), str(r.last_status or "none")), 1.0) for r in polled),
        ),
        table(
            "drawdown_source_last_poll_timestamp_seconds",
            "gauge",
            "When the source was last polled (Unix time).",
            SOURCE_LABELS,
            ((_source_labels(r), r.last_polled_at.timestamp()) for r in polled),
        ),
        _per_source(
            rows,
            "drawdown_source_consecutive_errors",
            "gauge",
            "Polls of the source that failed in a row (0 after a success).",
            "error_count",
        ),
        _per_source(
            rows,
            "drawdown_source_articles_found_total",
            "counter",
            "Entries of the source fetched and published to the raw topic.",
            "articles_found",
        ),
    ]


async def delivery_latencies(session: AsyncSession) -> list[float]:
    """Alert event written → webhook delivered, seconds, over the latest delivered deliveries
    (newest alert events first, along the (event_id, subscription_id) unique index)."""
    rows = await session.execute(
        select(Delivery.delivered_at, AlertEvent.created_at)
        .join(AlertEvent, AlertEvent.id == Delivery.event_id)
        .where(Delivery.status == "delivered")
        .order_by(Delivery.event_id.desc())
        .limit(RECENT_DELIVERIES)
    )
    return [s for delivered, created in rows if (s := _seconds(delivered, created)) is not None]


async def webhooks(session: AsyncSession) -> list[Family]:
    deliveries = dict.fromkeys(DELIVERY_STATUSES, 0.0) | await _grouped(session, Delivery.status)
    outcomes = dict.fromkeys(ATTEMPT_OUTCOMES, 0.0)
    for status, count in (
        await session.execute(
            select(DeliveryAttempt.status, func.count()).group_by(DeliveryAttempt.status)
        )
    ).all():
        outcome = attempt_outcome(status)
        outcomes[outcome] = outcomes.get(outcome, 0.0) + float(count)
    return [
        labelled(
            "drawdown_webhook_deliveries",
            "gauge",
            "Webhook deliveries (one alert event owed to one subscription) by status: "
            "pending, delivered, dead, cancelled.",
            "status",
            deliveries,
        ),
        labelled(
            "drawdown_webhook_attempts_total",
            "counter",
            "Webhook requests made, by the endpoint's answer: 2xx … 5xx, or no_response "
            "(timeout, connection error, or an address the guard refused).",
            "outcome",
            outcomes,
        ),
        histogram(
            "drawdown_alert_to_delivered_seconds",
            "Alert event written to webhook delivered, over the latest "
            f"{RECENT_DELIVERIES} delivered deliveries.",
            await delivery_latencies(session),
            DELIVERY_BUCKETS,
        ),
    ]


async def collect(session: AsyncSession) -> list[Family]:
    """Every family read from the database."""
    return [
        *await documents(session),
        *await alerting(session),
        *await sources(session),
        *await webhooks(session),
    ]


async def consumer_lag(bus: Bus | None, settings: Settings) -> Family | None:
    """The processor group's lag on the raw topic per partition; None (the family left out
    of the scrape) without a bus or when the bus does not answer."""
    if bus is None:
        return None
    group, topic = settings.consumer_group, settings.topic_raw
    try:
        async with asyncio.timeout(LAG_TIMEOUT):
            lags = await bus.lag(group, [topic])
    except Exception as exc:  # noqa: BLE001 - the scrape goes on without this family
        log.warning(
            "consumer lag left out of metrics group=%s topic=%s error=%s", group, topic, exc
        )
        return None
    return table(
        "drawdown_consumer_lag",
        "gauge",
        "Messages on the topic that the consumer group has not committed yet, per "
        "partition (end offset minus the group's committed offset).",
        ("group", "topic", "partition"),
        (((group, t, str(p)), float(n)) for (t, p), n in sorted(lags.items())),
    )


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(session: Session, state: State) -> PlainTextResponse:
    """Prometheus text format (0.0.4)."""
    families = await collect(session)
    if (lag := await consumer_lag(state.bus, state.settings)) is not None:
        families.append(lag)
    return PlainTextResponse(render(families), media_type=CONTENT_TYPE)
