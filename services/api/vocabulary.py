"""The closed vocabularies of the API (so OpenAPI lists them) and place-id checks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from fastapi import HTTPException

from processor.gazetteer import Place, gazetteer

# The same values as processor.events.EVENT_KINDS and processor.alerts.STATUSES
# (tests/unit/test_api_pure.py holds them equal).
EventKind = Literal[
    "withdrawal",
    "withdrawal_planned",
    "negotiation",
    "denial",
    "redeployment",
    "reinforcement",
    "attack",
    "other",
]
AlertStatus = Literal["reported", "corroborated", "confirmed", "disputed"]
AlertEventType = Literal["alert.created", "alert.updated"]
SourceKind = Literal["feed", "page"]
SourceHealth = Literal["ok", "erroring", "parked", "disabled"]


def place(place_id: str) -> Place | None:
    return next((p for p in gazetteer().places if p.id == place_id), None)


def country_of(place_id: str) -> str | None:
    found = place(place_id)
    return found.country if found else None


def places_in(countries: Iterable[str]) -> list[str]:
    """Every place id in ``countries`` (the country places themselves included)."""
    wanted = set(countries)
    return [p.id for p in gazetteer().places if p.country in wanted]


def check_places(place_ids: Iterable[str]) -> tuple[str, ...]:
    """``place_ids`` as given, or 422 naming the first one the gazetteer does not know."""
    known = {p.id for p in gazetteer().places}
    checked = tuple(place_ids)
    for place_id in checked:
        if place_id not in known:
            raise HTTPException(422, f"unknown place {place_id!r}; GET /places lists them")
    return checked


def check_countries(countries: Iterable[str]) -> tuple[str, ...]:
    known = {p.country for p in gazetteer().places}
    checked = tuple(countries)
    for country in checked:
        if country not in known:
            raise HTTPException(
                422, f"unknown country {country!r}; known: {', '.join(sorted(known))}"
            )
    return checked
