"""``GET /metrics``: Prometheus figures computed from the database at scrape time.

Every figure is read from the tables, so any API process reports the whole
deployment (every worker's articles, every poller's sources), not its own
share. The two latency histograms describe the latest ``RECENT_ARTICLES``
articles: a window, not a running total, so read them with
``histogram_quantile`` directly rather than through ``rate()``.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from processor.alerts import STATUSES
from services.api.deps import Session
from services.api.exposition import CONTENT_TYPE, Family, histogram, labelled, render, single
from services.api.sources import health
from services.api.vocabulary import SourceHealth
from services.models import Alert, AlertEvent, Article, Base, DeadLetter, Sighting, Source

router = APIRouter(tags=["health"])
RECENT_ARTICLES = 1000
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
MATCHES = ("new", "url", "content", "near")
HEALTHS: tuple[SourceHealth, ...] = ("ok", "erroring", "parked", "disabled")


async def _count(session: AsyncSession, model: type[Base], *where: ColumnElement[bool]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _grouped(session: AsyncSession, column: InstrumentedAttribute[str]) -> dict[str, float]:
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


async def _source_health(session: AsyncSession) -> dict[str, float]:
    rows = await session.execute(select(Source.enabled, Source.parked_until, Source.error_count))
    counts = Counter(health(enabled, parked, errors) for enabled, parked, errors in rows)
    return {state: float(counts[state]) for state in HEALTHS}


async def collect(session: AsyncSession) -> list[Family]:
    sightings = dict.fromkeys(MATCHES, 0.0) | await _grouped(session, Sighting.match)
    alerts = dict.fromkeys(STATUSES, 0.0) | await _grouped(session, Alert.status)
    processing, alerting = await latencies(session)
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
        labelled("drawdown_alerts", "gauge", "Alerts by current status.", "status", alerts),
        single(
            "drawdown_alert_events_unpublished",
            "gauge",
            "Alert events written but not yet published to the alerts topic.",
            await _count(session, AlertEvent, AlertEvent.published_at.is_(None)),
        ),
        single(
            "drawdown_dead_letters_total",
            "counter",
            "Documents that could not be processed.",
            await _count(session, DeadLetter),
        ),
        labelled(
            "drawdown_sources",
            "gauge",
            "Sources by health (ok, erroring, parked, disabled).",
            "health",
            await _source_health(session),
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
            alerting,
            LATENCY_BUCKETS,
        ),
    ]


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(session: Session) -> PlainTextResponse:
    """Prometheus text format (0.0.4)."""
    return PlainTextResponse(render(await collect(session)), media_type=CONTENT_TYPE)
