"""The cue lexicon: words that signal withdrawal, planning, denial, actors … per language.

Loaded once from ``data/cues.yaml`` and compiled into one pattern per concept.
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
    missing = [c for c in CONCEPTS if c not in cues]
    unknown = [c for c in cues if c not in CONCEPTS]
    if missing or unknown:
        raise ConfigError(f"cue lexicon: missing concepts {missing}, unknown concepts {unknown}")
    morph = morphology()
    patterns = []
    for concept in CONCEPTS:
        words = sorted({str(w) for ws in cues[concept].values() for w in ws}, key=len, reverse=True)
        patterns.append((concept, re.compile("|".join(morph.cue(w) for w in words))))
    exact = exact or {}
    if unknown := [c for c in exact if c not in CONCEPTS]:
        raise ConfigError(f"cue lexicon: unknown concepts {unknown} in exact")
    languages = frozenset(lang for by_lang in cues.values() for lang in by_lang)
    return Lexicon(tuple(patterns), tuple((c, _exact(ws)) for c, ws in exact.items()), languages)


@cache
def lexicon() -> Lexicon:
    text = resources.files("processor.data").joinpath("cues.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return build(data["cues"], data.get("exact"))
