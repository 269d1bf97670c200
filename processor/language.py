"""Language identification per paragraph, guarded by script evidence.

langdetect (seeded, so results repeat) proposes languages; the paragraph's
script limits which it may choose, and letters unique to one language settle
close pairs (Arabic/Persian/Sorani, Russian/Ukrainian). The document's main
language is the one holding the largest share of its letters.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml
from langdetect import DetectorFactory, LangDetectException, detect_langs

DetectorFactory.seed = 0

_PARAGRAPH = re.compile(r"[^\n]*\S[^\n]*")


@dataclass(frozen=True, slots=True)
class Paragraph:
    start: int
    end: int
    language: str | None
    letters: int


@dataclass(frozen=True, slots=True)
class LanguageReport:
    language: str | None
    languages: tuple[str, ...]
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True, slots=True)
class _Script:
    name: str
    ranges: tuple[tuple[int, int], ...]
    languages: frozenset[str]
    default: str


@dataclass(frozen=True, slots=True)
class _Rules:
    scripts: tuple[_Script, ...]
    markers: tuple[tuple[str, str, frozenset[str], float], ...]
    requires: dict[str, frozenset[str]]
    min_letters: int
    min_share: float


@cache
def _rules() -> _Rules:
    data: dict[str, Any] = yaml.safe_load(
        resources.files("processor.data").joinpath("languages.yaml").read_text("utf-8")
    )
    scripts = tuple(
        _Script(
            name,
            tuple((int(lo), int(hi)) for lo, hi in spec["ranges"]),
            frozenset(spec["languages"]),
            spec["default"],
        )
        for name, spec in data["scripts"].items()
    )
    markers = tuple(
        (m["language"], m["script"], frozenset(m["letters"]), float(m["share"]))
        for m in data["markers"]
    )
    requires = {lang: frozenset(letters) for lang, letters in data["requires"].items()}
    return _Rules(scripts, markers, requires, int(data["min_letters"]), float(data["min_share"]))


def _script_of(char: str, scripts: tuple[_Script, ...]) -> str | None:
    code = ord(char)
    for script in scripts:
        if any(lo <= code <= hi for lo, hi in script.ranges):
            return script.name
    return None


def identify(text: str) -> str | None:
    """The language of one stretch of text, or None when it has too few letters."""
    rules = _rules()
    letters = [c for c in text if c.isalpha()]
    by_script = Counter(_script_of(c, rules.scripts) for c in letters)
    by_script.pop(None, None)
    if not by_script:
        return None
    script_name, script_letters = by_script.most_common(1)[0]
    script = next(s for s in rules.scripts if s.name == script_name)
    for language, marker_script, marker_letters, share in rules.markers:
        if marker_script == script_name:
            hits = sum(1 for c in letters if c in marker_letters)
            if hits and hits / script_letters >= share:
                return language
    try:
        candidates = detect_langs(text)
    except LangDetectException:
        return script.default
    present = set(letters)
    for candidate in candidates:
        lang = str(candidate.lang)
        if script.languages and lang not in script.languages:
            continue
        if lang in rules.requires and not rules.requires[lang] & present:
            continue
        return lang
    return script.default


def _letter_count(text: str) -> int:
    return sum(1 for c in text if c.isalpha())


def detect(text: str) -> LanguageReport:
    """Languages of ``text``: per paragraph, all those with a real share, and the main one."""
    rules = _rules()
    paragraphs = []
    for match in _PARAGRAPH.finditer(text):
        letters = _letter_count(match.group())
        language = identify(match.group()) if letters >= rules.min_letters else None
        paragraphs.append(Paragraph(match.start(), match.end(), language, letters))
    shares: Counter[str] = Counter()
    for paragraph in paragraphs:
        if paragraph.language:
            shares[paragraph.language] += paragraph.letters
    if not shares:
        whole = identify(text) if _letter_count(text) else None
        return LanguageReport(whole, (whole,) if whole else (), tuple(paragraphs))
    total = sum(shares.values())
    ranked = [lang for lang, n in shares.most_common() if n / total >= rules.min_share]
    return LanguageReport(ranked[0], tuple(ranked), tuple(paragraphs))
