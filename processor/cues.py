"""The cue lexicon: words that signal withdrawal, planning, denial, actors … per language.

Loaded once from ``data/cues/<language>.yaml`` and compiled into one pattern per concept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from processor.data import loads, read
from processor.morphology import CACHE_LIMIT, morphology
from processor.normalize import normalize_text
from services.errors import ConfigError

CONCEPTS = (
    "withdrawal",
    "planned",
    "timeline",
    "announced",
    "negation",
    "negotiation",
    "presence",
    "transfer",
    "leaving",
    "redeployment",
    "reinforcement",
    "attack",
    "remain",
    "actor_us",
    "actor_other",
    "source",
    "destination",
    "base_noun",
    "decided",
    "demand",
    "infinitive",
    "begun",
    "denial",
    "claim",
    "background",
    "contrast",
    "anaphor",
)


@dataclass(frozen=True, slots=True)
class CueWord:
    text: str
    stem: bool  # any ending allowed
    after_gap: bool = False  # other words may stand before it ("zieh* ... ab")

    def matches(self, token: str) -> bool:
        return token == self.text or (self.stem and token.startswith(self.text))

    def follows(self, token: str) -> bool:
        """Whether it may be the word after one that is ``token`` (any word after a gap)."""
        return self.after_gap or self.matches(token)


@dataclass(frozen=True, slots=True)
class CueWords:
    """One cue: its concept and its words."""

    concept: str
    words: tuple[CueWord, ...]
    # The languages whose cue files list it: a cue counts only in text of those languages
    # (French "devr*" is not Turkish "devret-"), or in text of a language without a file.
    languages: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Beginning:
    """The cues a text word may begin, split by what must follow it: nothing (one word),
    a given word (by that word), or a stem or any word after a gap (tried one by one)."""

    single: tuple[CueWords, ...]
    by_second: dict[str, tuple[CueWords, ...]]
    other: tuple[CueWords, ...]

    @classmethod
    def of(cls, cues: Sequence[CueWords]) -> Beginning:
        single: list[CueWords] = []
        by_second: dict[str, list[CueWords]] = {}
        other: list[CueWords] = []
        for cue in cues:
            if len(cue.words) == 1:
                single.append(cue)
            elif cue.words[1].stem or cue.words[1].after_gap:
                other.append(cue)
            else:
                by_second.setdefault(cue.words[1].text, []).append(cue)
        return cls(
            tuple(single), {text: tuple(found) for text, found in by_second.items()}, tuple(other)
        )

    def following(self, word: str) -> tuple[CueWords, ...]:
        """The cues of several words whose second word may be ``word``."""
        given = self.by_second.get(word, ())
        if not self.other:
            return given
        return (*given, *(c for c in self.other if c.words[1].follows(word)))


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Cues indexed by their first word: whole words, and stems that take any ending."""

    whole: dict[str, tuple[CueWords, ...]]
    stems: dict[str, tuple[CueWords, ...]]
    stem_lengths: tuple[int, ...]
    exact: tuple[tuple[str, re.Pattern[str]], ...]
    languages: frozenset[str]
    # The languages whose cues count in text of a language (itself and its cue group).
    groups: dict[str, frozenset[str]] = field(default_factory=dict)
    _starting: dict[tuple[str, frozenset[str] | None], tuple[CueWords, ...]] = field(
        default_factory=dict, compare=False
    )
    _beginning: dict[tuple[str, frozenset[str] | None], Beginning | None] = field(
        default_factory=dict, compare=False
    )

    def speaks(self, language: str) -> frozenset[str]:
        """The languages whose cues count in text of ``language``."""
        return self.groups.get(language, frozenset({language}))

    def starting(self, form: str, spoken: frozenset[str] | None = None) -> tuple[CueWords, ...]:
        """The cues whose first word is ``form``, or a stem ``form`` starts with; with
        ``spoken``, only those of these languages (and cues of no language)."""
        key = (form, spoken)
        found = self._starting.get(key)
        if found is None:
            if len(self._starting) > CACHE_LIMIT:
                self._starting.clear()
            matches = list(self.whole.get(form, ()))
            for length in self.stem_lengths:
                if length > len(form):
                    break
                matches += self.stems.get(form[:length], ())
            if spoken:
                matches = [
                    c for c in matches if not c.languages or not spoken.isdisjoint(c.languages)
                ]
            found = self._starting[key] = tuple(matches)
        return found

    def beginning(self, word: str, spoken: frozenset[str] | None = None) -> Beginning | None:
        """The cues a text word may begin (None: none): ``starting`` for the word and, in
        Arabic and Hebrew script, for the word without each clitic it may carry (cached)."""
        key = (word, spoken)
        if key in self._beginning:
            return self._beginning[key]
        if len(self._beginning) > CACHE_LIMIT:
            self._beginning.clear()
        cues = tuple(
            cue
            for form in morphology().without_clitics(word)
            for cue in self.starting(form, spoken)
        )
        found = self._beginning[key] = Beginning.of(cues) if cues else None
        return found


