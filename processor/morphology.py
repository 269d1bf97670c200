"""Word forms: which stems a word of normalized text may be.

Names and cue words are written in their base form in the data files; a word
in an article may carry Arabic clitics (و ف ب ل ك ال …), Persian or Sorani
suffixes, Russian/Ukrainian case endings, Kurmanji case endings or Hebrew prefixes. This
module turns a text word into the stems it may stand for, and a name's word
into its stem, so matching is a dictionary lookup per word. What surrounds a
base form in each script is data in ``data/morphology.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from processor.data import read
from processor.normalize import normalize_text

_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]")
_CYRILLIC = re.compile(r"[\u0400-\u052F]")
_HEBREW = re.compile(r"[\u0590-\u05FF]")
MIN_STEM = 2
# Entries per word cache: the words of news keep coming (numbers, names), so a cache is
# emptied when full; 20,000 entries hold a day's common words in a few megabytes.
CACHE_LIMIT = 20_000


def script_of(text: str) -> str:
    if _ARABIC.search(text):
        return "arabic"
    if _CYRILLIC.search(text):
        return "cyrillic"
    if _HEBREW.search(text):
        return "hebrew"
    return "latin"


def _normalized(options: list[str]) -> tuple[str, ...]:
    return tuple(sorted({normalize_text(o) for o in options} - {""}, key=len, reverse=True))


@dataclass(frozen=True, slots=True)
class Morphology:
    arabic_prefixes: tuple[str, ...]
    arabic_article: str
    arabic_suffixes: tuple[str, ...]
    cyrillic_strip: str
    cyrillic_suffixes: tuple[str, ...]
    latin_suffixes: tuple[str, ...]
    hebrew_prefixes: tuple[str, ...] = ()
    from_suffixes: tuple[str, ...] = ()
    from_prefixes: tuple[str, ...] = ()
    _cache: dict[str, frozenset[str]] = field(default_factory=dict, compare=False)
    _clitics: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def marks_from(self, word: str, after: str) -> bool:
        """Whether a place's (normalized) word, or what follows it, says "from" by itself:
        "Suriye" before "'den", "מסוריה"."""
        return after.startswith(self.from_suffixes) or (
            bool(_HEBREW.match(word)) and word.startswith(self.from_prefixes)
        )

    def name_stem(self, word: str) -> str:
        """The stem a name's (normalized) word is indexed under."""
        script = script_of(word)
        if script == "arabic":
            article = self.arabic_article
            if word.startswith(article) and len(word) > len(article) + 1:
                return word[len(article) :]
        elif script == "cyrillic" and len(word) > 3 and word[-1] in self.cyrillic_strip:
            return word[:-1]
        return word

    def without_clitics(self, word: str) -> tuple[str, ...]:
        """The word and, in Arabic and Hebrew script, the word without each clitic it may
        carry."""
        if _HEBREW.match(word):
            return tuple(
                dict.fromkeys(
                    [word]
                    + [
                        word[len(p) :]
                        for p in self.hebrew_prefixes
                        if word.startswith(p) and len(word) - len(p) >= MIN_STEM
                    ]
                )
            )
        if not _ARABIC.match(word):
            return (word,)
        found = self._clitics.get(word)
        if found is None:
            if len(self._clitics) > CACHE_LIMIT:
                self._clitics.clear()
            found = self._clitics[word] = self._without_clitics(word)
        return found

    def _without_clitics(self, word: str) -> tuple[str, ...]:
        forms = [word]
        forms += [
            word[len(p) :]
            for p in self.arabic_prefixes
            if word.startswith(p) and len(word) - len(p) >= MIN_STEM
        ]
        return tuple(dict.fromkeys(forms))

    def stems(self, word: str) -> frozenset[str]:
        """Every stem a (normalized) text word may be an inflected form of."""
        found = self._cache.get(word)
        if found is None:
            if len(self._cache) > CACHE_LIMIT:
                self._cache.clear()
            found = self._cache[word] = frozenset(self._stems(word))
        return found

    def _stems(self, word: str) -> set[str]:
        script = script_of(word)
        if script == "arabic":
            stems = set()
            for form in self.without_clitics(word):
                stems.add(form)
                stems.add(self.name_stem(form))
                stems.update(_strip(form, self.arabic_suffixes))
            return stems
        if script == "hebrew":
            return {
                word,
                *(
                    word[len(p) :]
                    for p in self.hebrew_prefixes
                    if word.startswith(p) and len(word) - len(p) >= MIN_STEM
                ),
            }
        suffixes = self.cyrillic_suffixes if script == "cyrillic" else self.latin_suffixes
        return {word, *_strip(word, suffixes)}


def _strip(word: str, suffixes: tuple[str, ...]) -> list[str]:
    return [
        word[: -len(s)] for s in suffixes if word.endswith(s) and len(word) - len(s) >= MIN_STEM + 1
    ]


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    data: dict[str, Any] = read("morphology.yaml")
    return data


@cache
def morphology() -> Morphology:
    data = _data()
    arabic, cyrillic, latin = data["arabic"], data["cyrillic"], data["latin"]
    hebrew = data["hebrew"]
    return Morphology(
        arabic_prefixes=_normalized(arabic["prefixes"]),
        arabic_article=normalize_text(arabic["article"]),
        arabic_suffixes=_normalized(arabic["name_suffixes"]),
        cyrillic_strip=normalize_text(cyrillic["strip_final"]),
        cyrillic_suffixes=_normalized(cyrillic["name_suffixes"] + list(cyrillic["strip_final"])),
        latin_suffixes=_normalized(latin["name_suffixes"]),
        hebrew_prefixes=_normalized(hebrew["prefixes"]),
        from_suffixes=_normalized(data["from_marks"]["suffixes"]),
        from_prefixes=_normalized(data["from_marks"]["prefixes"]),
    )
