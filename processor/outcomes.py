"""Read back what became of processed documents (for replay reports and the API)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import Alert, AlertArticle, Article, DeadLetter, Event, Mention, Sighting


async def finished(session: AsyncSession, message_ids: Sequence[str]) -> set[str]:
    """The message ids that were stored or dead-lettered."""
    stored = await session.scalars(
        select(Sighting.message_id).where(Sighting.message_id.in_(message_ids))
    )
    failed = await session.scalars(
        select(DeadLetter.message_id).where(DeadLetter.message_id.in_(message_ids))
    )
    return {*stored, *(m for m in failed if m)}


async def _article(session: AsyncSession, article_id: Any) -> dict[str, Any]:
    article = await session.get_one(Article, article_id)
    places = await session.scalars(
        select(Mention.place).where(Mention.article_id == article_id).order_by(Mention.start)
    )
    events = await session.scalars(
        select(Event).where(Event.article_id == article_id).order_by(Event.evidence_start, Event.id)
    )
    return {
        "language": article.language,
        "languages": list(article.languages),
        "places": list(dict.fromkeys(places)),
        "events": [
            {
                "place": e.place,
                "kind": e.kind,
                "confidence": e.confidence,
                "evidence": e.evidence,
                "language": e.language,
                "reason": e.reason,
            }
            for e in events
        ],
    }


async def _alerts(session: AsyncSession, article_id: Any) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Alert, AlertArticle.opened, AlertArticle.status)
        .join(AlertArticle, AlertArticle.alert_id == Alert.id)
        .where(AlertArticle.article_id == article_id)
        .order_by(Alert.place, Alert.kind)
    )
    return [
        {
            "alert_id": str(alert.id),
            "place": alert.place,
            "kind": alert.kind,
            "status": status,
            "new": opened,
        }
        for alert, opened, status in rows
    ]


async def describe(session: AsyncSession, message_id: str) -> dict[str, Any]:
    """The replay report of one document: its article, reading and alerts, or its error."""
    sighting = await session.scalar(select(Sighting).where(Sighting.message_id == message_id))
    if sighting is None:
        failure = await session.scalar(
            select(DeadLetter.error).where(DeadLetter.message_id == message_id)
        )
        return {"error": f"processing failed: {failure}" if failure else "not processed"}
    duplicate = sighting.match != "new"
    return {
        "article_id": str(sighting.article_id),
        "duplicate_of": str(sighting.article_id) if duplicate else None,
        **await _article(session, sighting.article_id),
        "alerts": [] if duplicate else await _alerts(session, sighting.article_id),
    }


# Which story a place's status shows: the weightiest of its recent ones.
_KIND_WEIGHT = {"withdrawal": 4, "withdrawal_planned": 3, "denial": 2, "negotiation": 1}
_STATUS_WEIGHT = {"confirmed": 3, "corroborated": 2, "reported": 1, "disputed": 0}
RECENT = timedelta(days=7)


async def place_statuses(session: AsyncSession) -> list[dict[str, Any]]:
    """Each place's story now: among its alerts seen within a week of its newest, the
    weightiest (a withdrawal before a plan or talks, corroborated before reported)."""
    by_place: dict[str, list[Alert]] = defaultdict(list)
    for alert in await session.scalars(select(Alert).order_by(Alert.last_seen_at.desc())):
        by_place[alert.place].append(alert)
    statuses = []
    for alerts in by_place.values():
        newest = alerts[0].last_seen_at
        recent = [a for a in alerts if a.last_seen_at >= newest - RECENT]
        alert = max(
            recent,
            key=lambda a: (
                _KIND_WEIGHT.get(a.kind, 0),
                _STATUS_WEIGHT.get(a.status, 0),
                a.last_seen_at,
            ),
        )
        statuses.append(
            {
                "place": alert.place,
                "kind": alert.kind,
                "status": alert.status,
                "alert_id": str(alert.id),
                "outlets": len(alert.outlets),
                "languages": list(alert.languages),
                "articles": alert.article_count,
                "since": alert.first_seen_at.isoformat(),
                "last_seen_at": alert.last_seen_at.isoformat(),
            }
        )
    return sorted(statuses, key=lambda s: s["last_seen_at"], reverse=True)


@dataclass(frozen=True, slots=True)
class Latency:
    """How long an outlet's alerted articles took to alert, in seconds (medians)."""

    alerted: int
    publication_to_alert: float | None
    fetch_to_alert: float | None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


async def latency_by_source(session: AsyncSession, recent: int = 1000) -> dict[str, Latency]:
    """Per source, over its most recent alerted articles: publication→alert, fetch→alert."""
    rows = await session.execute(
        select(Article.source, Article.published_at, Article.fetched_at, Article.alerted_at)
        .where(Article.alerted_at.is_not(None))
        .order_by(Article.alerted_at.desc())
        .limit(recent * 50)
    )
    published: dict[str, list[float]] = defaultdict(list)
    fetched: dict[str, list[float]] = defaultdict(list)
    counts: Counter[str] = Counter()
    for source, published_at, fetched_at, alerted_at in rows:
        if alerted_at is None or counts[source] >= recent:
            continue
        counts[source] += 1
        if published_at:
            published[source].append((alerted_at - published_at).total_seconds())
        if fetched_at:
            fetched[source].append((alerted_at - fetched_at).total_seconds())
    return {
        source: Latency(count, _median(published[source]), _median(fetched[source]))
        for source, count in counts.items()
    }
