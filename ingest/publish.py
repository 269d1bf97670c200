"""Publish ``RawArticle``s to ``drawdown.articles.raw``, keyed by canonical URL or content hash."""

from __future__ import annotations

from ingest.messages import RawArticle
from processor.dedup import canonical_url, content_hash
from services.bus import Producer


def message_key(article: RawArticle) -> bytes:
    return (canonical_url(article.url) or content_hash(article.text)).encode()


async def publish(
    producer: Producer, topic: str, article: RawArticle, *, partition: int | None = None
) -> None:
    """Send one article; returns once the bus acknowledged it."""
    await producer.send(
        topic,
        article.encode(),
        key=message_key(article),
        headers=[("message_id", article.message_id.encode()), ("v", b"1")],
        partition=partition,
    )
