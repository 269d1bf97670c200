"""Relay alert events from the ``alert_events`` outbox to the ``drawdown.alerts`` topic.

Events are written in the transaction that changed the alert; this relay
publishes the unpublished ones in order and marks them published in a
transaction of its own. A crash between the two republishes them: consumers
dedupe by the event ``id`` (at least once, never lost).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.bus import Producer
from services.models import AlertEvent

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
BATCH = 200


def message(event: AlertEvent) -> bytes:
    """The alerts-topic message for one event (JSON, schema v1; see docs/messages.md)."""
    body: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "id": event.id,
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "changes": event.changes,
        "alert": event.alert,
    }
    return json.dumps(body, ensure_ascii=False).encode()


async def relay(sessions: async_sessionmaker[AsyncSession], producer: Producer, topic: str) -> int:
    """Publish up to one batch of unpublished alert events; how many were published."""
    async with sessions.begin() as session:
        events = list(
            await session.scalars(
                select(AlertEvent)
                .where(AlertEvent.published_at.is_(None))
                .order_by(AlertEvent.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        for event in events:
            await producer.send(
                topic,
                message(event),
                key=str(event.alert_id).encode(),
                headers=[("type", event.type.encode()), ("v", b"1")],
            )
            event.published_at = datetime.now(UTC)
    if events:
        log.info("published alert events count=%d last_id=%d", len(events), events[-1].id)
    return len(events)
