"""Copies inside a batch are resolved in memory, as if stored one document at a time."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

from processor.fingerprint import fingerprint
from processor.normalize import normalize_text
from processor.resolve import Candidate, Item, Known, resolve

STORY = (
    "American forces began withdrawing from the Qasrak air base in Hasakah province on "
    "Monday, three security sources said, as convoys of trucks loaded with armoured vehicles "
    "and prefabricated rooms headed east along the M4 highway toward the Iraqi border."
)
OTHER = (
    "Turkish drones struck a fuel depot near Qamishli overnight, local officials said, and "
    "fire crews worked until morning to contain the blaze while residents of nearby villages "
    "were told to stay indoors and keep their windows shut against the smoke."
)


def _item(message: str, text: str, url: str | None = None) -> Item:
    return Item(message, url, f"hash:{text}", fingerprint(normalize_text(text)))


def _ids() -> itertools.count[int]:
    return itertools.count(1)


def _new_id(counter: itertools.count[int]) -> uuid.UUID:
    return uuid.UUID(int=next(counter))


def test_the_first_copy_is_the_article_and_the_rest_sightings() -> None:
    counter = _ids()
    items = [
        _item("m1", STORY, "https://outlet.com/a"),
        _item("m2", STORY, "https://other.com/b"),  # same text: a content copy
        _item("m3", STORY.replace("Monday", "Tuesday"), "https://outlet.com/a"),  # same URL
        _item("m4", STORY + " More from our correspondent."),  # edited: near
        _item("m5", OTHER),
        _item("m1", STORY, "https://outlet.com/a"),  # the same message again
    ]
    decided = resolve(items, Known(), lambda: _new_id(counter))
    first = uuid.UUID(int=1)
    assert [(d.article_id, d.match) if d else None for d in decided] == [
        (first, "new"),
        (first, "content"),
        (first, "url"),
        (first, "near"),
        (uuid.UUID(int=2), "new"),
        None,
    ]


def test_what_the_database_holds_comes_first() -> None:
    stored = uuid.UUID(int=99)
    fp = fingerprint(normalize_text(STORY))
    known = Known(
        message_ids=frozenset({"old"}),
        by_url={"https://outlet.com/a": stored},
        signatures={stored: Candidate(datetime(2026, 1, 1, tzinfo=UTC), fp.signature)},
        bands={band: [stored] for band in fp.bands},
    )
    counter = _ids()
    decided = resolve(
        [
            _item("old", STORY),
            _item("x", OTHER, "https://outlet.com/a"),
            _item("y", STORY + " Updated at noon."),
        ],
        known,
        lambda: _new_id(counter),
    )
    assert [(d.article_id, d.match) if d else None for d in decided] == [
        None,
        (stored, "url"),
        (stored, "near"),
    ]
