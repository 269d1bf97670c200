"""Persistence of processed documents: idempotent writes in one transaction.

A document (one bus message) becomes a sighting; a new story also becomes an
article with its mentions and events, and opens or corroborates alerts. Unique
constraints (message id, canonical URL, content hash, one event per article,
place and kind) make a redelivered message a no-op.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ingest.messages import RawArticle
from processor import alerting, nearby
from processor import alerts as rules
from processor.alerting import AlertChange, AlertPolicy
from processor.analyze import Analysis
from processor.dedup import canonical_url
from processor.fingerprint import Fingerprint
from services.models import Article, DeadLetter, Mention, Sighting
from services.models import Event as EventRow


@dataclass(frozen=True, slots=True)
class Stored:
    article_id: uuid.UUID
    duplicate: bool
    alerts: tuple[AlertChange, ...]  # alerts this document opened or changed


def _insert(session: AsyncSession, model: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def _existing(
    session: AsyncSession, url: str | None, content_hash: str
) -> tuple[uuid.UUID, str] | None:
    """The stored article this document duplicates, and what matched (``url`` or ``content``)."""
    condition = Article.content_hash == content_hash
    if url:
        condition = or_(condition, Article.canonical_url == url)
    row = (
        await session.execute(select(Article.id, Article.canonical_url).where(condition).limit(1))
    ).first()
    if row is None:
        return None
    return row.id, "url" if url and row.canonical_url == url else "content"


async def _lock_bands(session: AsyncSession, fingerprint: Fingerprint) -> None:
    """Serialize workers storing stories that share a band (PostgreSQL), so two copies of
    one story arriving at once become an article and a sighting, not two articles."""
    if session.get_bind().dialect.name == "postgresql":
        for band in sorted(fingerprint.bands):  # one order everywhere: no deadlocks
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": band})


async def _sighting(
    session: AsyncSession, raw: RawArticle, article_id: uuid.UUID, match: str, url: str | None
) -> None:
    await session.execute(
        _insert(session, Sighting)
        .values(
            message_id=raw.message_id,
            article_id=article_id,
            match=match,
            url=url,
            source=raw.source,
            seen_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing()
    )


async def save(
    session: AsyncSession, raw: RawArticle, analysis: Analysis, policy: AlertPolicy
) -> Stored | None:
    """Store one processed document; None if this message was stored before."""
    if await session.scalar(select(Sighting.id).where(Sighting.message_id == raw.message_id)):
        return None
    url = canonical_url(raw.url)
    outlet = rules.outlet(raw.source, raw.url)
    now = datetime.now(UTC)
    existing = await _existing(session, url, analysis.content_hash)
    if existing is None and analysis.fingerprint is not None:
        await _lock_bands(session, analysis.fingerprint)
        near = await nearby.find_near_duplicate(session, analysis.fingerprint)
        existing = None if near is None else (near, "near")
    if existing is None:
        article_id = await session.scalar(
            _insert(session, Article)
            .values(
                id=uuid.uuid4(),
                canonical_url=url,
                content_hash=analysis.content_hash,
                title=raw.title,
                text=analysis.text,
                truncated=analysis.truncated,
                language=analysis.language,
                languages=list(analysis.languages),
                source=raw.source,
                published_at=parse_time(raw.published_at),
                fetched_at=parse_time(raw.received_at),
                processed_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(Article.id)
        )
        if article_id is None:  # another worker stored the same story a moment ago
            existing = await _existing(session, url, analysis.content_hash)
    if existing is not None:
        duplicate_of, match = existing
        await _sighting(session, raw, duplicate_of, match, url)
        corroborated = await alerting.corroborate_by_sighting(session, duplicate_of, outlet)
        return Stored(duplicate_of, True, tuple(corroborated))
    assert article_id is not None
    await _store_reading(session, article_id, analysis)
    if analysis.fingerprint is not None:
        await nearby.remember(session, article_id, analysis.fingerprint)
    report = alerting.Report(
        article_id=article_id,
        outlet=outlet,
        language=analysis.language,
        observed_at=parse_time(raw.published_at) or parse_time(raw.received_at) or now,
    )
    changes = [
        await alerting.raise_alert(session, event, report, policy)
        for event in analysis.events
        if rules.alertable(event, policy.kinds, policy.min_confidence)
    ]
    for event in analysis.events:
        if event.kind == rules.DISPUTING_KIND:
            changes += await alerting.dispute(session, event.place, report, policy)
    if changes:
        await session.execute(
            update(Article).where(Article.id == article_id).values(alerted_at=datetime.now(UTC))
        )
    await _sighting(session, raw, article_id, "new", url)
    return Stored(article_id, False, tuple(changes))


async def _store_reading(session: AsyncSession, article_id: uuid.UUID, analysis: Analysis) -> None:
    if analysis.mentions:
        await session.execute(
            _insert(session, Mention).on_conflict_do_nothing(),
            [
                {
                    "article_id": article_id,
                    "place": m.place,
                    "start": m.start,
                    "end": m.end,
                    "surface": m.surface,
                }
                for m in analysis.mentions
            ],
        )
    if analysis.events:
        await session.execute(
            _insert(session, EventRow).on_conflict_do_nothing(),
            [
                {
                    "article_id": article_id,
                    "place": e.place,
                    "kind": e.kind,
                    "confidence": e.confidence,
                    "evidence": e.evidence,
                    "evidence_start": e.start,
                    "evidence_end": e.end,
                    "language": analysis.language,
                }
                for e in analysis.events
            ],
        )


async def dead_letter(
    session: AsyncSession,
    message_id: str | None,
    topic: str,
    partition: int,
    offset: int,
    error: str,
) -> None:
    await session.execute(
        _insert(session, DeadLetter)
        .values(
            message_id=message_id,
            topic=topic,
            partition=partition,
            offset=offset,
            error=error[:2000],
            created_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing()
    )
