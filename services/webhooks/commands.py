"""Webhook operations for operators: the outbox as they read it, and the command line.

The first half is shared by ``drawdown deliveries | redeliver | ping |
subscriptions`` and the HTTP API (services/api/subscriptions.py, deliveries.py):
deliveries with their attempts, counts per status, deliveries held by inactive
subscriptions. Requeueing is ``queue.requeue``; enabling, disabling and pinging
a subscription are in ``services.webhooks.subscriptions``. The second half is
the command line's output. Secrets are never printed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ingest.sources import load_subscriptions, sources_path
from services.db import open_database, sessionmaker
from services.errors import ConfigError
from services.models import Alert, AlertEvent, Delivery, DeliveryAttempt, Subscription
from services.settings import Settings
from services.webhooks import notify, payload, queue
from services.webhooks import subscriptions as subscription_rows
from services.webhooks.transport import make_webhook_client

STATUSES = ("pending", "delivered", "dead", "cancelled")


@dataclass(frozen=True, slots=True)
class AttemptReport:
    number: int
    at: datetime
    status: int | None  # the HTTP status; None when there was no answer
    latency_ms: float | None
    error: str | None
    response: str | None  # the answer's first KiB


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A delivery as operators see it: ``drawdown deliveries``, ``GET /deliveries``."""

    id: uuid.UUID
    subscription_id: int
    subscription: str
    event_id: int
    type: str
    alert_id: uuid.UUID
    place: str
    kind: str
    status: str
    attempts: int  # claims so far, the one in flight included
    next_attempt_at: datetime | None
    retrying_since: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    tries: tuple[AttemptReport, ...] = ()

    @property
    def webhook_id(self) -> str:
        return payload.message_id(self.id)


# The columns a report takes from its ``deliveries`` row as they are.
_DELIVERY_COLUMNS = tuple(
    name
    for name in DeliveryReport.__dataclass_fields__
    if name not in ("subscription", "type", "place", "kind", "tries")
)


async def _tries(
    session: AsyncSession, ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[AttemptReport, ...]]:
    found: dict[uuid.UUID, list[AttemptReport]] = {}
    for a in await session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(ids))
        .order_by(DeliveryAttempt.number, DeliveryAttempt.id)
    ):
        report = AttemptReport(a.number, a.at, a.status, a.latency_ms, a.error, a.response)
        found.setdefault(a.delivery_id, []).append(report)
    return {key: tuple(value) for key, value in found.items()}


async def delivery_reports(
    session: AsyncSession,
    *,
    limit: int,
    delivery_id: uuid.UUID | None = None,
    subscription_id: int | None = None,
    statuses: Collection[str] = (),
    alert_id: uuid.UUID | None = None,
    types: Collection[str] = (),
    where: Sequence[ColumnElement[bool]] = (),
    tries: bool = True,
) -> list[DeliveryReport]:
    """At most ``limit`` deliveries, newest first (``created_at``, then ``id``, descending),
    passing every filter given and the conditions in ``where``; with their attempts when
    ``tries``."""
    query = (
        select(Delivery, Subscription.name, AlertEvent.type, Alert.place, Alert.kind)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .join(AlertEvent, AlertEvent.id == Delivery.event_id)
        .join(Alert, Alert.id == Delivery.alert_id)
        .where(*where)
        .order_by(Delivery.created_at.desc(), Delivery.id.desc())
        .limit(limit)
    )
    if delivery_id is not None:
        query = query.where(Delivery.id == delivery_id)
    if subscription_id is not None:
        query = query.where(Delivery.subscription_id == subscription_id)
    if statuses:
        query = query.where(Delivery.status.in_(sorted(statuses)))
    if alert_id is not None:
        query = query.where(Delivery.alert_id == alert_id)
    if types:
        query = query.where(AlertEvent.type.in_(sorted(types)))
    rows = (await session.execute(query)).all()
    attempts = await _tries(session, [row.Delivery.id for row in rows]) if tries and rows else {}
    reports = []
    for row in rows:
        d = row.Delivery
        reports.append(
            DeliveryReport(
                **{name: getattr(d, name) for name in _DELIVERY_COLUMNS},
                subscription=row.name,
                type=row.type,
                place=row.place,
                kind=row.kind,
                tries=attempts.get(d.id, ()),
            )
        )
    return reports


async def delivery_counts(
    session: AsyncSession, subscription_ids: Collection[int] | None = None
) -> dict[int, dict[str, int]]:
    """Deliveries per status (every status, zeros included) of the subscriptions in
    ``subscription_ids``, or of every subscription that has any."""
    query = select(Delivery.subscription_id, Delivery.status, func.count())
    if subscription_ids is not None:
        query = query.where(Delivery.subscription_id.in_(sorted(subscription_ids)))
    counts = {key: dict.fromkeys(STATUSES, 0) for key in subscription_ids or ()}
    grouped = await session.execute(query.group_by(Delivery.subscription_id, Delivery.status))
    for subscription_id, status, count in grouped:
        counts.setdefault(subscription_id, dict.fromkeys(STATUSES, 0))[status] = count
    return counts


async def held(session: AsyncSession, subscription_id: int | None = None) -> int:
    """Pending deliveries (of one subscription) that wait because it is inactive."""
    query = (
        select(func.count())
        .select_from(Delivery)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .where(Delivery.status == "pending", ~Subscription.active)
    )
    if subscription_id is not None:
        query = query.where(Delivery.subscription_id == subscription_id)
    return int(await session.scalar(query) or 0)


# The command line.


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


