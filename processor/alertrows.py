"""Alerts in the database: the ones a batch may change read, and what it changed written.

Runs inside the processor's transaction, a batch at a time. ``load`` reads the
alerts the batch can touch in two queries (the open ones of its (place, kind)
pairs, and those its copies' articles are evidence of) into a ``Book``
(processor/alerting.py), which changes them in memory; ``write`` puts it all back
with a few set-based statements: alerts, their evidence, the ``alert_events`` rows
and their webhook deliveries, in that same transaction: the outbox the alerts
topic and webhooks are fed from, so no change is lost or sent twice.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from processor import fanout
from processor.alerting import (
    ALERT_ARTICLES,
    ALERT_EVENTS,
    ALERTS,
    COLUMNS,
    EVIDENCE_IN_SNAPSHOT,
    AlertState,
    Book,
)
from processor.evidence import shown
from services.models import Alert, AlertArticle, Article


def _loaded(row: Any) -> AlertState:
    return AlertState(**{c.key: getattr(row, c.key) for c in COLUMNS})


async def load(
    session: AsyncSession,
    pairs: Collection[tuple[str, str]],
    since: datetime | None,
    sighted: Collection[uuid.UUID],
) -> Book:
    """The alerts a batch may change: those of ``pairs`` (place, kind) last seen since
    ``since``, and those the ``sighted`` articles are evidence of. Locked (PostgreSQL)."""
    alerts: dict[uuid.UUID, AlertState] = {}
    links: list[tuple[uuid.UUID, uuid.UUID]] = []
    if pairs and since is not None:
        rows = await session.execute(
            select(*COLUMNS)
            .where(
                Alert.place.in_(sorted({p for p, _ in pairs})),
                Alert.kind.in_(sorted({k for _, k in pairs})),
                Alert.last_seen_at >= since,
            )
            .with_for_update()
        )
        alerts.update((row.id, _loaded(row)) for row in rows if (row.place, row.kind) in pairs)
    if sighted:
        rows = await session.execute(
            select(*COLUMNS, AlertArticle.article_id.label("evidence_of"))
            .join(AlertArticle, AlertArticle.alert_id == Alert.id)
            .where(AlertArticle.article_id.in_(sorted(sighted)))
            .with_for_update(of=Alert)
        )
        for row in rows:
            alerts.setdefault(row.id, _loaded(row))
            links.append((row.id, row.evidence_of))
    return Book(alerts.values(), links)


async def _stored_evidence(
    session: AsyncSession, alert_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The latest evidence of stored alerts, newest first, for their snapshots."""
    if not alert_ids:
        return {}
    rank = (
        func.row_number()
        .over(partition_by=AlertArticle.alert_id, order_by=AlertArticle.added_at.desc())
        .label("rank")
    )
    ranked = (
        select(AlertArticle, Article.canonical_url.label("url"), Article.title, rank)
        .join(Article, Article.id == AlertArticle.article_id)
        .where(AlertArticle.alert_id.in_(sorted(alert_ids)))
        .subquery()
    )
    rows = await session.execute(
        select(ranked).where(ranked.c.rank <= EVIDENCE_IN_SNAPSHOT).order_by(ranked.c.rank)
    )
    found: defaultdict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        found[row.alert_id].append(row._asdict())
    return found


async def write(session: AsyncSession, book: Book) -> None:
    """Write what ``book`` changed: alerts, their evidence, alert events, deliveries."""
    if not book.changes:
        return
    touched = list({id(c.alert): c.alert for c in book.changes}.values())
    fresh = [a for a in touched if a.new]
    if fresh:
        await session.execute(insert(ALERTS), [a.row() for a in fresh])
    kept = [a for a in touched if not a.new]
    if kept:
        await session.execute(
            update(ALERTS)
            .where(COLUMNS.id == bindparam("alert_id"))
            .values({c.key: bindparam(c.key) for c in COLUMNS if c.key != "id"}),
            [{"alert_id": a.id, **a.row()} for a in kept],
        )
    stored = await _stored_evidence(session, [a.id for a in kept])  # before the batch's own
    links = [
        {k: v for k, v in link.items() if k not in ("url", "title")}
        for a in touched
        for link in a.evidence
    ]
    if links:
        await session.execute(insert(ALERT_ARTICLES), links)
    events: list[dict[str, Any]] = []
    for change in book.changes:
        latest = [
            *reversed(change.alert.evidence[: change.evidence_count]),
            *stored.get(change.alert.id, []),
        ]
        snapshot = {
            **change.snapshot,
            "evidence": [shown(link) for link in latest[:EVIDENCE_IN_SNAPSHOT]],
        }
        events.append(
            {
                "alert_id": change.alert.id,
                "type": change.type,
                "changes": change.changes,
                "alert": snapshot,
                "created_at": change.at,
            }
        )
    # One statement (sort_by_parameter_order would be one per row on SQLite): each event is
    # found again by its alert and instant, one per document and alert in a batch.
    returned = await session.execute(
        insert(ALERT_EVENTS).returning(
            ALERT_EVENTS.c.id, ALERT_EVENTS.c.alert_id, ALERT_EVENTS.c.created_at
        ),
        events,
    )
    id_of = {(row.alert_id, row.created_at): row.id for row in returned}
    assert len(id_of) == len(events), "two alert events of one alert at one instant"
    ids = [id_of[(event["alert_id"], event["created_at"])] for event in events]
    subscriptions = await fanout.active_subscriptions(session)
    rows = [
        row
        for event_id, event in zip(ids, events, strict=True)
        for row in fanout.deliveries(
            event_id,
            event["alert_id"],
            event["alert"],
            event["changes"],
            subscriptions,
            event["created_at"],
        )
    ]
    await fanout.write_deliveries(session, rows)
