"""Sentence boundaries: line breaks and sentence-final punctuation, not abbreviations."""

from __future__ import annotations

import re

_END = re.compile(r"[.!?؟۔…]+[\"'»”’)\]]*(?=\s)|\n+")
# "U.S. forces", "Mr. Smith", "p.m. on": the word before the period is an abbreviation;
# so are Spanish plurals, each letter doubled ("EE.UU.", "EE. UU.", "FF.AA.").
_ABBREVIATION = re.compile(
    r"(?:^|[\s(])(?:(?:[^\W\d]{1,2}\.)+[^\W\d]{1,2}|[^\W\d]|([^\W\d])\1"
    r"|mr|mrs|ms|dr|st|gen|col|lt|sgt|capt|maj|jr|sr|no|vs|etc)$",
    re.IGNORECASE,
)


LOOKBEHIND = 12  # characters before a period that can hold an abbreviation ("U.S", "Capt")


def sentences(text: str) -> list[tuple[int, int]]:
    """Half-open spans of the sentences in ``text``, trimmed of surrounding space."""
    spans = []
    start = 0
    for match in _END.finditer(text):
        before = text[max(start, match.start() - LOOKBEHIND) : match.start()]
        if match.group()[0] == "." and _ABBREVIATION.search(before):
            continue
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(text)))
    trimmed = []
    for begin, end in spans:
        chunk = text[begin:end]
        stripped = chunk.strip()
        if stripped:
            lead = len(chunk) - len(chunk.lstrip())
            trimmed.append((begin + lead, begin + lead + len(stripped)))
    return trimmed
