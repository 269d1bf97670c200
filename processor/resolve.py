"""Which documents of a batch are new stories, and which are copies of what.

Pure: the database's answers for the whole batch (message ids already stored,
articles with the batch's canonical URLs or content hashes, near-duplicate
candidates sharing its band keys) come in as ``Known``; each document is then
decided in batch order, exactly as if the batch had been stored one document
at a time. A document is a copy of a stored article or of an earlier document
of the same batch (canonical URL first, then content hash, then the most
similar near-duplicate); the first document of a story becomes its article,
the rest sightings of it.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from processor.fingerprint import NEAR_DUPLICATE_THRESHOLD, Fingerprint, similarity

# Candidates compared per document. A true near-duplicate shares most of its bands and
# sorts first; the cap only bounds the work when a band key is common (boilerplate).
MAX_CANDIDATES = 50


@dataclass(frozen=True, slots=True)
class Item:
    """What deduplication needs of one document."""

    message_id: str
    url: str | None  # canonical
    content_hash: str
    fingerprint: Fingerprint | None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored article's signature, for a near-duplicate comparison."""

    created_at: datetime
    signature: bytes


@dataclass(frozen=True, slots=True)
class Known:
    """What the database holds under the batch's keys."""

    message_ids: frozenset[str] = frozenset()
    by_url: Mapping[str, uuid.UUID] = field(default_factory=dict)
    by_hash: Mapping[str, uuid.UUID] = field(default_factory=dict)
    signatures: Mapping[uuid.UUID, Candidate] = field(default_factory=dict)
    bands: Mapping[int, Sequence[uuid.UUID]] = field(default_factory=dict)  # band → articles


@dataclass(frozen=True, slots=True)
class Resolution:
    article_id: uuid.UUID
    match: str  # new | url | content | near

    @property
    def new(self) -> bool:
        return self.match == "new"


def bands_of(items: Iterable[Item]) -> list[int]:
    """Every band key of the batch, sorted: what to look candidates up by."""
    return sorted({b for item in items if item.fingerprint for b in item.fingerprint.bands})


def top_candidates(fp: Fingerprint, bands: Mapping[int, Sequence[uuid.UUID]]) -> list[uuid.UUID]:
    """The stored articles sharing most of ``fp``'s band keys, at most MAX_CANDIDATES."""
    shared = Counter(a for band in set(fp.bands) for a in bands.get(band, ()))
    ranked = sorted(shared.items(), key=lambda pair: (-pair[1], pair[0]))
    return [article for article, _ in ranked[:MAX_CANDIDATES]]


def candidates_to_compare(
    items: Iterable[Item], bands: Mapping[int, Sequence[uuid.UUID]]
) -> set[uuid.UUID]:
    """The stored articles whose signatures the batch needs."""
    return {
        a for item in items if item.fingerprint for a in top_candidates(item.fingerprint, bands)
    }


@dataclass
class _Batch:
    """The articles this batch has made so far, findable like stored ones."""

    by_url: dict[str, uuid.UUID] = field(default_factory=dict)
    by_hash: dict[str, uuid.UUID] = field(default_factory=dict)
    bands: defaultdict[int, list[uuid.UUID]] = field(default_factory=lambda: defaultdict(list))
    signatures: dict[uuid.UUID, tuple[int, bytes]] = field(default_factory=dict)  # order, sig

    def add(self, article_id: uuid.UUID, item: Item) -> None:
        if item.url:
            self.by_url.setdefault(item.url, article_id)
        self.by_hash.setdefault(item.content_hash, article_id)
        if item.fingerprint and item.fingerprint.bands:
            self.signatures[article_id] = (len(self.signatures), item.fingerprint.signature)
            for band in set(item.fingerprint.bands):
                self.bands[band].append(article_id)


def _exact(item: Item, known: Known, batch: _Batch) -> Resolution | None:
    if item.url:
        found = known.by_url.get(item.url) or batch.by_url.get(item.url)
        if found is not None:
            return Resolution(found, "url")
    found = known.by_hash.get(item.content_hash) or batch.by_hash.get(item.content_hash)
    return None if found is None else Resolution(found, "content")


def _near(item: Item, known: Known, batch: _Batch, threshold: float) -> uuid.UUID | None:
    """The most similar article at or above ``threshold``: among equals a stored one before
    one of this batch, the oldest, then the smallest id (deterministic)."""
    fp = item.fingerprint
    if fp is None or not fp.bands:
        return None
    # Keys compare stored (0) before batch (1) on equal scores, so the third members
    # compared are always of one kind.
    best: tuple[float, int, Any, uuid.UUID] | None = None
    for article_id in top_candidates(fp, known.bands):
        stored = known.signatures.get(article_id)
        if stored is None:
            continue
        score = similarity(fp.signature, stored.signature)
        key: tuple[float, int, Any, uuid.UUID] = (-score, 0, stored.created_at, article_id)
        if score >= threshold and (best is None or key < best):
            best = key
    for article_id in top_candidates(fp, batch.bands):
        order, signature = batch.signatures[article_id]
        score = similarity(fp.signature, signature)
        key = (-score, 1, order, article_id)
        if score >= threshold and (best is None or key < best):
            best = key
    return None if best is None else best[3]


def resolve(
    items: Sequence[Item],
    known: Known,
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
) -> list[Resolution | None]:
    """Per document, in order: None if its message was stored before (or earlier in the
    batch), else the article it is (``new``) or duplicates."""
    batch = _Batch()
    seen: set[str] = set(known.message_ids)
    decided: list[Resolution | None] = []
    for item in items:
        if item.message_id in seen:
            decided.append(None)
            continue
        seen.add(item.message_id)
        resolution = _exact(item, known, batch)
        if resolution is None:
            near = _near(item, known, batch, threshold)
            resolution = Resolution(near, "near") if near is not None else None
        if resolution is None:
            resolution = Resolution(new_id(), "new")
            batch.add(resolution.article_id, item)
        decided.append(resolution)
    return decided
