"""Find places and cue words in normalized text, a dictionary lookup per word.

Pure functions over a ``Normalized`` document: place mentions (longest match
wins where names overlap) and cue matches, each with normalized offsets; place
mentions also carry their span in the original text for evidence.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from processor.cues import CueWords, Lexicon
from processor.gazetteer import FUZZY_FROM, Gazetteer, SoundName
from processor.morphology import CACHE_LIMIT, Morphology, morphology, script_of
from processor.normalize import Normalized
from processor.sounds import ARTICLE, deletions, near, sounds

_WORD = re.compile(r"\w+")
# What may stand between the words of one name ("Ain al-Asad") or one cue ("U.S.", "pull-out").
_NAME_GAP = re.compile(r"[\s\-'\"«»“”„]{0,3}")
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


CONTEXT_WINDOW = 3  # words between a base noun and a name it qualifies ("base aérienne de Harir")
SHORT_WINDOW = 2  # … for a short name found by its sound ("base d'al-Tanf")
ADJACENT = 1
MAX_NAME_WORDS = 4
_UNCASED = frozenset({"arabic", "hebrew"})


@dataclass(slots=True)
class _Context:
    """What decides whether a name that is also an ordinary word, or a spelling found only by
    its sound, is a base: base nouns near it, a list of bases, a capital letter."""

    doc: Normalized
    original: str
    tokens: Words
    gazetteer: Gazetteer
    morph: Morphology
    named_ends: set[int]
    named_starts: set[int]
    named: set[int]  # words of names found by their listed spellings

    def base_noun(self, index: int) -> bool:
        return self.gazetteer.base_nouns.inflected(self.tokens.texts[index])

    def _same_sentence(self, a: int, b: int) -> bool:
        text, tokens = self.doc.text, self.tokens
        return _SENTENCE_END.search(text, tokens.ends[a], tokens.starts[b]) is None

    def descriptor(self, index: int) -> bool:
        """A word that describes a base ("military", "هوایی", "الجوية") but is not its noun."""
        unsounded = self.gazetteer.unsounded
        word = self.tokens.texts[index]
        return unsounded is not None and unsounded.inflected(word) and not self.base_noun(index)

    def near_base_noun(self, at: int, last: int, window: int, after: bool = True) -> bool:
        """A base noun within ``window`` words in the sentence, not counting descriptors
        ("پایگاه نظامی الحریر"), with no other name between ("پایگاه عینالاسد قرار است":
        the base noun is Ain al-Asad's) and not the head of a name beside it: the name after
        it in Arabic script and Hebrew, where the noun comes first ("… قاعدة عين الأسد"),
        also the name before it in cased scripts, where it may come last ("Rümeylan üssüne
        3 askeri kargo": the base noun is Rmelan's, not Kargo's)."""
        noun_first = self.capitalised(at) is None
        steps = ((at - 1, -1, at),) + (((last + 1, 1, last),) if after else ())
        for i, step, end in steps:
            left = window
            while 0 <= i < len(self.tokens) and left > 0:
                if i in self.named or not self._same_sentence(min(i, end), max(i, end)):
                    break
                if self.base_noun(i):
                    return (step < 0 and noun_first) or i + step not in self.named
                if not self.descriptor(i):
                    left -= 1
                i += step
        return False

    def in_list(self, at: int, last: int) -> bool:
        """Beside a named base across a conjunction ("… وحرير", "… Ain al-Asad and Harir",
        "Tenef ve Şeddadi"), or a conjunction and the preposition the list repeats
        ("li Hewlêrê û li Herîrê", "… وفي حرير")."""
        texts, conjunctions = self.tokens.texts, self.gazetteer.conjunctions
        if texts[at][:1] in conjunctions and at - 1 in self.named_ends:
            return True
        if at >= 2 and self._joins(at - 1) and at - 2 in self.named_ends:
            return True
        if at >= 3 and self._joins(at - 2, at - 1) and at - 3 in self.named_ends:
            return True
        after = len(texts) - last - 1
        return (after >= 2 and self._joins(last + 1) and last + 2 in self.named_starts) or (
            after >= 3 and self._joins(last + 1, last + 2) and last + 3 in self.named_starts
        )

    def _joins(self, conjunction: int, preposition: int | None = None) -> bool:
        """Whether the word at ``conjunction`` is one (alone, or as the clitic of a
        preposition: "وفي"), followed by the list's preposition at ``preposition``."""
        texts, gazetteer = self.tokens.texts, self.gazetteer
        word = texts[conjunction]
        if preposition is None:
            return word in gazetteer.conjunctions or (
                word[:1] in gazetteer.conjunctions and word[1:] in gazetteer.list_prepositions
            )
        return word in gazetteer.conjunctions and texts[preposition] in gazetteer.list_prepositions

    def qualified(self, at: int, last: int, window: int = CONTEXT_WINDOW) -> bool:
        return self.near_base_noun(at, last, window) or self.in_list(at, last)

    def preceded_by_base_noun(self, at: int, last: int, window: int) -> bool:
        """In Arabic-script and Hebrew text the base noun comes first (قاعدة X, پایگاه X,
        בסיס X): only a base noun before the name counts, or a list of bases."""
        return self.near_base_noun(at, last, window, after=False) or self.in_list(at, last)

    def all_capitalised(self, at: int, last: int) -> bool:
        return all(
            self.capitalised(i) is not False
            for i in range(at, last + 1)
            if sounds().key(self.tokens.texts[i]) != ARTICLE
        )

    def capitalised(self, at: int) -> bool | None:
        """Whether the name's first letter is a capital; None in a script without case."""
        start = self.tokens.starts[at]
        if script_of(self.doc.text[start]) in _UNCASED:
            return None
        o_start, _ = self.doc.span(start, start + 1)
        return self.original[o_start : o_start + 1].isupper()


_KEYS: dict[tuple[str, bool], tuple[str, ...]] = {}


def _sound_keys(context: _Context, index: int) -> tuple[str, ...]:
    """The sound keys a text word may have: of the word and of each stem it may be;
    ``(ARTICLE,)`` for an article."""
    word = context.tokens.texts[index]
    sorani = False
    if "ه" in word:  # only Sorani words need their original letters (ە was folded to ه)
        start, end = context.doc.span(context.tokens.starts[index], context.tokens.ends[index])
        sorani = sounds().is_sorani(context.original[start:end])
    found = _KEYS.get((word, sorani))
    if found is None:
        if len(_KEYS) > CACHE_LIMIT:
            _KEYS.clear()
        sound = sounds()
        if sound.key(word, sorani) == ARTICLE:
            found = (ARTICLE,)
        else:
            keys = {sound.key(form, sorani) for form in context.morph.stems(word)}
            found = tuple(sorted(keys - {"", ARTICLE}))
        _KEYS[(word, sorani)] = found
    return found


_HEARD: dict[tuple[int, str], list[tuple[SoundName, int]]] = {}


def _heard(key: str, gazetteer: Gazetteer) -> list[tuple[SoundName, int]]:
    """Names whose sound is ``key`` (distance 0) or, for long keys, one edit away."""
    cached = _HEARD.get((id(gazetteer), key))
    if cached is None:
        if len(_HEARD) > CACHE_LIMIT:
            _HEARD.clear()
        cached = _HEARD[(id(gazetteer), key)] = _hear(key, gazetteer)
    return cached


def _hear(key: str, gazetteer: Gazetteer) -> list[tuple[SoundName, int]]:
    found = [(name, 0) for name in gazetteer.sounds.get(key, ())]
    if found or len(key) < FUZZY_FROM:
        return found
    keys = {k for shorter in deletions(key) | {key} for k in gazetteer.near_sounds.get(shorter, ())}
    return [
        (name, 1)
        for k in sorted(keys)
        if k[0] == key[0] and near(key, k)
        for name in gazetteer.sounds[k]
    ]


def _accepted(
    name: SoundName, distance: int, at: int, last: int, words: int, context: _Context
) -> bool:
    """Whether a name found only by its sound is the base. Sound alone never decides for keys
    of one or two consonants; the shorter, the less exact and the more ordinary the name, the
    closer a base noun or a list of bases must be; in scripts with case it must be a capital."""
    capital = context.capitalised(at)
    if capital is False:
        return False
    size = len(name.key)
    if size < 3 or words > name.words or (distance and words != name.words):
        return False
    if capital is None:  # Arabic script, Hebrew: the base noun comes first
        if name.qualified or size == 3:  # "قاعدة النصر": right before it
            return distance == 0 and context.preceded_by_base_noun(at, last, ADJACENT)
        return context.preceded_by_base_noun(at, last, SHORT_WINDOW)
    if size == 3:
        return distance == 0 and context.qualified(at, last, SHORT_WINDOW)
    if distance and not context.all_capitalised(at, last):
        return False
    if distance or name.qualified or size == 4:
        return context.qualified(at, last, CONTEXT_WINDOW)
    return True


_STARTS: dict[str, tuple[bool, bool]] = {}


def _start(word: str, context: _Context) -> tuple[bool, bool]:
    """Whether a word sounds like the beginning of a name, and like the second word of one
    whose first word has a single consonant (read as Sorani too if it may be)."""
    found = _STARTS.get(word)
    if found is None:
        if len(_STARTS) > CACHE_LIMIT:
            _STARTS.clear()
        sound, gazetteer = sounds(), context.gazetteer
        readings = (False, True) if "ه" in word else (False,)
        keys = {
            sound.key(form, sorani) for form in context.morph.stems(word) for sorani in readings
        } - {ARTICLE, ""}
        found = _STARTS[word] = (
            any(k in gazetteer.sound_starts or _heard(k, gazetteer) for k in keys),
            not keys.isdisjoint(gazetteer.sound_seconds),
        )
    return found


def _starts(context: _Context) -> list[int]:
    """Where a name heard by its sound may begin: on a word like a name's first word, or on
    the one-consonant word before a word like a name's second ("Ayn" of "Ayn’ül Esad")."""
    tokens, text = context.tokens, context.doc.text
    first, second = set(), set()
    for word in set(tokens.texts):
        starts, follows = _start(word, context)
        if starts:
            first.add(word)
        if follows:
            second.add(word)
    found = {i for i, w in enumerate(tokens.texts) if w in first}
    for at in (i for i, w in enumerate(tokens.texts) if w in second):
        before = at - 1
        while before >= 0 and _sound_keys(context, before) == (ARTICLE,):
            before -= 1
        if before >= 0 and _adjacent(text, tokens, before, _NAME_GAP):
            keys = _sound_keys(context, before)
            if keys and all(len(k) == 1 for k in keys):
                found.add(before)
    return sorted(found)


def _by_sound(context: _Context, covered: set[int]) -> list[tuple[int, int, str]]:
    """(first word, last word, place) of names found by how they sound, where no listed
    spelling was found. A span grows word by word while it sounds like the beginning of a
    name, so only its last word may be misspelt."""
    tokens, text, gazetteer = context.tokens, context.doc.text, context.gazetteer
    prefixes = gazetteer.sound_prefixes
    found: list[tuple[int, int, str]] = []
    for at in _starts(context):
        if at in covered or context.base_noun(at):
            continue
        keys = _sound_keys(context, at)
        if keys == (ARTICLE,):
            continue
        count, last = 1, at
        while True:
            for key in keys:
                for name, distance in _heard(key, gazetteer):
                    if _accepted(name, distance, at, last, count, context):
                        found.append((at, last, name.place))
            keys = tuple(k for k in keys if k in prefixes)
            following: tuple[str, ...] = ()
            while keys and count < MAX_NAME_WORDS and last + 1 < len(tokens):
                if last + 1 in covered or not _adjacent(text, tokens, last, _NAME_GAP):
                    break
                last += 1
                following = _sound_keys(context, last)
                if following != (ARTICLE,):
                    break
            if not following or following == (ARTICLE,) or context.base_noun(last):
                break
            keys = tuple(k + f for k in keys for f in following)
            count += 1
    return found


def _qualified(
    context: _Context, qualified: list[tuple[int, int, str]]
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
    context = _Context(
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
    candidates += _by_sound(context, covered)
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
    morph = morphology()
    tokens = words(doc.text) if tokens is None else tokens
    spoken_at = _spoken(tokens, languages, lexicon)
    found: set[Cue] = set()
    for at, word in enumerate(tokens.texts):
        spoken = spoken_at[at]
        for form in morph.without_clitics(word):
            for cue in lexicon.starting(form, spoken):
                last = _cue_end(doc.text, tokens, at, cue)
                if last is not None:
                    found.add(Cue(cue.concept, tokens.starts[at], tokens.ends[last]))
    for concept, pattern in lexicon.exact:
        for match in pattern.finditer(original):
            found.add(Cue(concept, doc.locate(match.start()), doc.locate(match.end())))
    return sorted(found, key=lambda c: (c.start, c.end, c.concept))
