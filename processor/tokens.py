"""Words of a normalized text, and what is found among them (places, cue words).

Pure data and one scanner: the word spans every later stage indexes by, and the
gaps that may stand inside one name or one cue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import add
from typing import NamedTuple

_WORD = re.compile(r"\w+")
# What may stand between the words of one name ("Ain al-Asad") or one cue ("U.S.", "pull-out").
NAME_GAP = re.compile(r"[\s\-'\"«»“”„]{0,3}")
# Hebrew acronyms take a double quote or gershayim before their last letter (ארה"ב, נאט״ו).
CUE_GAP = re.compile(r"[\s\-.'’\"״׳]{0,3}")
SENTENCE_END = re.compile(r"[.!?؟\n]")


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


class Cue(NamedTuple):
    """A cue word or phrase, in normalized offsets (a tuple: documents have thousands)."""

    concept: str
    start: int
    end: int


def words(text: str) -> Words:
    texts = _WORD.findall(text)
    starts = [m.start() for m in _WORD.finditer(text)]
    return Words(starts, list(map(add, starts, map(len, texts))), texts)


def adjacent(text: str, tokens: Words, left: int, gap: re.Pattern[str]) -> bool:
    """Whether only ``gap`` stands between word ``left`` and the word after it."""
    return gap.fullmatch(text, tokens.ends[left], tokens.starts[left + 1]) is not None
