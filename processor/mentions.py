"""Find places and cue words in normalized text.

Pure functions over a ``Normalized`` document: place mentions (longest match
wins where names overlap) and cue matches, each with normalized offsets and the
original span for evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from processor.cues import Lexicon
from processor.gazetteer import Gazetteer
from processor.normalize import Normalized


@dataclass(frozen=True, slots=True)
class Mention:
    """A place named in the text; ``start``/``end`` index the original text."""

    place: str
    start: int
    end: int
    surface: str
    norm_start: int
    norm_end: int


@dataclass(frozen=True, slots=True)
class Cue:
    """A cue word or phrase, in normalized offsets."""

    concept: str
    start: int
    end: int


def find_places(doc: Normalized, original: str, gazetteer: Gazetteer) -> list[Mention]:
    candidates = [
        (match.start(), match.end(), place_id)
        for place_id, pattern in gazetteer.patterns
        for match in pattern.finditer(doc.text)
    ]
    candidates.sort(key=lambda c: (c[0], c[0] - c[1]))
    mentions: list[Mention] = []
    covered_until = -1
    for start, end, place_id in candidates:
        if start < covered_until:
            continue
        covered_until = end
        o_start, o_end = doc.span(start, end)
        mentions.append(Mention(place_id, o_start, o_end, original[o_start:o_end], start, end))
    return mentions


def find_cues(doc: Normalized, original: str, lexicon: Lexicon) -> list[Cue]:
    """Cues in the normalized text, and case-sensitive ones in the original (mapped over)."""
    cues = [
        Cue(concept, match.start(), match.end())
        for concept, pattern in lexicon.patterns
        for match in pattern.finditer(doc.text)
    ]
    cues += [
        Cue(concept, doc.locate(match.start()), doc.locate(match.end()))
        for concept, pattern in lexicon.exact
        for match in pattern.finditer(original)
    ]
    return sorted(cues, key=lambda c: (c.start, c.end))
