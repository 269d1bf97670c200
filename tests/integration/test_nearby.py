"""processor.nearby on real databases: an edited copy finds its article, another story
does not, the oldest of equals wins, and storing a fingerprint twice (even at once) is a no-op."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from processor.fingerprint import BANDS, Fingerprint, fingerprint
from processor.nearby import NEAR_DUPLICATE_THRESHOLD, find_near_duplicate, remember
from processor.normalize import normalize_text
from services.db import sessionmaker
from services.models import Article, ArticleBand, ArticleFingerprint
from tests.conftest import SEEDS

RU, AR_EN, FA = (
    (SEEDS / name).read_text("utf-8")
    for name in ("000_467fa69daf76dde6.txt", "001_afd3c0f09ef6e2c6.txt", "002_167b56c6a4ea1e7f.txt")
)
T0 = datetime(2026, 2, 23, 9, 0, tzinfo=UTC)


def _fp(text: str) -> Fingerprint:
    return fingerprint(normalize_text(text))


def _edited(text: str) -> str:
    """Republished: retitled, a paragraph cut, the outlet's boilerplate around it."""
    paragraphs = [line for line in text.splitlines() if line.strip()]
    del paragraphs[3]
    return "\n\n".join(
        ["Reuters: США выводят войска из Касрака", *paragraphs[1:], "Подписывайтесь на наш канал."]
    )


async def _article(engine: AsyncEngine, text: str, created_at: datetime = T0) -> uuid.UUID:
    article_id = uuid.uuid4()
    async with sessionmaker(engine).begin() as session:
        session.add(
            Article(
                id=article_id,
                content_hash=hashlib.sha256(f"{article_id}".encode()).hexdigest(),
                text=text,
                created_at=created_at,
            )
        )
    return article_id


async def _remembered(engine: AsyncEngine, text: str, created_at: datetime = T0) -> uuid.UUID:
    article_id = await _article(engine, text, created_at)
    async with sessionmaker(engine).begin() as session:
        await remember(session, article_id, _fp(text))
    return article_id


async def _find(engine: AsyncEngine, text: str) -> uuid.UUID | None:
    async with sessionmaker(engine)() as session:
        return await find_near_duplicate(session, _fp(text), NEAR_DUPLICATE_THRESHOLD)


async def test_an_edited_copy_finds_its_article_and_another_story_does_not(
    engine: AsyncEngine,
) -> None:
    ru = await _remembered(engine, RU)
    await _remembered(engine, AR_EN)
    assert await _find(engine, _edited(RU)) == ru
    assert await _find(engine, RU) == ru
    assert await _find(engine, FA) is None


async def test_nothing_is_found_in_an_empty_store_or_for_a_short_text(engine: AsyncEngine) -> None:
    assert await _find(engine, RU) is None
    await _remembered(engine, RU)
    assert await _find(engine, "США выводят войска из Касрака.") is None


async def test_the_most_similar_article_wins_then_the_oldest(engine: AsyncEngine) -> None:
    edited = await _remembered(engine, _edited(RU), T0)
    newer = await _remembered(engine, RU, T0 + timedelta(hours=1))
    older = await _remembered(engine, RU, T0 - timedelta(hours=1))
    assert await _find(engine, RU) == older  # identical to newer and older; older first
    assert newer != older
    assert await _find(engine, _edited(RU)) == edited


async def test_a_short_fingerprint_is_not_stored(engine: AsyncEngine) -> None:
    article_id = await _article(engine, "Short.")
    async with sessionmaker(engine).begin() as session:
        await remember(session, article_id, _fp("Short."))
    assert await _counts(engine, article_id) == (0, 0)


async def test_remembering_twice_and_concurrently_is_idempotent(engine: AsyncEngine) -> None:
    article_id = await _article(engine, RU)
    fp = _fp(RU)
    sessions = sessionmaker(engine)

    async def store(hold: float) -> None:
        async with sessions.begin() as session:
            await remember(session, article_id, fp)
            await asyncio.sleep(hold)  # keep the transaction open while the other one writes

    await asyncio.gather(store(0.3), store(0.0), store(0.1))
    await store(0.0)  # a redelivery, long after
    assert await _counts(engine, article_id) == (1, BANDS)
    assert await _find(engine, RU) == article_id


async def _counts(engine: AsyncEngine, article_id: uuid.UUID) -> tuple[int, int]:
    async with sessionmaker(engine)() as session:
        signatures = await session.scalar(
            select(func.count()).where(ArticleFingerprint.article_id == article_id)
        )
        bands = await session.scalar(
            select(func.count()).where(ArticleBand.article_id == article_id)
        )
    return int(signatures or 0), int(bands or 0)
