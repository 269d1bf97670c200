"""The articles a feed or listing page offers, as candidates to publish. Pure functions.

A candidate is found by its canonical URL, or, for a feed entry without a link
(RSS 2.0 allows an item of title and description alone), by its guid or a hash of
its title and text within its source. ``newest_first`` orders them so that a poll
capped at ``DRAWDOWN_POLL_MAX_ENTRIES`` takes the news first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ingest.feeds import FeedEntry


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
