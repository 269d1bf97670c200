"""The language data files: every word a word, however YAML 1.1 would read it."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest

from processor.data import loads


def _files() -> list[str]:
    root = resources.files("processor.data")
    names = [e.name for e in root.iterdir() if e.name.endswith(".yaml")]
    names += [f"cues/{e.name}" for e in root.joinpath("cues").iterdir() if e.name.endswith(".yaml")]
    return sorted(names)


def _non_words(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [bad for item in value.values() for bad in _non_words(item)]
    if isinstance(value, list):
        found = [v for v in value if isinstance(v, bool) or v is None]
        return found + [bad for item in value for bad in _non_words(item)]
    return []


def test_no_on_and_yes_are_words() -> None:
    assert loads("negation: [no, nunca]\nprepositions: [on, in]\nsettles: true") == {
        "negation": ["no", "nunca"],
        "prepositions": ["on", "in"],
        "settles": True,
    }


@pytest.mark.parametrize("name", _files())
def test_every_listed_word_is_a_word(name: str) -> None:
    text = resources.files("processor.data").joinpath(name).read_text("utf-8")
    assert _non_words(loads(text)) == []
