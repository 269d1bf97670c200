"""The gazetteer: places Drawdown watches, loaded from ``data/gazetteer.yaml``.

Each place's names in every language compile into one pattern over normalized
text; adding a base or a spelling is a data change.
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

PLACE_KINDS = frozenset({"base", "airfield", "oil_field", "gas_field", "city", "country"})


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
class Gazetteer:
    places: tuple[Place, ...]
    patterns: tuple[tuple[str, re.Pattern[str]], ...]

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


def build(entries: list[dict[str, Any]]) -> Gazetteer:
    places = tuple(_place(e) for e in entries)
    morph = morphology()
    patterns = []
    for place in places:
        forms = sorted({n for _, ns in place.names for n in ns}, key=len, reverse=True)
        pattern = "|".join(morph.name(form) for form in forms)
        patterns.append((place.id, re.compile(pattern)))
    return Gazetteer(places, tuple(patterns))


@cache
def gazetteer() -> Gazetteer:
    text = resources.files("processor.data").joinpath("gazetteer.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return build(data["places"])