_CUE_WORD = re.compile(r"\w+\*?")


_GAP = frozenset({"...", "…"})


def _cue(concept: str, written: str) -> CueWords | None:
    words: list[CueWord] = []
    gap = False
    for piece in normalize_text(written).split():
        if piece in _GAP:
            gap = bool(words)
            continue
        for token in _CUE_WORD.findall(piece):
            words.append(CueWord(token.rstrip("*"), token.endswith("*"), gap))
            gap = False
    return CueWords(concept, tuple(words)) if words else None


def _exact(words: list[str]) -> re.Pattern[str]:
    ordered = sorted({str(w) for w in words}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in ordered) + r")(?!\w)")


def build(
    cues: dict[str, dict[str, list[str]]],
    exact: dict[str, list[str]] | None = None,
    groups: list[list[str]] | None = None,
) -> Lexicon:
    if unknown := [c for c in cues if c not in CONCEPTS]:
        raise ConfigError(f"cue lexicon: unknown concepts {unknown}")
    spoken: dict[CueWords, set[str]] = {}
    for concept, by_language in cues.items():
        for language, words in by_language.items():
            for written in words:
                cue = _cue(concept, str(written))
                if cue is not None:
                    spoken.setdefault(cue, set()).add(language)
    whole: dict[str, list[CueWords]] = {}
    stems: dict[str, list[CueWords]] = {}
    for cue, listed_in in spoken.items():
        first = cue.words[0]
        (stems if first.stem else whole).setdefault(first.text, []).append(
            CueWords(cue.concept, cue.words, frozenset(listed_in))
        )
    exact = exact or {}
    if unknown := [c for c in exact if c not in CONCEPTS]:
        raise ConfigError(f"cue lexicon: unknown concepts {unknown} in exact")
    languages = frozenset(lang for by_lang in cues.values() for lang in by_lang)
    return Lexicon(
        whole={k: tuple(dict.fromkeys(v)) for k, v in whole.items()},
        stems={k: tuple(dict.fromkeys(v)) for k, v in stems.items()},
        stem_lengths=tuple(sorted({len(k) for k in stems})),
        exact=tuple((c, _exact(ws)) for c, ws in exact.items()),
        languages=languages,
        groups={language: frozenset(group) for group in groups or [] for language in group},
    )


def load(files: dict[str, dict[str, Any]], groups: list[list[str]] | None = None) -> Lexicon:
    """Assemble per-language cue files (language → concept → words) into a lexicon."""
    cues: dict[str, dict[str, list[str]]] = {concept: {} for concept in CONCEPTS}
    exact: dict[str, list[str]] = {}
    for language, concepts in files.items():
        for concept, words in concepts.items():
            if concept == "exact":
                for exact_concept, exact_words in words.items():
                    exact.setdefault(exact_concept, []).extend(exact_words)
            elif concept not in cues:
                raise ConfigError(f"cues/{language}.yaml: unknown concept {concept!r}")
            else:
                cues[concept][language] = [str(w) for w in words]
    return build(cues, exact, groups)


@cache
def lexicon() -> Lexicon:
    folder = resources.files("processor.data.cues")
    files = {
        entry.name.removesuffix(".yaml"): loads(entry.read_text("utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    }
    return load(files, read("languages.yaml").get("cue_groups"))
