"""Alerts of a batch in memory: open, corroborate, dispute, and note every change.

A ``Book`` holds the alerts a batch can touch (read by processor/alertrows.py) and
changes them in the batch's order, making exactly the changes and alert events that
storing the documents one at a time would; alertrows.py writes them back. Each
change of an alert becomes an ``alert_events`` row (``alert.created`` /
``alert.updated`` with what changed and the alert as it then stood).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table

from processor import alerts as rules
from processor.events import Event
from processor.evidence import evidence_link
from services.models import Alert, AlertArticle, AlertEvent

EVIDENCE_IN_SNAPSHOT = 5
ALERTS = cast(Table, Alert.__table__)
ALERT_ARTICLES = cast(Table, AlertArticle.__table__)
ALERT_EVENTS = cast(Table, AlertEvent.__table__)
COLUMNS = ALERTS.c


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    kinds: frozenset[str]
    min_confidence: float
    window: timedelta


@dataclass(frozen=True, slots=True)
class AlertChange:
    alert_id: uuid.UUID
    place: str
    kind: str
    status: str
    new: bool


@dataclass(frozen=True, slots=True)
class Report:
    """One article's voice in a story: who said it, in what language, when, and how."""

    article_id: uuid.UUID
    outlet: str
    language: str | None
    observed_at: datetime
    url: str | None = None
    title: str = ""


