"""Which webhook subscriptions an alert event goes to: pure matching of filters.

A subscription filters by place, country (of the place, from the gazetteer),
event kind, language (any of the alert's languages), minimum confidence and
minimum status. An empty filter lets everything through.

Statuses rank ``disputed < reported < corroborated < confirmed``: a disputed
alert counts as below ``reported``. With a ``min_status`` a subscription gets
the events of alerts at or above it — and also the event that takes an alert it
was being sent *below* it (``corroborated → disputed``, say), so a subscriber
learns that an alert it holds was disputed. Without ``min_status`` it gets
every event, disputes included.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

STATUS_RANK = {"disputed": 0, "reported": 1, "corroborated": 2, "confirmed": 3}
MIN_STATUSES = ("reported", "corroborated", "confirmed")


@dataclass(frozen=True, slots=True)
class Filter:
    """What a subscription wants; an empty set is "any"."""

    places: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    min_confidence: float = 0.0
    min_status: str | None = None

    @classmethod
    def of(
        cls,
        places: Iterable[str] = (),
        countries: Iterable[str] = (),
        kinds: Iterable[str] = (),
        languages: Iterable[str] = (),
        min_confidence: float = 0.0,
        min_status: str | None = None,
    ) -> Filter:
        return cls(
            frozenset(places),
            frozenset(countries),
            frozenset(kinds),
            frozenset(languages),
            min_confidence,
            min_status,
        )


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What filters look at in one alert event."""

    place: str
    country: str | None
    kind: str
    languages: frozenset[str]
    confidence: float
    status: str
    previous_status: str | None = None  # the status before this event, if it changed it

    @classmethod
    def of_event(
        cls, alert: Mapping[str, Any], changes: Mapping[str, Any], country: str | None
    ) -> AlertFacts:
        """From an ``alert_events`` row's ``alert`` snapshot and ``changes``."""
        status_change = changes.get("status")
        previous = status_change[0] if isinstance(status_change, list | tuple) else None
        return cls(
            place=str(alert["place"]),
            country=country,
            kind=str(alert["kind"]),
            languages=frozenset(alert.get("languages") or ()),
            confidence=float(alert["confidence"]),
            status=str(alert["status"]),
            previous_status=previous,
        )


def _rank(status: str | None) -> int:
    return STATUS_RANK.get(status or "", -1)


def status_passes(min_status: str | None, status: str, previous: str | None) -> bool:
    """At or above ``min_status``, or just fallen from at or above it."""
    if min_status is None:
        return True
    floor = _rank(min_status)
    return _rank(status) >= floor or (previous is not None and _rank(previous) >= floor)


def matches(wanted: Filter, facts: AlertFacts) -> bool:
    """Whether a subscription with filter ``wanted`` gets this alert event."""
    if wanted.places and facts.place not in wanted.places:
        return False
    if wanted.countries and facts.country not in wanted.countries:
        return False
    if wanted.kinds and facts.kind not in wanted.kinds:
        return False
    if wanted.languages and not wanted.languages & facts.languages:
        return False
    if facts.confidence < wanted.min_confidence:
        return False
    return status_passes(wanted.min_status, facts.status, facts.previous_status)
