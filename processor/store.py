"""Persistence of processed documents: a batch in one transaction, with set-based statements.

A document (one bus message) becomes a sighting; a new story also becomes an
article with its mentions, events and fingerprint, and opens or corroborates
alerts. For a whole batch: one look-up of the message ids, canonical URLs and
content hashes it names, one of the near-duplicate candidates of all its band
keys (and one of their signatures), copies inside the batch resolved in memory
(processor/resolve.py), the alerts it touches loaded once and changed in memory
(processor/alertrows.py, processor/alerting.py), then one multi-row ``INSERT … ON CONFLICT``
per table.

Concurrent writers (processors in one consumer group) are serialised by one
transaction-scoped advisory lock on PostgreSQL, taken first: a batch of any
size carries every LSH band key within a few documents, so finer locks would
all be taken anyway, and one lock cannot deadlock. Two copies of a story stored
at once therefore become an article and a sighting, never two articles. Unique
constraints (message id, canonical URL, content hash) make a redelivered batch
a no-op; a conflicting article insert (a writer outside the lock) raises
WriteConflict, which the worker retries.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ingest.messages import RawArticle
from processor import alerting, alertrows, nearby, resolve
from processor import alerts as rules
from processor.alerting import AlertChange, AlertPolicy
from processor.analyze import Analysis
from processor.dedup import canonical_url
from services.errors import WriteConflict
from services.models import Article, DeadLetter, Mention, Sighting
from services.models import Event as EventRow

Document = tuple[RawArticle, Analysis]
# The advisory lock every batch takes first (PostgreSQL): one writer of stories at a time.
STORY_LOCK = int.from_bytes(hashlib.sha256(b"drawdown stories").digest()[:8], "big", signed=True)


@dataclass(frozen=True, slots=True)
class Stored:
    article_id: uuid.UUID
    duplicate: bool
    alerts: tuple[AlertChange, ...]  # alerts this document opened or changed


def _insert(session: AsyncSession, model: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model.__table__)


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def _serialize(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STORY_LOCK})


async def _known(session: AsyncSession, items: Sequence[resolve.Item]) -> resolve.Known:
    """What the database holds under the batch's message ids, URLs, hashes and bands."""
    message_ids = frozenset(
        await session.scalars(
            select(Sighting.message_id).where(
                Sighting.message_id.in_([i.message_id for i in items])
            )
        )
    )
    urls = sorted({i.url for i in items if i.url})
    hashes = sorted({i.content_hash for i in items})
    condition: ColumnElement[bool] = Article.content_hash.in_(hashes)
    if urls:
        condition = or_(condition, Article.canonical_url.in_(urls))
    rows = (
        await session.execute(
            select(Article.id, Article.canonical_url, Article.content_hash).where(condition)
        )
    ).all()
    by_url = {r.canonical_url: r.id for r in rows if r.canonical_url in set(urls)}
    by_hash = {r.content_hash: r.id for r in rows}
    open_items = [
        i
        for i in items
        if i.message_id not in message_ids
        and (not i.url or i.url not in by_url)
        and i.content_hash not in by_hash
    ]
    bands = await nearby.band_members(session, resolve.bands_of(open_items))
    signatures = await nearby.signatures(session, resolve.candidates_to_compare(open_items, bands))
    return resolve.Known(message_ids, by_url, by_hash, signatures, bands)


def _observed(raw: RawArticle, now: datetime) -> datetime:
    return parse_time(raw.published_at) or parse_time(raw.received_at) or now


def _report(
    raw: RawArticle, analysis: Analysis, article_id: uuid.UUID, now: datetime
) -> alerting.Report:
    return alerting.Report(
        article_id=article_id,
        outlet=rules.outlet(raw.source, raw.url),
        language=analysis.language,
        observed_at=_observed(raw, now),
        url=canonical_url(raw.url),
        title=raw.title,
    )


async def _book(
    session: AsyncSession,
    documents: Sequence[Document],
    decided: Sequence[resolve.Resolution | None],
    policy: AlertPolicy,
    now: datetime,
) -> alerting.Book:
    """The alerts the batch can change, loaded at once."""
    pairs: set[tuple[str, str]] = set()
    since: datetime | None = None
    fresh = {d.article_id for d in decided if d is not None and d.new}
    sighted = {d.article_id for d in decided if d is not None and not d.new} - fresh
    for (raw, analysis), resolution in zip(documents, decided, strict=True):
        if resolution is None or not resolution.new:
            continue
        wanted = {
            (e.place, e.kind)
            for e in analysis.events
            if rules.alertable(e, policy.kinds, policy.min_confidence)
        } | {
            (e.place, kind)
            for e in analysis.events
            if e.kind == rules.DISPUTING_KIND
            for kind in rules.DISPUTABLE_KINDS
        }
        if wanted:
            pairs |= wanted
            start = rules.window_start(_observed(raw, now), policy.window)
            since = start if since is None else min(since, start)
    return await alertrows.load(session, pairs, since, sighted)


