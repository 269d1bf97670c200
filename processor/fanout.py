"""Fan an alert event out to the webhook subscriptions that want it: ``deliveries`` rows.

Called in the processor's transaction right after the ``alert_events`` row is
written, so the webhook outbox commits (or rolls back) with the alert change
itself: a crash never loses a delivery and never makes one for a change that
did not happen. The dispatcher (services.webhooks.dispatcher) sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from processor.gazetteer import gazetteer
from processor.routing import AlertFacts, Filter, matches
from services.models import AlertEvent, Delivery, Subscription


def country_of(place: str) -> str | None:
    try:
        return gazetteer().get(place).country
    except KeyError:
        return None


def _filter(row: Any) -> Filter:
    return Filter.of(
        row.places, row.countries, row.kinds, row.languages, row.min_confidence, row.min_status
    )


async def active_subscriptions(session: AsyncSession) -> list[Any]:
    """The active subscriptions and their filters: loaded once per batch."""
    return list(
        (
            await session.execute(
                select(
                    Subscription.id,
                    Subscription.places,
                    Subscription.countries,
                    Subscription.kinds,
                    Subscription.languages,
                    Subscription.min_confidence,
                    Subscription.min_status,
                ).where(Subscription.active)
            )
        ).all()
    )


def deliveries(
    event_id: int,
    alert_id: Any,
    alert: dict[str, Any],
    changes: dict[str, Any],
    subscriptions: Sequence[Any],
    now: datetime,
) -> list[dict[str, Any]]:
    """The pending ``deliveries`` rows of one alert event: one per subscription it passes."""
    if not subscriptions:
        return []
    place = str(alert["place"])
    facts = AlertFacts.of_event(alert, changes, country_of(place))
    return [
        {
            "event_id": event_id,
            "subscription_id": row.id,
            "alert_id": alert_id,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "retrying_since": now,
            "created_at": now,
        }
        for row in subscriptions
        if matches(_filter(row), facts)
    ]


async def write_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await session.execute(insert(Delivery).on_conflict_do_nothing(), list(rows))


async def fan_out(session: AsyncSession, event: AlertEvent) -> int:
    """Write a pending delivery of ``event`` (flushed, so it has its id) for every active
    subscription whose filters it passes; how many were written."""
    rows = deliveries(
        event.id,
        event.alert_id,
        event.alert,
        event.changes,
        await active_subscriptions(session),
        datetime.now(UTC),
    )
    await write_deliveries(session, rows)
    return len(rows)
