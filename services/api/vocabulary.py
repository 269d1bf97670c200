"""The closed vocabularies of the API (so OpenAPI lists them), place-id checks, and the
bounded types that keep any input from reaching the database unchecked."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

import httpx
from fastapi import Path
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, WithJsonSchema

from processor.gazetteer import Place, gazetteer
from services.api.problems import InvalidParameter

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

# Place ids and countries come from the gazetteer's data file, so the document lists
# them as enums while the routes check them against the gazetteer (check_places).
PLACE_IDS = [p.id for p in gazetteer().places]
COUNTRIES = sorted({p.country for p in gazetteer().places})
PlaceId = Annotated[str, WithJsonSchema({"type": "string", "enum": PLACE_IDS})]
Country = Annotated[str, WithJsonSchema({"type": "string", "enum": COUNTRIES})]
# An ISO 639 code as the reader tags text ("ar", "fa", "ckb"; "und": undetermined).
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]


def _iso_8601(value: object) -> object:
    """Refuse what pydantic would read as seconds since 1970: the document says date-time."""
    if isinstance(value, int | float) or (
        isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()
    ):
        raise ValueError("expected an ISO 8601 date-time, e.g. 2026-03-01T00:00:00Z")
    return value


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# A time in a query: ISO 8601; without a zone it is UTC.
Instant = Annotated[datetime, BeforeValidator(_iso_8601), AfterValidator(_utc)]
# processor.routing.MIN_STATUSES, services.webhooks.commands.STATUSES and the origins of
# services.webhooks.subscriptions (tests/integration/test_api_subscriptions.py holds them equal).
MinStatus = Literal["reported", "corroborated", "confirmed"]
DeliveryStatus = Literal["pending", "delivered", "dead", "cancelled"]
Origin = Literal["file", "api"]

MAX_ROW_ID = 2**31 - 1  # integer primary keys are 32-bit on PostgreSQL
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="the row's id")]


def storable(text: str) -> str:
    """``text``, if a database can store it: no NUL character, no lone surrogate."""
    if "\x00" in text:
        raise ValueError("must not contain the NUL character")
    try:
        text.encode()
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return text


# Patterns the document states and the models enforce, so that whatever matches one is
# accepted. Text of any kind but NUL (which PostgreSQL cannot store):
NO_NUL = r"^[^\x00]*$"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TOP_LABEL = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
# http(s), an optional user, a DNS name in ASCII (an IDN as xn--…) or an IPv4 address,
# an optional port, then any path, query and fragment without spaces or controls.
HTTP_URL = (
    r"^https?://(?:[A-Za-z0-9._~!$&'()*+,;=:%-]+@)?"
    rf"(?:(?:{_LABEL}\.)*{_TOP_LABEL}|(?:{_OCTET}\.){{3}}{_OCTET})"
    rf"(?::{_PORT})?(?:[/?#][^\s\x00-\x1f\x7f]*)?$"
)


def check_http_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host (and a valid port), else ValueError."""
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        valid = False
    if not valid:
        raise ValueError(f"url {url[:200]!r} is not an http(s) URL with a host")
    return storable(url)


Storable = AfterValidator(storable)
HttpUrl = Annotated[
    str,
    Field(max_length=2048, pattern=HTTP_URL, description="http or https, with a host"),
    AfterValidator(check_http_url),
]
Name = Annotated[str, Field(min_length=1, max_length=256, pattern=NO_NUL), Storable]


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
            raise InvalidParameter(
                ("query", "place"), f"unknown place {place_id!r}; GET /places lists them"
            )
    return checked


def check_countries(countries: Iterable[str]) -> tuple[str, ...]:
    known = {p.country for p in gazetteer().places}
    checked = tuple(countries)
    for country in checked:
        if country not in known:
            raise InvalidParameter(
                ("query", "country"),
                f"unknown country {country!r}; known: {', '.join(sorted(known))}",
            )
    return checked
