"""The pure reading pipeline: a document's text in, what it says out.

normalize → language → sentences → mentions → events. No I/O; runs in a
worker process so the event loop never waits on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from processor import dedup
from processor.cues import lexicon
from processor.events import Event, classify
from processor.gazetteer import gazetteer
from processor.language import detect
from processor.mentions import Mention, find_cues, find_places
from processor.normalize import normalize
from processor.sentences import sentences


@dataclass(frozen=True, slots=True)
class Analysis:
    """What a document says. ``text`` is the document as read: the title as its first
    line unless the text already starts with it; every offset indexes ``text``."""

    text: str
    content_hash: str
    language: str | None
    languages: tuple[str, ...]
    mentions: tuple[Mention, ...]
    events: tuple[Event, ...]

    @property
    def places(self) -> list[str]:
        """Place ids in order of first mention."""
        return list(dict.fromkeys(m.place for m in self.mentions))


def analyze(title: str, text: str) -> Analysis:
    """Read one document. The title is read as the first sentence of the text."""
    full = f"{title}\n{text}" if title and not text.startswith(title) else text
    doc = normalize(full)
    places = gazetteer()
    mentions = find_places(doc, full, places)
    cues = find_cues(doc, full, lexicon())
    events = classify(doc, full, sentences(doc.text), mentions, cues, places)
    report = detect(full)
    return Analysis(
        text=full,
        content_hash=dedup.content_hash(text),
        language=report.language,
        languages=report.languages,
        mentions=tuple(mentions),
        events=tuple(events),
    )


def warm_up() -> None:
    """Load data files and language profiles once, e.g. in each worker process."""
    gazetteer()
    lexicon()
    detect("warm up the language profiles")
