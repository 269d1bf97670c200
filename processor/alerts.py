"""Alert rules: which events raise alerts, how corroborated an alert is, what changed.

Pure functions. An alert is one (place, kind) story within a time window.
Status grows with independent corroboration:

    reported      one outlet in one language
    corroborated  two or more independent outlets, or two or more languages
    confirmed     three or more outlets in two or more languages
    disputed      a later denial for the same place, not yet answered

A status follows the weight of evidence on each side, so that one more report
of the same claim or the same denial changes nothing: an alert is disputed from
the first denial; it is answered once as many other outlets as have denied it,
and at least two, have reported the claim since that first denial, and then
shows its corroboration again. It is disputed again only when more outlets
have denied it than have answered; a repeated denial or claim moves nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from processor.events import Event

STATUSES = ("reported", "corroborated", "confirmed", "disputed")
DISPUTABLE_KINDS = frozenset({"withdrawal", "withdrawal_planned"})
DISPUTING_KIND = "denial"
# What an alert.updated event reports as changed, and what a snapshot carries.
TRACKED = (
    "status",
    "confidence",
    "article_count",
    "sighting_count",
    "outlets",
    "languages",
    "denied_by",
)
# Outlets that must report the claim after a denial, at the least, to answer it.
MIN_ANSWERS = 2


def alertable(event: Event, kinds: Collection[str], min_confidence: float) -> bool:
    return event.kind in kinds and event.confidence >= min_confidence


def answered(denials: int, answers: int) -> bool:
    """Whether ``answers`` outlets reporting the claim since the first denial outweigh
    the ``denials`` outlets that denied it."""
    return answers >= max(MIN_ANSWERS, denials)


def status(
    outlets: int, languages: int, *, disputed: bool = False, denials: int = 0, answers: int = 0
) -> str:
    """The status of an alert reported by ``outlets`` in ``languages``; ``disputed`` once
    it has been denied, by ``denials`` outlets, and answered since by ``answers``."""
    if disputed and not answered(denials, answers):
        return "disputed"
    if outlets >= 3 and languages >= 2:
        return "confirmed"
    if outlets >= 2 or languages >= 2:
        return "corroborated"
    return "reported"


def outlet(source: str, url: str | None) -> str:
    """Who published it: the source's name, else the URL's host; one outlet, one voice."""
    if source:
        return source
    host = urlsplit(url).hostname if url else None
    return (host or "unknown").removeprefix("www.")


def window_start(observed_at: datetime, window: timedelta) -> datetime:
    """An alert still open for an article observed at ``observed_at`` was last seen after this."""
    return observed_at - window


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Tracked fields that differ, as {field: [before, after]}."""
    return {f: [before.get(f), after[f]] for f in TRACKED if before.get(f) != after[f]}
