"""Near-duplicate lookup and registration: the database edge of processor/fingerprint.py.

An article's fingerprint is stored as its signature (``article_fingerprints``)
and one row per LSH band key (``article_bands``, whose primary key
``(band, article_id)`` is the lookup index). A new document's candidates are
the articles sharing at least one band key, most shared keys first; their
signatures are compared in Python and the most similar one at or above the
threshold is the article the document duplicates. One query, a few index
probes: about a millisecond with a million articles stored (bench/fingerprints.py).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from processor.fingerprint import NEAR_DUPLICATE_THRESHOLD, Fingerprint, similarity
from processor.resolve import MAX_CANDIDATES, Candidate
from services.models import Article, ArticleBand, ArticleFingerprint

__all__ = [
    "MAX_CANDIDATES",
    "NEAR_DUPLICATE_THRESHOLD",
    "band_members",
    "find_near_duplicate",
    "remember",
    "remember_many",
    "signatures",
]

# Keys per look-up statement: below SQLite's 32,766 bound parameters, and PostgreSQL's.
CHUNK = 10_000


def _insert(session: AsyncSession, model: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model.__table__)


async def find_near_duplicate(
    session: AsyncSession, fp: Fingerprint, threshold: float = NEAR_DUPLICATE_THRESHOLD
) -> uuid.UUID | None:
    """The stored article most similar to ``fp`` at or above ``threshold``; the oldest
    of equally similar ones. None if there is none, or ``fp`` has no bands."""
    if not fp.bands:
        return None
    shared = func.count().label("shared")
    candidates = (
        select(ArticleBand.article_id, shared)
        .where(ArticleBand.band.in_(fp.bands))
        .group_by(ArticleBand.article_id)
        .order_by(shared.desc(), ArticleBand.article_id)
        .limit(MAX_CANDIDATES)
        .subquery()
    )
    rows = await session.execute(
        select(Article.id, Article.created_at, ArticleFingerprint.signature)
        .join(ArticleFingerprint, ArticleFingerprint.article_id == Article.id)
        .join(candidates, candidates.c.article_id == Article.id)
    )
    best: tuple[float, datetime, uuid.UUID] | None = None
    for row in rows:
        score = similarity(fp.signature, row.signature)
        if score < threshold:
            continue
        # Most similar first; among equals the oldest, then the smallest id (deterministic).
        if best is None or (-score, row.created_at, row.id) < (-best[0], best[1], best[2]):
            best = (score, row.created_at, row.id)
    return None if best is None else best[2]


async def remember(session: AsyncSession, article_id: uuid.UUID, fp: Fingerprint) -> None:
    """Store an article's fingerprint; a second call (a redelivery, a concurrent worker)
    changes nothing. Fingerprints without bands are not stored: nothing would find them.

    The signature row goes first and band keys in ascending order, so two
    transactions storing the same article wait on the same first row instead of
    deadlocking.
    """
    if not fp.bands:
        return
    await session.execute(
        _insert(session, ArticleFingerprint)
        .values(article_id=article_id, signature=fp.signature)
        .on_conflict_do_nothing()
    )
    await session.execute(
        _insert(session, ArticleBand).on_conflict_do_nothing(),
        [{"band": band, "article_id": article_id} for band in sorted(set(fp.bands))],
    )


async def band_members(session: AsyncSession, bands: Sequence[int]) -> dict[int, list[uuid.UUID]]:
    """The stored articles under each of ``bands`` (a batch's near-duplicate candidates)."""
    members: defaultdict[int, list[uuid.UUID]] = defaultdict(list)
    for start in range(0, len(bands), CHUNK):
        rows = await session.execute(
            select(ArticleBand.band, ArticleBand.article_id).where(
                ArticleBand.band.in_(bands[start : start + CHUNK])
            )
        )
        for band, article_id in rows:
            members[band].append(article_id)
    return dict(members)


async def signatures(
    session: AsyncSession, article_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Candidate]:
    """The signatures (and ages) of the candidate articles a batch compares with."""
    if not article_ids:
        return {}
    rows = await session.execute(
        select(Article.id, Article.created_at, ArticleFingerprint.signature)
        .join(ArticleFingerprint, ArticleFingerprint.article_id == Article.id)
        .where(Article.id.in_(list(article_ids)))
    )
    return {row.id: Candidate(row.created_at, row.signature) for row in rows}


async def remember_many(
    session: AsyncSession, fingerprints: Sequence[tuple[uuid.UUID, Fingerprint]]
) -> None:
    """``remember`` for a batch of new articles: two statements, rows in key order."""
    kept = sorted(((a, fp) for a, fp in fingerprints if fp.bands), key=lambda pair: pair[0])
    if not kept:
        return
    await session.execute(
        _insert(session, ArticleFingerprint).on_conflict_do_nothing(),
        [{"article_id": a, "signature": fp.signature} for a, fp in kept],
    )
    await session.execute(
        _insert(session, ArticleBand).on_conflict_do_nothing(),
        sorted(
            ({"band": band, "article_id": a} for a, fp in kept for band in set(fp.bands)),
            key=lambda row: (row["band"], row["article_id"]),
        ),
    )
