"""Which words are bases: a name's context (base nouns, lists of bases, capitals), and
names found by how they sound when no listed spelling matches.

``NameContext`` answers for one document whether a name that is also an ordinary word,
or a spelling heard rather than listed, stands where a base is named; ``by_sound``
finds the spellings the gazetteer does not list (processor/sounds.py gives the keys).
"""

from __future__ import annotations

from dataclasses import dataclass

from processor.gazetteer import FUZZY_FROM, Gazetteer, SoundName
from processor.morphology import CACHE_LIMIT, Morphology, script_of
from processor.normalize import Normalized
from processor.sounds import ARTICLE, deletions, near, sounds
from processor.tokens import NAME_GAP, SENTENCE_END, Words, adjacent

CONTEXT_WINDOW = 3  # words between a base noun and a name it qualifies ("base aérienne de Harir")
SHORT_WINDOW = 2  # … for a short name found by its sound ("base d'al-Tanf")
ADJACENT = 1
MAX_NAME_WORDS = 4
_UNCASED = frozenset({"arabic", "hebrew"})


@dataclass(slots=True)
class NameContext:
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
        return SENTENCE_END.search(text, tokens.ends[a], tokens.starts[b]) is None

    def describes(self, index: int) -> bool:
        """A base noun or a word that describes a base ("military", "هوایی", "الجوية");
        asked once ``base_noun`` has said it is not the noun."""
        unsounded = self.gazetteer.unsounded
        return unsounded is not None and unsounded.inflected(self.tokens.texts[index])

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
                if step > 0 and self.tokens.texts[i] in self.gazetteer.list_prepositions:
                    break  # "из Эрбиля на базу": the base noun after it is another phrase's
                if not self.describes(i):
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


def _sound_keys(context: NameContext, index: int) -> tuple[str, ...]:
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
    name: SoundName, distance: int, at: int, last: int, words: int, context: NameContext
) -> bool:
    """Whether a name found only by its sound is the base. Sound alone never decides for keys
    of one or two consonants; the shorter, the less exact and the more ordinary the name, the
    closer a base noun or a list of bases must be; in scripts with case it must be a capital."""
    size = len(name.key)
    if size < 3 or words > name.words or (distance and words != name.words):
        return False
    capital = context.capitalised(at)
    if capital is False:
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


def _start(word: str, context: NameContext) -> tuple[bool, bool]:
    """Whether a word sounds like the beginning of a name, and like the second word of one
    whose first word has a single consonant (read as Sorani too if it may be)."""
    found = _STARTS.get(word)
    if found is None:
        if len(_STARTS) > CACHE_LIMIT:
            _STARTS.clear()
        sound, gazetteer = sounds(), context.gazetteer
        readings = (False, True) if "ه" in word else (False,)
        keys = (
            set()
            if gazetteer.given_name(word)  # "Bashar" (al-Assad) is not Bashur
            else {
                sound.key(form, sorani) for form in context.morph.stems(word) for sorani in readings
            }
            - {ARTICLE, ""}
        )
        found = _STARTS[word] = (
            any(k in gazetteer.sound_starts or _heard(k, gazetteer) for k in keys),
            not keys.isdisjoint(gazetteer.sound_seconds),
        )
    return found


def _starts(context: NameContext) -> list[int]:
    """Where a name heard by its sound may begin: on a word like a name's first word, or on
    the one-consonant word before a word like a name's second ("Ayn" of "Ayn’ül Esad")."""
    tokens, text = context.tokens, context.doc.text
    first, second = set(), set()
    cached = _STARTS.get
    for word in set(tokens.texts):
        starts, follows = cached(word) or _start(word, context)
        if starts:
            first.add(word)
        if follows:
            second.add(word)
    wanted = first | second
    hits = [i for i, w in enumerate(tokens.texts) if w in wanted]  # one pass for both
    found = {i for i in hits if tokens.texts[i] in first}
    for at in (i for i in hits if tokens.texts[i] in second):
        before = at - 1
        while before >= 0 and _sound_keys(context, before) == (ARTICLE,):
            before -= 1
        if before >= 0 and adjacent(text, tokens, before, NAME_GAP):
            keys = _sound_keys(context, before)
            if keys and all(len(k) == 1 for k in keys):
                found.add(before)
    return sorted(found)


def by_sound(context: NameContext, covered: set[int]) -> list[tuple[int, int, str]]:
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
                if last + 1 in covered or not adjacent(text, tokens, last, NAME_GAP):
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
