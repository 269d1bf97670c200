"""A batch stored in one transaction leaves the rows that storing its documents one at a
time leaves: the same articles, sightings, alerts and alert events, in the same order;
a redelivered batch adds nothing; a batch that fails on one record stores the others."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.messages import RawArticle
from processor import store
from processor.alerting import AlertPolicy
from processor.analyze import Analysis, analyze
from services.db import sessionmaker
from services.models import (
    Alert,
    AlertArticle,
    AlertEvent,
    Article,
    ArticleBand,
    ArticleFingerprint,
    Delivery,
    Event,
    Mention,
    Sighting,
    Subscription,
)
from tests.conftest import ROOT

POLICY = AlertPolicy(
    kinds=frozenset({"withdrawal", "withdrawal_planned", "negotiation", "denial"}),
    min_confidence=0.5,
    window=timedelta(days=7),
)
CORPUS = ROOT / "tests" / "eval" / "corpus"
TABLES = (
    Delivery,
    AlertEvent,
    AlertArticle,
    Alert,
    Sighting,
    Event,
    Mention,
    ArticleBand,
    ArticleFingerprint,
    Article,
)


def _documents() -> list[tuple[RawArticle, Analysis]]:
    """Stories from the labelled corpus with copies (same text elsewhere, AMP editions,
    edited copies, other outlets), shuffled so that copies meet inside batches."""
    raws = []
    for n, path in enumerate(sorted(CORPUS.glob("*.txt"))[:60]):
        text = path.read_text().strip()
        title = text.splitlines()[0]
        url = f"https://a.example/{n}"
        raws += [
            RawArticle(text=text, title=title, url=url, source="A"),
            RawArticle(text=text, title=title, url=f"{url}/amp", source="A"),
            RawArticle(text=text, title=title, url=f"https://b.example/{n}", source="B"),
            RawArticle(text=f"{text}\nMore from C.", title=title, source="C"),
        ]
    random.Random(14).shuffle(raws)
    return [(raw, analyze(raw.title, raw.text)) for raw in raws]


async def _rows(engine: AsyncEngine) -> dict[str, Any]:
    """What was stored, named by message ids and places rather than generated ids."""
    async with sessionmaker(engine)() as session:
        hash_of = dict((await session.execute(select(Article.id, Article.content_hash))).all())
        alert_of = {
            a.id: (a.place, a.kind, a.first_seen_at) for a in await session.scalars(select(Alert))
        }
        sightings = sorted(
            (s.message_id, s.match, hash_of[s.article_id])
            for s in await session.scalars(select(Sighting))
        )
        alerts = sorted(
            (a.place, a.kind, a.status, a.article_count, a.sighting_count, a.outlets, a.languages)
            for a in await session.scalars(select(Alert))
        )
        events = [
            (alert_of[e.alert_id], e.type, e.changes, e.alert["status"], len(e.alert["evidence"]))
            for e in await session.scalars(select(AlertEvent).order_by(AlertEvent.id))
        ]
        counts = {
            t.__tablename__: await session.scalar(select(func.count()).select_from(t))
            for t in TABLES
        }
    return {"sightings": sightings, "alerts": alerts, "events": events, "counts": counts}


async def _store(engine: AsyncEngine, documents: list[Any], size: int) -> list[Any]:
    results = []
    for start in range(0, len(documents), size):
        async with sessionmaker(engine).begin() as session:
            results += await store.save_batch(session, documents[start : start + size], POLICY)
    return results


async def _empty(engine: AsyncEngine) -> None:
    async with sessionmaker(engine).begin() as session:
        for table in TABLES:
            await session.execute(delete(table))


async def test_batches_leave_the_rows_of_one_document_at_a_time(engine: AsyncEngine) -> None:
    documents = _documents()
    async with sessionmaker(engine).begin() as session:
        session.add(Subscription(name="all", url="https://hooks.example/x", secret="whsec_x"))
    await _store(engine, documents, 1)
    alone = await _rows(engine)
    articles = alone["counts"]["articles"]
    assert 60 <= articles < 70  # short texts have no fingerprint: their edited copy is new
    assert alone["counts"]["deliveries"] == alone["counts"]["alert_events"] > 0
    await _empty(engine)

    results = await _store(engine, documents, 37)
    assert await _rows(engine) == alone
    assert sum(1 for r in results if r is not None and not r.duplicate) == articles

    again = await _store(engine, documents, 50)  # redelivered: nothing changes
    assert again == [None] * len(documents)
    assert await _rows(engine) == alone


async def test_copies_inside_one_batch_become_sightings_of_the_first(engine: AsyncEngine) -> None:
    text = (CORPUS / "en_001.txt").read_text()
    raws = [
        RawArticle(text=text, title="t", url="https://www.outlet.com/1", source="A"),
        RawArticle(text=text, title="t", url="https://m.outlet.com/1", source="B"),
        RawArticle(text=text, title="t", url="https://c.example/1", source="C"),
        RawArticle(text=text + "\nMore.", title="t", source="D"),
    ]
    results = await _store(engine, [(r, analyze(r.title, r.text)) for r in raws], 10)
    assert [(r.duplicate if r else None) for r in results] == [False, True, True, True]
    assert len({r.article_id for r in results if r}) == 1
    rows = await _rows(engine)
    assert sorted(match for _, match, _ in rows["sightings"]) == ["content", "near", "new", "url"]