@dataclass(slots=True)
class AlertState:
    """An alert row as the batch changes it."""

    id: uuid.UUID
    place: str
    kind: str
    status: str
    confidence: float
    first_article_id: uuid.UUID
    article_count: int
    sighting_count: int
    languages: list[str]
    outlets: list[str]
    opened_at: datetime
    updated_at: datetime
    first_seen_at: datetime
    last_seen_at: datetime
    denied_by: list[str] = field(default_factory=list)  # outlets that denied it
    answered_by: list[str] = field(default_factory=list)  # other outlets reporting it since
    disputed_at: datetime | None = None  # when the first denial was observed
    new: bool = False
    changed: bool = False
    evidence: list[dict[str, Any]] = field(default_factory=list)  # added by the batch, in order

    def state(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "confidence": self.confidence,
            "article_count": self.article_count,
            "sighting_count": self.sighting_count,
            "outlets": list(self.outlets),
            "languages": list(self.languages),
            "denied_by": list(self.denied_by),
        }

    def row(self) -> dict[str, Any]:
        return {c.key: getattr(self, c.key) for c in COLUMNS}

    def snapshot(self) -> dict[str, Any]:
        """The alert as subscribers see it, but for its evidence (filled in by ``write``)."""
        return {
            "id": str(self.id),
            "place": self.place,
            "kind": self.kind,
            **self.state(),
            "opened_at": self.opened_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "first_seen_at": self.first_seen_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class _Change:
    """One alert event to write: the alert after the change, and how much evidence it had."""

    alert: AlertState
    type: str
    changes: dict[str, Any]
    snapshot: dict[str, Any]
    evidence_count: int
    at: datetime


def _status(alert: AlertState) -> str:
    return rules.status(
        len(alert.outlets),
        len(alert.languages),
        disputed=alert.disputed_at is not None,
        denials=len(alert.denied_by),
        answers=len(alert.answered_by),
    )


def _answer(alert: AlertState, outlet: str, observed_at: datetime) -> None:
    """A report of the claim after the first denial, from an outlet that did not deny it,
    answers the denials."""
    if (
        alert.disputed_at is not None
        and observed_at > alert.disputed_at
        and outlet not in alert.denied_by
    ):
        alert.answered_by = sorted({*alert.answered_by, outlet})


class Book:
    """The batch's alerts in memory, changed one document at a time."""

    def __init__(self, alerts: Iterable[AlertState], links: Iterable[tuple[uuid.UUID, uuid.UUID]]):
        self._alerts = {a.id: a for a in alerts}
        self._of_article: defaultdict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for alert_id, article_id in links:
            self._of_article[article_id].append(alert_id)
        self.changes: list[_Change] = []

    def _record(self, alert: AlertState, before: dict[str, Any] | None, at: datetime) -> None:
        """Keep the alert event for a change (nothing when nothing tracked changed)."""
        changed = rules.changes(before or {}, alert.state())
        if before is not None and not changed:
            return
        alert.changed = True
        self.changes.append(
            _Change(
                alert,
                "alert.created" if before is None else "alert.updated",
                {} if before is None else changed,
                alert.snapshot(),
                len(alert.evidence),
                at,
            )
        )

    def _open(self, place: str, kind: str, since: datetime) -> AlertState | None:
        found = [
            a
            for a in self._alerts.values()
            if a.place == place and a.kind == kind and a.last_seen_at >= since
        ]
        return max(found, key=lambda a: a.last_seen_at, default=None)

    def raise_alert(
        self, event: Event, report: Report, policy: AlertPolicy, now: datetime
    ) -> AlertChange:
        """Open an alert for the event's (place, kind), or corroborate the open one."""
        alert = self._open(
            event.place, event.kind, rules.window_start(report.observed_at, policy.window)
        )
        languages = [report.language] if report.language else []
        before = None if alert is None else alert.state()
        if alert is None:
            alert = AlertState(
                id=uuid.uuid4(),
                place=event.place,
                kind=event.kind,
                status=rules.status(1, len(languages)),
                confidence=event.confidence,
                first_article_id=report.article_id,
                article_count=1,
                sighting_count=0,
                languages=languages,
                outlets=[report.outlet],
                opened_at=now,
                updated_at=now,
                first_seen_at=report.observed_at,
                last_seen_at=report.observed_at,
                new=True,
            )
            self._alerts[alert.id] = alert
        else:
            alert.article_count += 1
            alert.languages = sorted({*alert.languages, *languages})
            alert.outlets = sorted({*alert.outlets, report.outlet})
            alert.confidence = max(alert.confidence, event.confidence)
            _answer(alert, report.outlet, report.observed_at)
            alert.status = _status(alert)
            alert.updated_at = now
            alert.first_seen_at = min(alert.first_seen_at, report.observed_at)
            alert.last_seen_at = max(alert.last_seen_at, report.observed_at)
        alert.evidence.append(
            evidence_link(alert.id, alert.status, before is None, event, report, now)
        )
        self._of_article[report.article_id].append(alert.id)
        self._record(alert, before, now)
        return AlertChange(alert.id, alert.place, alert.kind, alert.status, before is None)

    def dispute(
        self, place: str, report: Report, policy: AlertPolicy, now: datetime
    ) -> list[AlertChange]:
        """A denial for ``place`` disputes the open withdrawal alerts it contradicts; the
        same outlet denying again changes nothing."""
        since = rules.window_start(report.observed_at, policy.window)
        own = set(self._of_article.get(report.article_id, ()))
        changed = []
        for kind in sorted(rules.DISPUTABLE_KINDS):
            for alert in sorted(self._alerts.values(), key=lambda a: (a.last_seen_at, a.id)):
                if (
                    alert.place != place
                    or alert.kind != kind
                    or report.outlet in alert.denied_by
                    or alert.first_seen_at > report.observed_at
                    or alert.id in own
                    or alert.last_seen_at < since
                ):
                    continue
                before = alert.state()
                alert.denied_by = sorted({*alert.denied_by, report.outlet})
                alert.answered_by = [o for o in alert.answered_by if o != report.outlet]
                if alert.disputed_at is None or report.observed_at < alert.disputed_at:
                    alert.disputed_at = report.observed_at
                alert.status = _status(alert)
                alert.updated_at = now
                self._record(alert, before, now)
                changed.append(AlertChange(alert.id, alert.place, alert.kind, alert.status, False))
        return changed

    def corroborate(
        self, article_id: uuid.UUID, outlet: str, observed_at: datetime, now: datetime
    ) -> list[AlertChange]:
        """A copy of an alerted article from another outlet corroborates its alerts."""
        changed = []
        alerts = [self._alerts[a] for a in set(self._of_article.get(article_id, ()))]
        # One alert per (place, kind) of the article: that order is the same on every run.
        for alert in sorted(alerts, key=lambda a: (a.place, a.kind)):
            if outlet in alert.outlets:
                continue
            before = alert.state()
            alert.outlets = sorted({*alert.outlets, outlet})
            alert.sighting_count += 1
            _answer(alert, outlet, observed_at)
            alert.status = _status(alert)
            alert.updated_at = now
            self._record(alert, before, now)
            changed.append(AlertChange(alert.id, alert.place, alert.kind, alert.status, False))
        return changed
