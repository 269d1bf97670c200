"""Find places and cue words in normalized text, a dictionary lookup per word.

Pure functions over a ``Normalized`` document: place mentions (longest match
wins where names overlap) and cue matches, each with normalized offsets; place
mentions also carry their span in the original text for evidence.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from operator import itemgetter

from processor.cues import CueWords, Lexicon
from processor.gazetteer import Gazetteer
from processor.hearing import ADJACENT, CONTEXT_WINDOW, NameContext, by_sound
from processor.morphology import Morphology, morphology
from processor.normalize import Normalized
from processor.tokens import CUE_GAP, NAME_GAP, SENTENCE_END, Cue, Mention, Words, adjacent, words

__all__ = ["Mention", "find_cues", "find_places", "words"]
_IN_ORDER = itemgetter(1, 2, 0)  # a cue's start, end, concept
MAXCUE_GAP = 15  # words that may stand inside a split cue ("zieh* ... ab")


def _name_end(
    text: str, tokens: Words, at: int, stems: Sequence[str], morph: Morphology
) -> int | None:
    """Index of the last word of a name starting at word ``at``, if the rest follows."""
    last = at
    for stem in stems[1:]:
        following = last + 1
        if following >= len(tokens) or not adjacent(text, tokens, last, NAME_GAP):
            return None
        if stem not in morph.stems(tokens.texts[following]):
            return None
        last = following
    return last


def _family_name(text: str, tokens: Words, at: int, gazetteer: Gazetteer) -> bool:
    """Whether the word at ``at`` follows a given name: "Bashar al-Asad" is a person."""
    return (
        at > 0
        and adjacent(text, tokens, at - 1, NAME_GAP)
        and gazetteer.given_name(tokens.texts[at - 1])
    )


def _matches(
    text: str, tokens: Words, gazetteer: Gazetteer, morph: Morphology
) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """(first word, last word, place) of every name found: plain names, and qualified ones."""
    plain: list[tuple[int, int, str]] = []
    qualified: list[tuple[int, int, str]] = []
    texts = tokens.texts
    starting = {word: gazetteer.starting(word) for word in set(texts)}  # per distinct word
    for at in [at for at, word in enumerate(texts) if starting[word]]:
        names = starting[texts[at]]
        if _family_name(text, tokens, at, gazetteer):
            continue  # "Bashar al-Asad": a person
        following = (
            morph.stems(tokens.texts[at + 1])
            if at + 1 < len(tokens) and adjacent(text, tokens, at, NAME_GAP)
            else frozenset()
        )
        for name, is_qualified in names:
            if len(name.stems) == 1:
                last: int | None = at
            elif name.stems[1] in following:  # most names a base noun begins end here
                last = _name_end(text, tokens, at, name.stems, morph)
            else:
                continue
            if last is not None:
                (qualified if is_qualified else plain).append((at, last, name.place))
    return plain, qualified


def _qualified(
    context: NameContext, qualified: list[tuple[int, int, str]]
) -> list[tuple[int, int, str]]:
    """The names that are ordinary words too which their context makes bases; one accepted
    can make the next one a list of bases ("li Firokexaneya … Hewlêrê û li Herîrê")."""
    accepted: list[tuple[int, int, str]] = []
    waiting = list(qualified)
    while waiting:
        found = [
            (at, last, place)
            for at, last, place in waiting
            if context.qualified(
                at, last, ADJACENT if context.capitalised(at) is None else CONTEXT_WINDOW
            )
        ]
        if not found:
            break
        accepted += found
        waiting = [m for m in waiting if m not in found]
        for at, last, place in found:
            if not context.gazetteer.get(place).is_country:
                context.named_starts.add(at)
                context.named_ends.add(last)
    return accepted


def find_places(
    doc: Normalized, original: str, gazetteer: Gazetteer, tokens: Words | None = None
) -> list[Mention]:
    morph = morphology()
    tokens = words(doc.text) if tokens is None else tokens
    candidates, qualified = _matches(doc.text, tokens, gazetteer, morph)
    bases = [(at, last) for at, last, place in candidates if not gazetteer.get(place).is_country]
    covered = {i for at, last, _ in candidates for i in range(at, last + 1)}
    context = NameContext(
        doc,
        original,
        tokens,
        gazetteer,
        morph,
        {b for _, b in bases},
        {a for a, _ in bases},
        covered,
    )
    candidates += _qualified(context, qualified)
    covered = {i for at, last, _ in candidates for i in range(at, last + 1)}
    candidates += by_sound(context, covered)
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
        reach = MAXCUE_GAP if word.after_gap else 1
        for following in range(last + 1, min(last + 1 + reach, len(tokens))):
            between = text[tokens.ends[following - 1] : tokens.starts[following]]
            if word.after_gap:
                if SENTENCE_END.search(between):
                    return None
            elif not CUE_GAP.fullmatch(between):
                return None
            if word.matches(tokens.texts[following]):
                last = following
                break
        else:
            return None
    return last


def _spoken(
    tokens: Words, languages: Sequence[tuple[int, str | None]], lexicon: Lexicon
) -> list[frozenset[str] | None]:
    """Per word, the languages whose cues count there (None: every language's)."""
    spoken: list[frozenset[str] | None] = [None] * len(tokens)
    starts = [start for start, _ in languages]
    for index, (start, language) in enumerate(languages):
        if language not in lexicon.languages:
            continue
        first = bisect_right(tokens.starts, start - 1)
        stop = (
            bisect_right(tokens.starts, starts[index + 1] - 1)
            if index + 1 < len(starts)
            else len(tokens)
        )
        spoken[first:stop] = [lexicon.speaks(language)] * (stop - first)
    return spoken


def find_cues(
    doc: Normalized,
    original: str,
    lexicon: Lexicon,
    tokens: Words | None = None,
    languages: Sequence[tuple[int, str | None]] = (),
) -> list[Cue]:
    """Cues in the normalized text, and case-sensitive ones in the original (mapped over).

    ``languages`` gives (normalized start, language) of each paragraph: there a cue counts
    only if its language's file lists it (where the language has a file at all)."""
    tokens = words(doc.text) if tokens is None else tokens
    spoken_at = _spoken(tokens, languages, lexicon)
    found: set[Cue] = set()
    texts = tokens.texts
    keys = list(zip(texts, spoken_at, strict=True))
    beginning = {key: lexicon.beginning(*key) for key in set(keys)}  # per distinct word
    starts, ends = tokens.starts, tokens.ends
    for at, begun in [(at, b) for at, key in enumerate(keys) if (b := beginning[key])]:
        for cue in begun.single:
            found.add(Cue(cue.concept, starts[at], ends[at]))
        # most cues a preposition begins end here, their second word not following
        for cue in begun.following(texts[at + 1] if at + 1 < len(texts) else ""):
            last = _cue_end(doc.text, tokens, at, cue)
            if last is not None:
                found.add(Cue(cue.concept, starts[at], ends[last]))
    for concept, pattern in lexicon.exact:
        for match in pattern.finditer(original):
            found.add(Cue(concept, doc.locate(match.start()), doc.locate(match.end())))
    return sorted(found, key=_IN_ORDER)
