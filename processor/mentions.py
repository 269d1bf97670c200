"""Find places and cue words in normalized text, a dictionary lookup per word.

Pure functions over a ``Normalized`` document: place mentions (longest match
wins where names overlap) and cue matches, each with normalized offsets; place
mentions also carry their span in the original text for evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from processor.cues import CueWords, Lexicon
from processor.gazetteer import Gazetteer
from processor.morphology import Morphology, morphology
from processor.normalize import Normalized

_WORD = re.compile(r"\w+")
# What may stand between the words of one name ("Ain al-Asad") or one cue ("U.S.", "pull-out").
_NAME_GAP = re.compile(r"[\s\-']{0,3}")
_CUE_GAP = re.compile(r"[\s\-.'’]{0,3}")
_SENTENCE_END = re.compile(r"[.!?؟\n]")
MAX_CUE_GAP = 15  # words that may stand inside a split cue ("zieh* ... ab")


@dataclass(frozen=True, slots=True)
class Words:
    """The words of a normalized text, as parallel lists (documents have thousands)."""

    starts: list[int]
    ends: list[int]
    texts: list[str]

    def __len__(self) -> int:
        return len(self.texts)


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


def words(text: str) -> Words:
    spans = [m.span() for m in _WORD.finditer(text)]
    return Words([a for a, _ in spans], [b for _, b in spans], [text[a:b] for a, b in spans])


def _adjacent(text: str, tokens: Words, left: int, gap: re.Pattern[str]) -> bool:
    """Whether only ``gap`` stands between word ``left`` and the word after it."""
    return gap.fullmatch(text, tokens.ends[left], tokens.starts[left + 1]) is not None


def _name_end(
    text: str, tokens: Words, at: int, stems: Sequence[str], morph: Morphology
) -> int | None:
    """Index of the last word of a name starting at word ``at``, if the rest follows."""
    last = at
    for stem in stems[1:]:
        following = last + 1
        if following >= len(tokens) or not _adjacent(text, tokens, last, _NAME_GAP):
            return None
        if stem not in morph.stems(tokens.texts[following]):
            return None
        last = following
    return last


def _matches(
    text: str, tokens: Words, gazetteer: Gazetteer, morph: Morphology
) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """(first word, last word, place) of every name found: plain names, and qualified ones."""
    plain: list[tuple[int, int, str]] = []
    qualified: list[tuple[int, int, str]] = []
    for at, word in enumerate(tokens.texts):
        for stem in morph.stems(word):
            for index, found in ((gazetteer.index, plain), (gazetteer.qualified, qualified)):
                for name in index.get(stem, ()):
                    last = _name_end(text, tokens, at, name.stems, morph)
                    if last is not None:
                        found.append((at, last, name.place))
    return plain, qualified


def _in_context(
    tokens: Words, at: int, last: int, named_ends: set[int], gazetteer: Gazetteer
) -> bool:
    """A qualified name counts beside a base noun ("Harir base", "پایگاه حریر") or after a
    base in a list ("… عینالاسد و حریر")."""
    morph = morphology()

    def is_base_noun(index: int) -> bool:
        return 0 <= index < len(tokens) and bool(
            morph.stems(tokens.texts[index]) & gazetteer.base_nouns
        )

    if is_base_noun(at - 1) or is_base_noun(last + 1):
        return True
    if tokens.texts[at][:1] in gazetteer.conjunctions and at - 1 in named_ends:  # "… وحرير"
        return True
    return at >= 2 and tokens.texts[at - 1] in gazetteer.conjunctions and at - 2 in named_ends


def find_places(
    doc: Normalized, original: str, gazetteer: Gazetteer, tokens: Words | None = None
) -> list[Mention]:
    morph = morphology()
    tokens = words(doc.text) if tokens is None else tokens
    candidates, qualified = _matches(doc.text, tokens, gazetteer, morph)
    bases = {last for _, last, place in candidates if not gazetteer.get(place).is_country}
    candidates += [
        (at, last, place)
        for at, last, place in qualified
        if _in_context(tokens, at, last, bases, gazetteer)
    ]
    spans = sorted(
        ((tokens.starts[at], tokens.ends[last], place) for at, last, place in candidates),
        key=lambda c: (c[0], c[0] - c[1]),
    )
    mentions: list[Mention] = []
    covered_until = -1
    for start, end, place_id in spans:
        if start < covered_until:
            continue
        covered_until = end
        o_start, o_end = doc.span(start, end)
        mentions.append(Mention(place_id, o_start, o_end, original[o_start:o_end], start, end))
    return mentions


def _cue_end(text: str, tokens: Words, at: int, cue: CueWords) -> int | None:
    last = at
    for word in cue.words[1:]:
        reach = MAX_CUE_GAP if word.after_gap else 1
        for following in range(last + 1, min(last + 1 + reach, len(tokens))):
            between = text[tokens.ends[following - 1] : tokens.starts[following]]
            if word.after_gap:
                if _SENTENCE_END.search(between):
                    return None
            elif not _CUE_GAP.fullmatch(between):
                return None
            token = tokens.texts[following]
            if token == word.text or (word.stem and token.startswith(word.text)):
                last = following
                break
        else:
            return None
    return last


def find_cues(
    doc: Normalized, original: str, lexicon: Lexicon, tokens: Words | None = None
) -> list[Cue]:
    """Cues in the normalized text, and case-sensitive ones in the original (mapped over)."""
    morph = morphology()
    tokens = words(doc.text) if tokens is None else tokens
    found: set[Cue] = set()
    for at, word in enumerate(tokens.texts):
        for form in morph.without_clitics(word):
            for cue in lexicon.starting(form):
                last = _cue_end(doc.text, tokens, at, cue)
                if last is not None:
                    found.add(Cue(cue.concept, tokens.starts[at], tokens.ends[last]))
    for concept, pattern in lexicon.exact:
        for match in pattern.finditer(original):
            found.add(Cue(concept, doc.locate(match.start()), doc.locate(match.end())))
    return sorted(found, key=lambda c: (c.start, c.end, c.concept))
