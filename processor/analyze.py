"""The pure reading pipeline: a document's text in, what it says out.

normalize → language → sentences → mentions → events, each event's sentences
in the language of their paragraphs. No I/O; runs in a worker process so the
event loop never waits on it.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from processor import dedup
from processor.cues import lexicon
from processor.events import Event, classify
from processor.fingerprint import Fingerprint, fingerprint
from processor.gazetteer import gazetteer
from processor.language import detect
from processor.mentions import Mention, find_cues, find_places, words
from processor.normalize import normalize
from processor.sentences import sentences
from processor.verdicts import in_languages

# About 30 pages of news text; longer documents are almost always page dumps or
# archives, and reading more would only cost time.
MAX_READ_CHARS = 200_000


@dataclass(frozen=True, slots=True)
class Analysis:
    """What a document says. ``text`` is the document as read: the title as its first
    line unless the text already starts with it; every offset indexes ``text``."""

    text: str
    content_hash: str
    truncated: bool
    language: str | None
    languages: tuple[str, ...]
    mentions: tuple[Mention, ...]
    events: tuple[Event, ...]
    # For near-duplicate lookups; None when the text is too short to be a near-duplicate.
    fingerprint: Fingerprint | None = None

    @property
    def places(self) -> list[str]:
        """Place ids in order of first mention."""
        return list(dict.fromkeys(m.place for m in self.mentions))


def analyze(title: str, text: str, *, fingerprinted: bool = True) -> Analysis:
    """Read one document. The title is read as the first sentence of the text.

    Only the first ``MAX_READ_CHARS`` characters are read (and hashed); longer
    documents say so in ``truncated``. ``fingerprinted=False`` skips the
    near-duplicate fingerprint (to time the tagging alone).
    """
    truncated = len(text) > MAX_READ_CHARS
    text = text[:MAX_READ_CHARS]
    prefix = f"{title}\n" if title and not text.startswith(title) else ""
    full = prefix + text
    doc = normalize(full)  # normalization is per character: the text's part follows the prefix's
    body_start = len(normalize(prefix).text)  # the prefix ends in a newline: no word spans it
    body = doc.text[body_start:]
    places = gazetteer()
    tokens = words(doc.text)
    report = detect(full)
    paragraphs = [(doc.locate(p.start), p.language) for p in report.paragraphs]
    mentions = find_places(doc, full, places, tokens)
    cues = find_cues(doc, full, lexicon(), tokens, paragraphs)
    events = in_languages(
        classify(doc, full, sentences(doc.text), mentions, cues, places, tokens),
        [(p.start, p.end, p.language) for p in report.paragraphs],
        report.language,
    )
    shingled = fingerprint(body) if fingerprinted else None
    return Analysis(
        text=full,
        content_hash=dedup.words_hash(tokens.texts[bisect_left(tokens.starts, body_start) :]),
        truncated=truncated,
        language=report.language,
        languages=report.languages,
        mentions=tuple(mentions),
        events=tuple(events),
        fingerprint=shingled if shingled and shingled.bands else None,
    )


def warm_up() -> None:
    """Load data files and language profiles once, e.g. in each worker process."""
    gazetteer()
    lexicon()
    detect("warm up the language profiles")
