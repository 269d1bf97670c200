"""Candidates of a poll: link-less entries keyed by guid or content, newest first."""

from __future__ import annotations

from ingest.entries import Candidate, linkless_key, newest_first
from ingest.feeds import FeedEntry


def _entry(title: str, published: str | None = None, guid: str | None = None) -> FeedEntry:
    return FeedEntry(None, title, f"text of {title}", published, None, guid)


def test_a_linkless_entry_is_keyed_by_guid_else_by_its_content_within_its_source() -> None:
    assert linkless_key(3, _entry("a", guid=" g-1 ")) == "urn:drawdown:entry:3:guid:g-1"
    hashed = linkless_key(3, _entry("a"))
    assert hashed is not None
    assert hashed.startswith("urn:drawdown:entry:3:sha256:")
    assert hashed == linkless_key(3, _entry("a"))
    assert hashed != linkless_key(4, _entry("a"))
    assert linkless_key(3, FeedEntry(None, " ", "", None, None, None)) is None


def test_newest_first_puts_undated_entries_last_in_feed_order() -> None:
    entries = [
        _entry("old", "2026-01-01T00:00:00+00:00"),
        _entry("undated 1"),
        _entry("new", "2026-03-01T00:00:00+00:00"),
        _entry("undated 2"),
    ]
    ordered = newest_first([Candidate(None, e.title, e) for e in entries])
    assert [c.canonical for c in ordered] == ["new", "old", "undated 1", "undated 2"]