def _report_json(report: DeliveryReport) -> dict[str, Any]:
    return {
        "id": str(report.id),
        "webhook_id": report.webhook_id,
        "subscription": report.subscription,
        "event_id": report.event_id,
        "type": report.type,
        "alert_id": str(report.alert_id),
        "place": report.place,
        "kind": report.kind,
        "status": report.status,
        "attempts": report.attempts,
        "next_attempt_at": _iso(report.next_attempt_at),
        "last_status": report.last_status,
        "last_error": report.last_error,
        "delivered_at": _iso(report.delivered_at),
        "created_at": _iso(report.created_at),
        "tries": [asdict(attempt) | {"at": _iso(attempt.at)} for attempt in report.tries],
    }


def _print_delivery(report: DeliveryReport) -> None:
    last = report.last_error or (report.last_status and f"HTTP {report.last_status}")
    _out(
        f"{report.id} {report.status:<9} {report.subscription} "
        f"event {report.event_id} {report.type} {report.place}:{report.kind} "
        f"attempts={report.attempts} last={last or '-'}"
        + (f" next={_iso(report.next_attempt_at)}" if report.status == "pending" else "")
    )
    for attempt in report.tries:
        answer = attempt.error or f"HTTP {attempt.status}"
        _out(f"    #{attempt.number} {_iso(attempt.at)} {answer} {attempt.latency_ms or 0:.0f} ms")
    if any((attempt.error or "").startswith("blocked address") for attempt in report.tries):
        _out(f"    {BLOCKED_HINT}")


BLOCKED_HINT = (
    "the address is private, loopback or otherwise not public, so webhooks may not go there; "
    "if the endpoint is meant to be on such a network, add it to "
    "DRAWDOWN_WEBHOOK_ALLOWED_NETWORKS (e.g. 10.0.0.0/8) and `drawdown redeliver --dead`"
)


async def deliveries(
    settings: Settings, subscription: str | None, status: str | None, as_json: bool, limit: int
) -> int:
    """``drawdown deliveries``: the newest deliveries, each with its attempts."""
    async with (
        open_database(settings, must_exist=True) as engine,
        sessionmaker(engine)() as session,
    ):
        subscription_id = None
        if subscription is not None:
            subscription_id = (await find_subscription(session, subscription)).id
        reports = await delivery_reports(
            session,
            limit=limit,
            subscription_id=subscription_id,
            statuses=() if status is None else (status,),
        )
    for report in reports:
        if as_json:
            _out(json.dumps(_report_json(report), ensure_ascii=False))
        else:
            _print_delivery(report)
    if not reports and not as_json:
        _out("no deliveries")
    return 0


async def redeliver(
    settings: Settings, delivery: str | None, dead: bool, subscription: str | None
) -> int:
    """``drawdown redeliver``: requeue one delivery, or every dead one (of a subscription)."""
    async with open_database(settings, must_exist=True) as engine:
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
            waiting = await held(session)
    _out(f"requeued {count} deliveries")
    if waiting:
        _out(
            f"{waiting} pending deliveries wait for inactive subscriptions "
            "(`drawdown subscriptions`)"
        )
    return 0 if count or not delivery else 1


async def ping(settings: Settings, name: str) -> int:
    """``drawdown ping``: send a signed ``webhook.test`` event (for an Apprise URL, a test
    message) now and show the answer."""
    async with open_database(settings) as engine:
        subscription_rows.announce_secrets(
            await load_subscriptions(engine, sources_path(settings.sources))
        )
        async with sessionmaker(engine)() as session:
            subscription = await find_subscription(session, name)
    async with make_webhook_client(settings) as client:
        sent = await subscription_rows.ping(
            client, settings, subscription.name, subscription.url, subscription.secret
        )
    outcome = sent.outcome
    answer = outcome.error or f"HTTP {outcome.status}"
    _out(
        f"ping subscription={subscription.name} url={notify.shown(subscription.url)} "
        f"answer={answer!r} "
        f"latency_ms={outcome.latency_ms:.0f}"
    )
    if outcome.response:
        _out(f"response: {outcome.response[:200]}")
    if outcome.blocked:
        _out(BLOCKED_HINT)
    return 0 if outcome.verdict == "delivered" else 1


async def subscriptions(settings: Settings, as_json: bool, enable: str | None) -> int:
    """``drawdown subscriptions``: load them from the sources file and show each (no
    secrets); ``--enable NAME`` re-activates one an endpoint disabled with 410."""
    async with open_database(settings) as engine:
        subscription_rows.announce_secrets(
            await load_subscriptions(engine, sources_path(settings.sources)), as_json=as_json
        )
        async with sessionmaker(engine).begin() as session:
            if enable is not None:
                await subscription_rows.enable(
                    session, (await find_subscription(session, enable)).id
                )
            counts = await delivery_counts(session)
            rows = list(await session.scalars(select(Subscription).order_by(Subscription.name)))
    for row in rows:
        report = {
            "name": row.name,
            "url": notify.shown(row.url),
            "origin": row.origin,
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
            "deliveries": counts.get(row.id, dict.fromkeys(STATUSES, 0)),
        }
        if as_json:
            _out(json.dumps(report, ensure_ascii=False))
            continue
        state = "active" if row.active else f"inactive ({row.disabled_reason})"
        tally = " ".join(f"{k}={v}" for k, v in report["deliveries"].items())
        _out(f"{row.name}: {notify.shown(row.url)} ({row.origin}) {state} {tally}")
    if not rows and not as_json:
        _out("no subscriptions")
    return 0
