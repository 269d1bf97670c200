"""Tense from a word's ending: whether a withdrawal word is in a past or perfect form.

The endings are data (``data/tense.yaml``), per language, for languages whose verbs mark
the past with a suffix; the check runs on a withdrawal cue's last word, which is already
known to be a withdrawal verb or noun, so an ending only needs to be distinctive among
those words.
"""

from __future__ import annotations

import re
from functools import cache

from processor.data import read
from processor.normalize import normalize_text

_LAST_WORD = re.compile(r"\w+$")
MIN_STEM = 3  # letters that must stand before an ending


@cache
def _endings() -> tuple[str, ...]:
    data = read("tense.yaml")
    endings = {normalize_text(str(e)) for by_language in data["past"].values() for e in by_language}
    return tuple(sorted(endings - {""}, key=len, reverse=True))


def past(cue_text: str) -> bool:
    """Whether the last word of a (normalized) cue has a past or perfect ending."""
    match = _LAST_WORD.search(cue_text)
    if match is None:
        return False
    return match.group()[MIN_STEM:].endswith(_endings())  # each ending after a whole stem
