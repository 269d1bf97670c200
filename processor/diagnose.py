"""Why the reader missed a place: the span of text that sounds most like it, and the rule
that turned it down. For ``drawdown evaluate``'s list of misread documents; pure."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from processor.gazetteer import Gazetteer
from processor.hearing import MAX_NAME_WORDS
from processor.morphology import morphology, script_of
from processor.normalize import normalize
from processor.sounds import ARTICLE, sounds
from processor.tokens import words

MAX_DISTANCE = 3


@dataclass(frozen=True, slots=True)
class Candidate:
    surface: str
    key: str
    name_key: str
    distance: int
    why: str

    def describe(self) -> str:
        return (
            f"nearest: \u201c{self.surface}\u201d sounds {self.key!r}, the name {self.name_key!r} "
            f"(distance {self.distance}): {self.why}"
        )


def _why(name_key: str, distance: int, surface: str, qualified: bool) -> str:
    if distance > 1:
        return "too far from any spelling the gazetteer lists or its sound"
    if len(name_key) < 3:
        return "a name of one or two consonants is found only by a listed spelling"
    if distance and len(name_key) < 5:
        return "a near spelling counts only for names of five consonants or more"
    if surface[:1].islower() and script_of(surface) not in ("arabic", "hebrew"):
        return "not capitalised"
    if qualified:
        return "an ordinary word too: no base noun right beside it and not in a list of bases"
    return "no base noun close enough, or a base noun is another name's"


def nearest(text: str, place: str, gazetteer: Gazetteer) -> Candidate | None:
    """The span of up to four words whose sound is nearest one of the place's names."""
    keys = [(k, n) for k, names in gazetteer.sounds.items() for n in names if n.place == place]
    if not keys:
        return None
    doc = normalize(text)
    tokens = words(doc.text)
    sound, morph = sounds(), morphology()
    word_keys = [
        sorted({sound.key(f) for f in morph.stems(w)} - {ARTICLE, ""}) for w in tokens.texts
    ]
    best: Candidate | None = None
    for at in range(len(tokens)):
        spans = [(k, at) for k in word_keys[at][:2]]
        for last in range(at, min(len(tokens), at + MAX_NAME_WORDS)):
            if last > at:
                spans = [(k + f, last) for k, _ in spans for f in word_keys[last][:2] or [""]]
            for key, end in spans:
                for name_key, name in keys:
                    distance = Levenshtein.distance(key, name_key, score_cutoff=MAX_DISTANCE)
                    if distance <= MAX_DISTANCE and (best is None or distance < best.distance):
                        o_start, o_end = doc.span(tokens.starts[at], tokens.ends[end])
                        surface = text[o_start:o_end]
                        why = _why(name_key, distance, surface, name.qualified)
                        best = Candidate(surface, key, name_key, distance, why)
    return best
