"""Alert rules: which events raise alerts, and how sure an alert is. Pure functions."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from processor.events import Event

STATUSES = ("reported", "corroborated", "confirmed", "disputed")


def alertable(event: Event, kinds: Collection[str], min_confidence: float) -> bool:
    return event.kind in kinds and event.confidence >= min_confidence


def status(article_count: int, language_count: int) -> str:
    """reported: one article; corroborated: two or more; confirmed: 3+ in 2+ languages."""
    if article_count >= 3 and language_count >= 2:
        return "confirmed"
    if article_count >= 2:
        return "corroborated"
    return "reported"


def window_start(observed_at: datetime, window: timedelta) -> datetime:
    """An alert still open for an article observed at ``observed_at`` was last seen after this."""
    return observed_at - window
