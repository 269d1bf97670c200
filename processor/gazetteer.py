"""The gazetteer: places Drawdown watches, loaded from ``data/gazetteer.yaml``.

Every name variant in every language is indexed by the stem of its first word
(and, for names of several words, by the words run together, as Persian writes
عینالاسد once its joiner is gone), so finding places is a lookup per word.
Adding a base or a spelling is a data change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from processor.morphology import morphology
from processor.normalize import normalize_text
from services.errors import ConfigError

PLACE_KINDS = frozenset({"base", "airfield", "oil_field", "gas_field", "city", "country"})
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Place:
    id: str
    kind: str
    country: str
    lat: float
    lon: float
    names: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def is_country(self) -> bool:
        return self.kind == "country"


@dataclass(frozen=True, slots=True)
class Name:
    """One written form of a place: the stems of its words, in order."""

    place: str
    stems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Gazetteer:
    places: tuple[Place, ...]
    index: dict[str, tuple[Name, ...]]
    # Names that are ordinary words too: they count only beside a base noun or in a
    # list of bases (see find_places).
    qualified: dict[str, tuple[Name, ...]]
    base_nouns: frozenset[str]
    conjunctions: frozenset[str]

    def get(self, place_id: str) -> Place:
        for place in self.places:
            if place.id == place_id:
                return place
        raise KeyError(place_id)


def _place(entry: dict[str, Any]) -> Place:
    try:
        names = tuple((lang, tuple(str(n) for n in ns)) for lang, ns in entry["names"].items())
        place = Place(
            id=str(entry["id"]),
            kind=str(entry["kind"]),
            country=str(entry["country"]),
            lat=float(entry["lat"]),
            lon=float(entry["lon"]),
            names=names,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"gazetteer entry {entry.get('id', '?')}: {exc!r}") from exc
    if place.kind not in PLACE_KINDS:
        raise ConfigError(f"gazetteer entry {place.id}: unknown kind {place.kind}")
    return place


def names_of(place: Place) -> list[Name]:
    """Every indexable form of a place's names."""
    morph = morphology()
    found = []
    for _, variants in place.names:
        for variant in variants:
            words = _WORD.findall(normalize_text(variant))
            if not words:
                continue
            found.append(Name(place.id, tuple(morph.name_stem(w) for w in words)))
            if len(words) > 1:
                found.append(Name(place.id, (morph.name_stem("".join(words)),)))
    return found


def _index(names: list[Name]) -> dict[str, tuple[Name, ...]]:
    index: dict[str, list[Name]] = {}
    for name in dict.fromkeys(names):
        index.setdefault(name.stems[0], []).append(name)
    return {key: tuple(found) for key, found in index.items()}


def _words(written: Sequence[str]) -> frozenset[str]:
    return frozenset(w for text in written for w in _WORD.findall(normalize_text(str(text))))


def build(
    entries: list[dict[str, Any]],
    base_nouns: Sequence[str] = (),
    conjunctions: Sequence[str] = (),
) -> Gazetteer:
    places = tuple(_place(e) for e in entries)
    qualified = [
        Place(p.id, p.kind, p.country, p.lat, p.lon, (("any", tuple(e.get("qualified", ()))),))
        for p, e in zip(places, entries, strict=True)
    ]
    return Gazetteer(
        places=places,
        index=_index([n for place in places for n in names_of(place)]),
        qualified=_index([n for place in qualified for n in names_of(place)]),
        base_nouns=_words(base_nouns),
        conjunctions=_words(conjunctions),
    )


@cache
def gazetteer() -> Gazetteer:
    text = resources.files("processor.data").joinpath("gazetteer.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return build(data["places"], data.get("base_nouns", []), data.get("conjunctions", []))
