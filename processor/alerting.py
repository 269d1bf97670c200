"""Alerts in the database: open, corroborate, dispute, and record every change.

Runs inside the processor's transaction. Each change of an alert is an
``alert_events`` row (``alert.created`` / ``alert.updated`` with what changed and
the alert as it then stood), written in that same transaction: the outbox the
alerts topic and webhooks are fed from, so no change is lost or sent twice.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from processor import alerts as rules
from processor.events import Event
from processor.fanout import fan_out
from services.models import Alert, AlertArticle, AlertEvent, Article

EVIDENCE_IN_SNAPSHOT = 5


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


async def _lock(session: AsyncSession, place: str, kind: str) -> None:
    """Serialize alert changes for one (place, kind) across workers (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(f"{place}:{kind}".encode()).digest()[:8]
        key = int.from_bytes(digest, "big", signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _state(alert: Alert) -> dict[str, Any]:
    return {
        "status": alert.status,
        "confidence": alert.confidence,
        "article_count": alert.article_count,
        "sighting_count": alert.sighting_count,
        "outlets": list(alert.outlets),
        "languages": list(alert.languages),
    }


async def _snapshot(session: AsyncSession, alert: Alert) -> dict[str, Any]:
    """The alert as subscribers see it, with its latest evidence and article links."""
    rows = await session.execute(
        select(AlertArticle, Article.canonical_url, Article.title)
        .join(Article, Article.id == AlertArticle.article_id)
        .where(AlertArticle.alert_id == alert.id)
        .order_by(AlertArticle.added_at.desc())
        .limit(EVIDENCE_IN_SNAPSHOT)
    )
    return {
        "id": str(alert.id),
        "place": alert.place,
        "kind": alert.kind,
        **_state(alert),
        "opened_at": alert.opened_at.isoformat(),
        "updated_at": alert.updated_at.isoformat(),
        "first_seen_at": alert.first_seen_at.isoformat(),
        "last_seen_at": alert.last_seen_at.isoformat(),
        "evidence": [
            {
                "article_id": str(link.article_id),
                "url": url,
                "title": title,
                "outlet": link.outlet,
                "language": link.language,
                "confidence": link.confidence,
                "snippet": link.evidence,
            }
            for link, url, title in rows
        ],
    }


async def _record(session: AsyncSession, alert: Alert, before: dict[str, Any] | None) -> None:
    """Write the alert event for a change (nothing when nothing tracked changed)."""
    after = _state(alert)
    changed = rules.changes(before or {}, after)
    if before is not None and not changed:
        return
    await session.flush()
    event = AlertEvent(
        alert_id=alert.id,
        type="alert.created" if before is None else "alert.updated",
        changes={} if before is None else changed,
        alert=await _snapshot(session, alert),
        created_at=datetime.now(UTC),
    )
    session.add(event)
    await session.flush()  # the event's id, for its webhook deliveries
    await fan_out(session, event)


def _disputed(alert: Alert) -> bool:
    return alert.status == "disputed"


async def raise_alert(
    session: AsyncSession, event: Event, report: Report, policy: AlertPolicy
) -> AlertChange:
    """Open an alert for the event's (place, kind), or corroborate the open one."""
    await _lock(session, event.place, event.kind)
    alert = await session.scalar(
        select(Alert)
        .where(
            Alert.place == event.place,
            Alert.kind == event.kind,
            Alert.last_seen_at >= rules.window_start(report.observed_at, policy.window),
        )
        .order_by(Alert.last_seen_at.desc())
        .limit(1)
        .with_for_update()
    )
    now = datetime.now(UTC)
    languages = [report.language] if report.language else []
    before = None if alert is None else _state(alert)
    if alert is None:
        alert = Alert(
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
        )
        session.add(alert)
    else:
        alert.article_count += 1
        alert.languages = sorted({*alert.languages, *languages})
        alert.outlets = sorted({*alert.outlets, report.outlet})
        alert.confidence = max(alert.confidence, event.confidence)
        alert.status = rules.status(len(alert.outlets), len(alert.languages), _disputed(alert))
        alert.updated_at = now
        alert.first_seen_at = min(alert.first_seen_at, report.observed_at)
        alert.last_seen_at = max(alert.last_seen_at, report.observed_at)
    await session.flush()
    session.add(
        AlertArticle(
            alert_id=alert.id,
            article_id=report.article_id,
            opened=before is None,
            status=alert.status,
            outlet=report.outlet,
            language=report.language,
            confidence=event.confidence,
            evidence=event.evidence,
            added_at=now,
        )
    )
    await _record(session, alert, before)
    return AlertChange(alert.id, alert.place, alert.kind, alert.status, before is None)


async def dispute(
    session: AsyncSession, place: str, report: Report, policy: AlertPolicy
) -> list[AlertChange]:
    """A denial for ``place`` disputes the open withdrawal alerts it contradicts."""
    changed = []
    for kind in sorted(rules.DISPUTABLE_KINDS):
        await _lock(session, place, kind)
        alerts = await session.scalars(
            select(Alert)
            .where(
                Alert.place == place,
                Alert.kind == kind,
                Alert.status != "disputed",
                Alert.first_seen_at <= report.observed_at,
                ~select(AlertArticle.article_id)
                .where(
                    AlertArticle.alert_id == Alert.id,
                    AlertArticle.article_id == report.article_id,
                )
                .exists(),
                Alert.last_seen_at >= rules.window_start(report.observed_at, policy.window),
            )
            .with_for_update()
        )
        for alert in alerts:
            before = _state(alert)
            alert.status = "disputed"
            alert.updated_at = datetime.now(UTC)
            await _record(session, alert, before)
            changed.append(AlertChange(alert.id, alert.place, alert.kind, alert.status, False))
    return changed


async def corroborate_by_sighting(
    session: AsyncSession, article_id: uuid.UUID, outlet: str
) -> list[AlertChange]:
    """A copy of an alerted article from another outlet corroborates its alerts."""
    alerts = await session.scalars(
        select(Alert)
        .join(AlertArticle, AlertArticle.alert_id == Alert.id)
        .where(AlertArticle.article_id == article_id)
        .with_for_update()
    )
    changed = []
    for alert in alerts:
        if outlet in alert.outlets:
            continue
        before = _state(alert)
        alert.outlets = sorted({*alert.outlets, outlet})
        alert.sighting_count += 1
        alert.status = rules.status(len(alert.outlets), len(alert.languages), _disputed(alert))
        alert.updated_at = datetime.now(UTC)
        await _record(session, alert, before)
        changed.append(AlertChange(alert.id, alert.place, alert.kind, alert.status, False))
    return changed
