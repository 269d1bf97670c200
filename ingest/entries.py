"""The articles a feed or listing page offers, as candidates to publish. Pure functions.

A candidate is found by its canonical URL, or, for a feed entry without a link
(RSS 2.0 allows an item of title and description alone), by its guid or a hash of
its title and text within its source. ``newest_first`` orders them so that a poll
capped at ``DRAWDOWN_POLL_MAX_ENTRIES`` takes the news first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ingest.feeds import FeedEntry, ParsedFeed
from processor.dedup import canonical_url


@dataclass(frozen=True, slots=True)
class Candidate:
    """An article found in a feed or listing page: its URL, or None for a feed entry
    without a link; ``canonical`` is the key it is marked seen by."""

    url: str | None
    canonical: str
    entry: FeedEntry | None = None


def linkless_key(source_id: int, entry: FeedEntry) -> str | None:
    """The seen-key of an entry without a link: its guid, else a hash of its title and
    text, within its source; None when it has neither."""
    if entry.guid and entry.guid.strip():
        return f"urn:drawdown:entry:{source_id}:guid:{entry.guid.strip()[:1024]}"
    body = f"{entry.title.strip()}\n{entry.text.strip()}".strip()
    if not body:
        return None
    return f"urn:drawdown:entry:{source_id}:sha256:{hashlib.sha256(body.encode()).hexdigest()}"


def newest_first(candidates: list[Candidate]) -> list[Candidate]:
    """Entries by publication time, newest first (undated ones after, in feed order), so
    a capped poll takes the news first."""
    dated = [c for c in candidates if c.entry is not None and c.entry.published_at]
    undated = [c for c in candidates if not (c.entry is not None and c.entry.published_at)]
    dated.sort(key=lambda c: str(c.entry.published_at if c.entry else ""), reverse=True)
    return dated + undated


def from_feed(source_id: int, feed: ParsedFeed) -> list[Candidate]:
    """The feed's entries: by canonical link, and those without one (RSS 2.0 allows
    an item of title and description alone) by guid or content hash."""
    found: dict[str, Candidate] = {}
    for entry in feed.entries:
        canonical = canonical_url(entry.url) if entry.url else None
        if entry.url and canonical:
            found.setdefault(canonical, Candidate(entry.url, canonical, entry))
        elif key := linkless_key(source_id, entry):
            found.setdefault(key, Candidate(None, key, entry))
    return list(found.values())


def from_links(links: list[str]) -> list[Candidate]:
    """A listing page's article links, once each by canonical URL."""
    found: dict[str, Candidate] = {}
    for link in links:
        canonical = canonical_url(link)
        if canonical and canonical not in found:
            found[canonical] = Candidate(link, canonical)
    return list(found.values())