async def save_batch(
    session: AsyncSession, documents: Sequence[Document], policy: AlertPolicy
) -> list[Stored | None]:
    """Store processed documents in batch order; per document, None if its message was
    stored before, else what it became."""
    if not documents:
        return []
    await _serialize(session)
    items = [
        resolve.Item(raw.message_id, canonical_url(raw.url), a.content_hash, a.fingerprint)
        for raw, a in documents
    ]
    decided = resolve.resolve(items, await _known(session, items))
    start = datetime.now(UTC)
    book = await _book(session, documents, decided, policy, start)

    results: list[Stored | None] = []
    articles: list[dict[str, Any]] = []
    sightings: list[dict[str, Any]] = []
    readings: list[tuple[uuid.UUID, Analysis]] = []
    for n, ((raw, analysis), item, resolution) in enumerate(
        zip(documents, items, decided, strict=True)
    ):
        if resolution is None:
            results.append(None)
            continue
        now = start + timedelta(microseconds=n)  # one instant per document, in batch order
        report = _report(raw, analysis, resolution.article_id, now)
        if resolution.new:
            changes = [
                book.raise_alert(event, report, policy, now)
                for event in analysis.events
                if rules.alertable(event, policy.kinds, policy.min_confidence)
            ]
            for event in analysis.events:
                if event.kind == rules.DISPUTING_KIND:
                    changes += book.dispute(event.place, report, policy, now)
            articles.append(_article(raw, analysis, item, resolution.article_id, now, changes))
            readings.append((resolution.article_id, analysis))
        else:
            changes = book.corroborate(
                resolution.article_id, report.outlet, report.observed_at, now
            )
        sightings.append(
            {
                "message_id": raw.message_id,
                "article_id": resolution.article_id,
                "match": resolution.match,
                "url": item.url,
                "source": raw.source,
                "seen_at": now,
            }
        )
        results.append(Stored(resolution.article_id, not resolution.new, tuple(changes)))

    await _write_articles(session, articles, readings)
    await alertrows.write(session, book)
    if sightings:
        await session.execute(_insert(session, Sighting).on_conflict_do_nothing(), sightings)
    return results


async def save(
    session: AsyncSession, raw: RawArticle, analysis: Analysis, policy: AlertPolicy
) -> Stored | None:
    """Store one processed document; None if this message was stored before."""
    return (await save_batch(session, [(raw, analysis)], policy))[0]


def _article(
    raw: RawArticle,
    analysis: Analysis,
    item: resolve.Item,
    article_id: uuid.UUID,
    now: datetime,
    changes: list[AlertChange],
) -> dict[str, Any]:
    return {
        "id": article_id,
        "canonical_url": item.url,
        "content_hash": analysis.content_hash,
        "title": raw.title,
        "text": analysis.text,
        "truncated": analysis.truncated,
        "language": analysis.language,
        "languages": list(analysis.languages),
        "source": raw.source,
        "published_at": parse_time(raw.published_at),
        "fetched_at": parse_time(raw.received_at),
        "processed_at": now,
        "created_at": now,
        "alerted_at": now if changes else None,
    }


async def _write_articles(
    session: AsyncSession,
    articles: list[dict[str, Any]],
    readings: list[tuple[uuid.UUID, Analysis]],
) -> None:
    """The batch's new articles with their mentions, events and fingerprints."""
    if not articles:
        return
    stored = (
        await session.scalars(
            _insert(session, Article).on_conflict_do_nothing().returning(Article.__table__.c.id),
            articles,
        )
    ).all()
    if len(stored) != len(articles):
        raise WriteConflict("another writer stored one of this batch's articles first")
    mentions = [
        {"article_id": a, "place": m.place, "start": m.start, "end": m.end, "surface": m.surface}
        for a, analysis in readings
        for m in analysis.mentions
    ]
    if mentions:
        await session.execute(_insert(session, Mention).on_conflict_do_nothing(), mentions)
    events = [
        {
            "article_id": a,
            "place": e.place,
            "kind": e.kind,
            "confidence": e.confidence,
            "evidence": e.evidence,
            "evidence_start": e.start,
            "evidence_end": e.end,
            "language": e.language or analysis.language,
            "reason": e.reason,
            "sentences": [q.row() for q in e.quotes],
        }
        for a, analysis in readings
        for e in analysis.events
    ]
    if events:
        await session.execute(_insert(session, EventRow).on_conflict_do_nothing(), events)
    await nearby.remember_many(
        session, [(a, analysis.fingerprint) for a, analysis in readings if analysis.fingerprint]
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
