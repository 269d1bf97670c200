"""The cue lexicon: words that signal withdrawal, planning, denial, actors … per language.

Loaded once from ``data/cues/<language>.yaml`` and compiled into one pattern per concept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from processor.morphology import morphology
from services.errors import ConfigError

CONCEPTS = (
    "withdrawal",
    "planned",
    "negation",
    "negotiation",
    "presence",
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
    "denial",
    "contrast",
)


@dataclass(frozen=True, slots=True)
class Lexicon:
    patterns: tuple[tuple[str, re.Pattern[str]], ...]
    exact: tuple[tuple[str, re.Pattern[str]], ...]
    languages: frozenset[str]


def _exact(words: list[str]) -> re.Pattern[str]:
    ordered = sorted({str(w) for w in words}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in ordered) + r")(?!\w)")


def build(
    cues: dict[str, dict[str, list[str]]], exact: dict[str, list[str]] | None = None
) -> Lexicon:
    if unknown := [c for c in cues if c not in CONCEPTS]:
        raise ConfigError(f"cue lexicon: unknown concepts {unknown}")
    morph = morphology()
    patterns = []
    for concept in CONCEPTS:
        by_language = cues.get(concept, {})
        words = sorted({str(w) for ws in by_language.values() for w in ws}, key=len, reverse=True)
        if not words:
            continue
        patterns.append((concept, re.compile("|".join(morph.cue(w) for w in words))))
    exact = exact or {}
    if unknown := [c for c in exact if c not in CONCEPTS]:
        raise ConfigError(f"cue lexicon: unknown concepts {unknown} in exact")
    languages = frozenset(lang for by_lang in cues.values() for lang in by_lang)
    return Lexicon(tuple(patterns), tuple((c, _exact(ws)) for c, ws in exact.items()), languages)


def load(files: dict[str, dict[str, Any]]) -> Lexicon:
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
    return build(cues, exact)


@cache
def lexicon() -> Lexicon:
    folder = resources.files("processor.data.cues")
    files = {
        entry.name.removesuffix(".yaml"): yaml.safe_load(entry.read_text("utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    }
    return load(files)
