"""Text normalization for matching, with a map back to the original offsets.

Matching runs on normalized text: Unicode compatibility forms, case folding,
diacritics removed (Arabic harakat, Latin accents), tatweel and zero-width
joiners dropped, Arabic/Persian letter variants unified, Arabic-Indic digits
made ASCII. Every normalized character remembers the index of the original
character it came from, so evidence can be quoted from the original text.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat

# Letters that differ between Arabic and Persian orthography, or that outlets
# use interchangeably, folded to one form.
_LETTERS = {
    "ی": "ي",  # Persian yeh
    "ى": "ي",  # alef maksura
    "ئ": "ي",
    "ک": "ك",  # Persian keheh
    "ة": "ه",  # teh marbuta
    "ۀ": "ه",
    "ە": "ه",  # Kurdish ae
    "ؤ": "و",
    "ٱ": "ا",
    "ё": "е",
    "ʼ": "'",
    "’": "'",
    "‘": "'",
    "ʻ": "'",
    "‐": "-",
    "‑": "-",
    "–": "-",
    "—": "-",
}
_DROPPED = {
    "\u0640",  # tatweel
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner
    "\u200b",  # zero-width space
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u00ad",  # soft hyphen
    "\ufeff",  # byte-order mark
}


@dataclass(frozen=True, slots=True)
class Normalized:
    """Normalized text and, per character, the index of its source in the original."""

    text: str
    offsets: Sequence[int]
    original_length: int

    def locate(self, original_index: int) -> int:
        """The normalized index where the original character at ``original_index`` begins."""
        return bisect_left(self.offsets, original_index)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the normalized text onto the original text."""
        if start >= end:
            at = self.offsets[start] if start < len(self.offsets) else self.original_length
            return at, at
        return self.offsets[start], self.offsets[end - 1] + 1


def fold_char(char: str) -> str:
    """The normalized form of one character (possibly empty or several characters)."""
    if char in _DROPPED:
        return ""
    if char.isdigit() and not char.isascii():
        value = unicodedata.digit(char, None)
        if value is not None:
            return str(value)
    out = []
    for part in unicodedata.normalize("NFKD", char):
        if unicodedata.category(part) == "Mn":
            continue
        for folded in part.casefold():
            folded = _LETTERS.get(folded, folded)
            if folded not in _DROPPED:
                out.append(folded)
    return "".join(out)


class _FoldTable(dict[str, str]):
    """Each character's normalized form, computed the first time it is seen, and a pattern
    of the characters seen so far that fold to other than one character."""

    def __init__(self) -> None:
        super().__init__()
        self._odd: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def __missing__(self, char: str) -> str:
        folded = self[char] = fold_char(_LETTERS.get(char, char))
        if len(folded) != 1:
            self._odd.add(char)
            self._pattern = None
        return folded

    def odd(self) -> re.Pattern[str]:
        if self._pattern is None:
            self._pattern = re.compile("[" + "".join(map(re.escape, sorted(self._odd))) + "]")
        return self._pattern


_FOLDED = _FoldTable()


_SHORT = 256  # texts shorter than this map their offsets one by one


def _each_offset(folded: list[str]) -> Iterator[int]:
    for index, chars in enumerate(folded):
        yield from repeat(index, len(chars))


def normalize(text: str) -> Normalized:
    """Normalize ``text`` for matching, keeping a map back to the original."""
    folded = list(map(_FOLDED.__getitem__, text))
    normalized = "".join(folded)
    if len(normalized) == len(text) and "" not in folded:
        return Normalized(normalized, range(len(text)), len(text))
    # Few characters fold to other than one (harakat dropped, ligatures split): copy runs
    # of the identity map between them rather than build every offset one by one.
    if len(text) < _SHORT:
        return Normalized(normalized, tuple(_each_offset(folded)), len(text))
    offsets: list[int] = []
    copied = 0
    for match in _FOLDED.odd().finditer(text):
        odd = match.start()
        offsets += range(copied, odd)
        offsets += repeat(odd, len(folded[odd]))
        copied = odd + 1
    offsets += range(copied, len(text))
    return Normalized(normalized, tuple(offsets), len(text))


def normalize_text(text: str) -> str:
    """Only the normalized string, for names, cues and hashing."""
    return normalize(text).text
