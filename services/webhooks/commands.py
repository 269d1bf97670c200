"""Webhook operations on the command line: deliveries, redeliver, ping, subscriptions.

(The HTTP API will offer the same; until then these are how an operator sees and
repairs deliveries.) Secrets are never printed.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ingest.sources import load_subscriptions, sources_path
from services.db import open_database, sessionmaker
from services.errors import ConfigError
from services.models import AlertEvent, Delivery, DeliveryAttempt, Subscription
from services.settings import Settings
from services.webhooks import payload, queue
from services.webhooks.send import post
from services.webhooks.transport import make_webhook_client

STATUSES = ("pending", "delivered", "dead", "cancelled")


def _out(line: str) -> None:
    print(line)  # noqa: T201 - the command's own output


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def find_subscription(session: AsyncSession, name: str) -> Subscription:
    """The subscription called ``name`` (an active one first); ConfigError if none."""
    found = await session.scalar(
        select(Subscription)
        .where(Subscription.name == name)
        .order_by(Subscription.active.desc(), Subscription.updated_at.desc())
        .limit(1)
    )
    if found is None:
        raise ConfigError(f"no subscription named {name!r} (see `drawdown subscriptions`)")
    return found


async def _delivery_reports(
    session: AsyncSession, subscription: str | None, status: str | None, limit: int
) -> list[dict[str, Any]]:
    query = (
        select(Delivery, Subscription.name, AlertEvent.type, AlertEvent.alert)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .join(AlertEvent, AlertEvent.id == Delivery.event_id)
        .order_by(Delivery.created_at.desc(), Delivery.event_id.desc())
        .limit(limit)
    )
    if subscription is not None:
        query = query.where(Subscription.id == (await find_subscription(session, subscription)).id)
    if status is not None:
        query = query.where(Delivery.status == status)
    rows = (await session.execute(query)).all()
    attempts: dict[uuid.UUID, list[dict[str, Any]]] = {}
    if rows:
        ids = [row.Delivery.id for row in rows]
        for attempt in await session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_(ids))
            .order_by(DeliveryAttempt.number, DeliveryAttempt.id)
        ):
            attempts.setdefault(attempt.delivery_id, []).append(
                {
                    "number": attempt.number,
                    "at": _iso(attempt.at),
                    "status": attempt.status,
                    "latency_ms": attempt.latency_ms,
                    "error": attempt.error,
                    "response": attempt.response,
                }
            )
    return [
        {
            "id": str(row.Delivery.id),
            "webhook_id": payload.message_id(row.Delivery.id),
            "subscription": row.name,
            "event_id": row.Delivery.event_id,
            "type": row.type,
            "alert_id": str(row.Delivery.alert_id),
            "place": row.alert.get("place"),
            "kind": row.alert.get("kind"),
            "status": row.Delivery.status,
            "attempts": row.Delivery.attempts,
            "next_attempt_at": _iso(row.Delivery.next_attempt_at),
            "last_status": row.Delivery.last_status,
            "last_error": row.Delivery.last_error,
            "delivered_at": _iso(row.Delivery.delivered_at),
            "created_at": _iso(row.Delivery.created_at),
            "tries": attempts.get(row.Delivery.id, []),
        }
        for row in rows
    ]


def _print_delivery(report: dict[str, Any]) -> None:
    last = report["last_error"] or (report["last_status"] and f"HTTP {report['last_status']}")
    _out(
        f"{report['id']} {report['status']:<9} {report['subscription']} "
        f"event {report['event_id']} {report['type']} {report['place']}:{report['kind']} "
        f"attempts={report['attempts']} last={last or '-'}"
        + (f" next={report['next_attempt_at']}" if report["status"] == "pending" else "")
    )
    for attempt in report["tries"]:
        answer = attempt["error"] or f"HTTP {attempt['status']}"
        _out(f"    #{attempt['number']} {attempt['at']} {answer} {attempt['latency_ms']:.0f} ms")


async def deliveries(
    settings: Settings, subscription: str | None, status: str | None, as_json: bool, limit: int
) -> int:
    """``drawdown deliveries``: the newest deliveries, each with its attempts."""
    async with open_database(settings) as engine, sessionmaker(engine)() as session:
        reports = await _delivery_reports(session, subscription, status, limit)
    for report in reports:
        if as_json:
            _out(json.dumps(report, ensure_ascii=False))
        else:
            _print_delivery(report)
    if not reports and not as_json:
        _out("no deliveries")
    return 0


async def redeliver(
    settings: Settings, delivery: str | None, dead: bool, subscription: str | None
) -> int:
    """``drawdown redeliver``: requeue one delivery, or every dead one (of a subscription)."""
    async with open_database(settings) as engine:
        subscription_id = None
        if subscription is not None:
            async with sessionmaker(engine)() as session:
                subscription_id = (await find_subscription(session, subscription)).id
        delivery_id = None
        if delivery is not None:
            try:
                delivery_id = uuid.UUID(delivery)
            except ValueError as exc:
                raise ConfigError(f"{delivery!r} is not a delivery id") from exc
        count = await queue.requeue(
            engine,
            datetime.now(UTC),
            delivery_id=delivery_id,
            subscription_id=subscription_id if dead else None,
        )
        async with sessionmaker(engine)() as session:
            held = await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .join(Subscription, Subscription.id == Delivery.subscription_id)
                .where(Delivery.status == "pending", ~Subscription.active)
            )
    _out(f"requeued {count} deliveries")
    if held:
        _out(
            f"{held} pending deliveries wait for inactive subscriptions (`drawdown subscriptions`)"
        )
    return 0 if count or not delivery else 1


async def ping(settings: Settings, name: str) -> int:
    """``drawdown ping``: send a signed ``webhook.test`` event now and show the answer."""
    async with open_database(settings) as engine:
        await load_subscriptions(engine, sources_path(settings.sources))
        async with sessionmaker(engine)() as session:
            subscription = await find_subscription(session, name)
    now = datetime.now(UTC)
    body = payload.body(payload.TEST_EVENT, now, {"subscription": subscription.name})
    headers = payload.headers(subscription.secret, f"msg_test_{uuid.uuid4().hex}", body, now)
    async with make_webhook_client(settings) as client:
        outcome = await post(
            client,
            subscription.url,
            body,
            headers,
            timeout=settings.webhook_timeout,
            max_bytes=settings.webhook_max_response_bytes,
        )
    answer = outcome.error or f"HTTP {outcome.status}"
    _out(
        f"ping subscription={subscription.name} url={subscription.url} answer={answer!r} "
        f"latency_ms={outcome.latency_ms:.0f}"
    )
    if outcome.response:
        _out(f"response: {outcome.response[:200]}")
    return 0 if outcome.verdict == "delivered" else 1


async def subscriptions(settings: Settings, as_json: bool, enable: str | None) -> int:
    """``drawdown subscriptions``: load them from the sources file and show each (no
    secrets); ``--enable NAME`` re-activates one an endpoint disabled with 410."""
    async with open_database(settings) as engine:
        await load_subscriptions(engine, sources_path(settings.sources))
        async with sessionmaker(engine).begin() as session:
            if enable is not None:
                found = await find_subscription(session, enable)
                await session.execute(
                    update(Subscription)
                    .where(Subscription.id == found.id)
                    .values(
                        active=True, disabled_reason=None, consecutive_failures=0, paused_until=None
                    )
                )
            counts = {
                (row.subscription_id, row.status): row.count
                for row in await session.execute(
                    select(
                        Delivery.subscription_id, Delivery.status, func.count().label("count")
                    ).group_by(Delivery.subscription_id, Delivery.status)
                )
            }
            rows = list(await session.scalars(select(Subscription).order_by(Subscription.name)))
    for row in rows:
        report = {
            "name": row.name,
            "url": row.url,
            "active": row.active,
            "disabled_reason": row.disabled_reason,
            "description": row.description,
            "places": row.places,
            "countries": row.countries,
            "kinds": row.kinds,
            "languages": row.languages,
            "min_confidence": row.min_confidence,
            "min_status": row.min_status,
            "consecutive_failures": row.consecutive_failures,
            "paused_until": _iso(row.paused_until),
            "deliveries": {status: counts.get((row.id, status), 0) for status in STATUSES},
        }
        if as_json:
            _out(json.dumps(report, ensure_ascii=False))
            continue
        state = "active" if row.active else f"inactive ({row.disabled_reason})"
        tally = " ".join(f"{k}={v}" for k, v in report["deliveries"].items())
        _out(f"{row.name}: {row.url} {state} {tally}")
    if not rows and not as_json:
        _out("no subscriptions")
    return 0
