"""The dashboard map: an equirectangular projection of the region into SVG coordinates.

Pure. Country outlines come from ``static/region.geojson`` (hand-simplified,
low resolution: for orientation, not for borders); places are projected from
their gazetteer coordinates.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

STATIC_DIR = Path(__file__).resolve().parent / "static"
REGION_FILE = STATIC_DIR / "region.geojson"


@dataclass(frozen=True, slots=True)
class Frame:
    """The region shown: longitudes ``west``–``east``, latitudes ``south``–``north``,
    ``scale`` pixels per degree of latitude; a degree of longitude is ``scale`` times the
    cosine of the standard parallel, so shapes near it keep their proportions."""

    west: float = 34.0
    east: float = 50.0
    south: float = 28.0
    north: float = 38.0
    scale: float = 60.0
    standard_parallel: float = 33.0

    @property
    def x_scale(self) -> float:
        return self.scale * math.cos(math.radians(self.standard_parallel))

    @property
    def width(self) -> float:
        return round((self.east - self.west) * self.x_scale, 1)

    @property
    def height(self) -> float:
        return round((self.north - self.south) * self.scale, 1)

    def project(self, lon: float, lat: float) -> tuple[float, float]:
        return (
            round((lon - self.west) * self.x_scale, 1),
            round((self.north - lat) * self.scale, 1),
        )


REGION = Frame()


@dataclass(frozen=True, slots=True)
class Outline:
    name: str
    d: str  # an SVG path
    focus: bool  # one of the countries Drawdown watches
    label: tuple[float, float] | None  # where to write the name, if anywhere


def ring_path(ring: Sequence[Sequence[float]], frame: Frame) -> str:
    points = [frame.project(lon, lat) for lon, lat, *_ in ring]
    return "M" + "L".join(f"{x:g} {y:g}" for x, y in points) + "Z"


def _polygons(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["coordinates"])
    raise ValueError(f"unsupported geometry {geometry['type']}")


def outlines(document: dict[str, Any], frame: Frame = REGION) -> list[Outline]:
    """One SVG path per feature of a GeoJSON FeatureCollection of (multi)polygons."""
    found = []
    for feature in document["features"]:
        properties = feature.get("properties") or {}
        rings = [ring for polygon in _polygons(feature["geometry"]) for ring in polygon]
        label = properties.get("label")
        found.append(
            Outline(
                name=str(properties.get("name", "")),
                d="".join(ring_path(ring, frame) for ring in rings),
                focus=bool(properties.get("focus", False)),
                label=frame.project(*label) if label else None,
            )
        )
    return found


@cache
def region_outlines() -> tuple[Outline, ...]:
    return tuple(outlines(json.loads(REGION_FILE.read_text("utf-8"))))
