"""Turn written base forms of names and cue words into regular expressions.

The patterns run on normalized text (processor.normalize). What may surround a
base form in each script (clitics, case endings, optional joiners) is data in
``data/morphology.yaml``; this module only assembles it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from processor.normalize import normalize_text

_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]")
_CYRILLIC = re.compile(r"[\u0400-\u052F]")
_SEPARATOR = re.compile(r"[\s\-]+")
WORD_START = r"(?<!\w)"
WORD_END = r"(?!\w)"


def script_of(text: str) -> str:
    if _ARABIC.search(text):
        return "arabic"
    if _CYRILLIC.search(text):
        return "cyrillic"
    return "latin"


def _alternation(options: list[str]) -> str:
    normalized = sorted({normalize_text(o) for o in options}, key=len, reverse=True)
    return "(?:" + "|".join(re.escape(o) for o in normalized) + ")"


@dataclass(frozen=True, slots=True)
class Morphology:
    arabic_prefixes: str
    arabic_article: str
    arabic_suffixes: str
    cyrillic_strip: str
    cyrillic_suffixes: str
    latin_suffixes: str

    def name(self, surface: str) -> str:
        """A pattern for a place name: clitics, endings, optional hyphens, spaces and joiners."""
        words = [w for w in _SEPARATOR.split(normalize_text(surface)) if w]
        script = script_of(surface)
        if script == "arabic":
            first = words[0]
            article = self.arabic_article
            if first.startswith(article) and len(first) > len(article) + 1:
                words[0] = first[len(article) :]
            body = r"[\s\-]?".join(re.escape(w) for w in words)
            return f"{WORD_START}{self.arabic_prefixes}{body}{self.arabic_suffixes}{WORD_END}"
        if script == "cyrillic":
            last, ending = words[-1], ""
            if len(last) > 3 and last[-1] in self.cyrillic_strip:
                words[-1], ending = last[:-1], last[-1]
            body = r"[\s\-]?".join(re.escape(w) for w in words)
            return f"{WORD_START}{body}(?:{re.escape(ending)}|{self.cyrillic_suffixes}){WORD_END}"
        body = r"[\s\-]?".join(re.escape(w) for w in words)
        return f"{WORD_START}{body}{self.latin_suffixes}{WORD_END}"

    def cue(self, surface: str) -> str:
        """A pattern for a cue word or phrase; a trailing ``*`` on a word means any ending."""
        parts = []
        for word in surface.split():
            stem = word.endswith("*")
            text = normalize_text(word.rstrip("*"))
            parts.append(re.escape(text) + (r"\w*" if stem else ""))
        body = r"\s+".join(parts)
        prefixes = self.arabic_prefixes if script_of(surface) == "arabic" else ""
        return f"{WORD_START}{prefixes}{body}{WORD_END}"


@cache
def morphology() -> Morphology:
    data: dict[str, Any] = yaml.safe_load(
        resources.files("processor.data").joinpath("morphology.yaml").read_text("utf-8")
    )
    arabic, cyrillic, latin = data["arabic"], data["cyrillic"], data["latin"]
    return Morphology(
        arabic_prefixes=_alternation(arabic["prefixes"]),
        arabic_article=normalize_text(arabic["article"]),
        arabic_suffixes=_alternation(arabic["name_suffixes"]),
        cyrillic_strip=normalize_text(cyrillic["strip_final"]),
        cyrillic_suffixes=_alternation(cyrillic["name_suffixes"]),
        latin_suffixes=_alternation(latin["name_suffixes"]),
    )
