"""How a written word sounds: a Latin consonant skeleton shared by every script's spelling.

A word is transliterated to Latin letters by anyascii, after a small per-script table
corrects the letters it renders wrongly for names (``data/sounds.yaml``), then folded:
digraphs replaced, letters outlets interchange merged into classes, vowels dropped (Arabic
and Hebrew rarely write them), doubled letters collapsed. "Qasrak", "قسرك", "Касрак",
"Kesrek" and "קסרק" all have the skeleton "ksrk", so a spelling the gazetteer never listed
is still recognised by how it sounds. Pure functions; keys are cached per word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from anyascii import anyascii
from rapidfuzz.distance import Levenshtein

from processor.data import read
from processor.morphology import CACHE_LIMIT

ARTICLE = "-"  # the key of a word that is only an article
_NOT_LATIN = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Sounds:
    letters: dict[str, str]
    initial: dict[str, str]
    digraphs: tuple[tuple[str, str], ...]
    classes: dict[str, str]
    vowels: frozenset[str]
    final: str
    articles: frozenset[str]
    sorani_letters: frozenset[str]
    _keys: dict[tuple[str, bool], str] = field(default_factory=dict, compare=False)

    def latin(self, word: str, sorani: bool = False) -> str:
        """The word in lower-case Latin letters and digits."""
        if not word:
            return ""
        letters = self.letters
        head = self.initial.get(word[0], letters.get(word[0], word[0]))
        corrected = head + "".join(
            "e" if sorani and char == "ه" else letters.get(char, char) for char in word[1:]
        )
        return _NOT_LATIN.sub("", anyascii(corrected).lower())

    def skeleton(self, latin: str) -> str:
        for old, new in self.digraphs:
            latin = latin.replace(old, new)
        if len(latin) > 2 and latin[-1] == self.final:
            latin = latin[:-1]
        out: list[str] = []
        for char in latin:
            if char in self.vowels:
                continue
            char = self.classes.get(char, char)
            if not out or out[-1] != char or char.isdigit():
                out.append(char)
        return "".join(out)

    def key(self, word: str, sorani: bool = False) -> str:
        """The skeleton of one (normalized) word; ``ARTICLE`` for an article, "" for none."""
        cached = self._keys.get((word, sorani))
        if cached is not None:
            return cached
        if len(self._keys) > CACHE_LIMIT:
            self._keys.clear()
        latin = self.latin(word, sorani)
        key = ARTICLE if not latin or latin in self.articles else self.skeleton(latin)
        self._keys[(word, sorani)] = key
        return key

    def is_sorani(self, original: str) -> bool:
        return not self.sorani_letters.isdisjoint(original)


def deletions(key: str) -> set[str]:
    """Every string one letter shorter: keys within one edit share one of these or the key."""
    return {key[:i] + key[i + 1 :] for i in range(len(key))}


def near(a: str, b: str, limit: int = 1) -> bool:
    return Levenshtein.distance(a, b, score_cutoff=limit) <= limit


def _load(data: dict[str, Any]) -> Sounds:
    classes = {member: group[0] for group in (str(g) for g in data["classes"]) for member in group}
    return Sounds(
        letters={str(k): str(v) for k, v in data["letters"].items()},
        initial={str(k): str(v) for k, v in data["initial"].items()},
        digraphs=tuple((str(a), str(b)) for a, b in data["digraphs"]),
        classes=classes,
        vowels=frozenset(str(data["vowels"])),
        final=str(data["final"]),
        articles=frozenset(str(a) for a in data["articles"]),
        sorani_letters=frozenset(str(data["sorani_letters"])),
    )


@cache
def sounds() -> Sounds:
    return _load(read("sounds.yaml"))
