"""The webhook outbox in the database: claim due deliveries, record attempts, requeue.

Dispatchers in any number of processes share the ``deliveries`` table. A claim
takes due deliveries in one statement — ``UPDATE … WHERE id IN (SELECT … FOR
UPDATE SKIP LOCKED) RETURNING`` on PostgreSQL, the same statement serialized by
SQLite's write lock there — and leases each one by moving its ``next_attempt_at``
past the lease and counting the attempt. A dispatcher that dies mid-delivery
leaves its deliveries due again when the lease runs out; the attempt counter
fences a late answer from overwriting a newer attempt's.

A delivery is not claimed while an earlier event of the same alert for the same
subscription is still pending (per-alert order), nor while its subscription is
inactive or paused by its circuit breaker; one claim takes at most
``per_subscription`` deliveries of one subscription (one while its breaker is
half-open), so a slow endpoint cannot take every slot.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Integer, Table, and_, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.models import AlertEvent, Delivery, DeliveryAttempt, Subscription, UTCDateTime
from services.webhooks import payload
from services.webhooks.policy import Breaker, BreakerPolicy, Decision, after
from services.webhooks.send import Outcome
from services.webhooks.subscriptions import GONE

_deliveries = cast(Table, Delivery.__table__)
_subscriptions = cast(Table, Subscription.__table__)
_attempts = cast(Table, DeliveryAttempt.__table__)
CANDIDATES = 2000  # the most due deliveries ranked per claim


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed delivery, with everything needed to send it."""

    delivery_id: uuid.UUID
    attempt: int  # this attempt's number (the fencing token)
    subscription_id: int
    subscription: str  # its name, for logs
    url: str
    secret: str = field(repr=False)
    breaker: Breaker
    retrying_since: datetime
    event_id: int
    event_created_at: datetime
    body: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Result:
    job: Job
    outcome: Outcome
    decision: Decision
    at: datetime


def _claim_statement() -> Any:
    """Built once; parameters ``now``, ``until``, ``limit``, ``candidates``,
    ``per_subscription``, ``threshold`` and ``busy`` (subscriptions this dispatcher
    has no room for)."""
    d, s = _deliveries, _subscriptions
    now = bindparam("now", type_=UTCDateTime())
    earlier = d.alias("earlier")
    waits_for_earlier = (
        select(earlier.c.id)
        .where(
            earlier.c.subscription_id == d.c.subscription_id,
            earlier.c.alert_id == d.c.alert_id,
            earlier.c.event_id < d.c.event_id,
            earlier.c.status == "pending",
        )
        .exists()
    )
    candidates = (
        select(
            d.c.id, d.c.subscription_id, d.c.next_attempt_at, d.c.event_id, s.c.consecutive_failures
        )
        .join(s, s.c.id == d.c.subscription_id)
        .where(
            d.c.status == "pending",
            d.c.next_attempt_at <= now,
            s.c.active,
            or_(s.c.paused_until.is_(None), s.c.paused_until <= now),
            d.c.subscription_id.not_in(bindparam("busy", expanding=True)),
            ~waits_for_earlier,
        )
        .order_by(d.c.next_attempt_at)
        .limit(bindparam("candidates", type_=Integer(), literal_execute=True))
        .subquery("candidates")
    )
    rank = (
        func.row_number()
        .over(
            partition_by=candidates.c.subscription_id,
            order_by=(candidates.c.next_attempt_at, candidates.c.event_id),
        )
        .label("rank")
    )
    ranked = select(candidates.c.id, candidates.c.consecutive_failures, rank).subquery("ranked")
    cap = case(
        (ranked.c.consecutive_failures >= bindparam("threshold"), 1),
        else_=bindparam("per_subscription"),
    )
    chosen = select(ranked.c.id).where(ranked.c.rank <= cap)
    locked = (
        select(d.c.id)
        .where(d.c.id.in_(chosen), d.c.status == "pending", d.c.next_attempt_at <= now)
        .order_by(d.c.next_attempt_at)
        .limit(bindparam("limit", type_=Integer(), literal_execute=True))
        .with_for_update(skip_locked=True)
    )
    return (
        update(d)
        .where(d.c.id.in_(locked.scalar_subquery()))
        .values(
            attempts=d.c.attempts + 1,
            next_attempt_at=bindparam("until", type_=UTCDateTime()),
        )
        .returning(d.c.id, d.c.attempts)
    )


_CLAIM = _claim_statement()
_CLAIMED = (
    select(
        Delivery.id,
        Delivery.retrying_since,
        Subscription.id.label("subscription_id"),
        Subscription.name,
        Subscription.url,
        Subscription.secret,
        Subscription.consecutive_failures,
        Subscription.paused_until,
        AlertEvent.id.label("event_id"),
        AlertEvent.type,
        AlertEvent.created_at,
        AlertEvent.changes,
        AlertEvent.alert,
    )
    .join(Subscription, Subscription.id == Delivery.subscription_id)
    .join(AlertEvent, AlertEvent.id == Delivery.event_id)
    .where(Delivery.id.in_(bindparam("ids", expanding=True)))
    .order_by(Delivery.event_id)
)


async def claim(
    engine: AsyncEngine,
    now: datetime,
    *,
    limit: int,
    lease: float,
    per_subscription: int,
    threshold: int,
    busy: Collection[int] = (),
) -> list[Job]:
    """Lease up to ``limit`` due deliveries for ``lease`` seconds, oldest due first."""
    if limit <= 0:
        return []
    parameters = {
        "now": now,
        "until": now + timedelta(seconds=lease),
        "limit": limit,
        "per_subscription": per_subscription,
        "threshold": threshold,
        "busy": sorted(busy),
        # Enough due deliveries to fill the claim from several subscriptions.
        "candidates": min(CANDIDATES, 4 * max(limit, per_subscription)),
    }
    async with engine.begin() as connection:
        claimed = await connection.execute(_CLAIM, parameters)
        attempts = {row.id: row.attempts for row in claimed}
        if not attempts:
            return []
        rows = await connection.execute(_CLAIMED, {"ids": list(attempts)})
        return [
            Job(
                delivery_id=row.id,
                attempt=attempts[row.id],
                subscription_id=row.subscription_id,
                subscription=row.name,
                url=row.url,
                secret=row.secret,
                breaker=Breaker(row.consecutive_failures, row.paused_until),
                retrying_since=row.retrying_since,
                event_id=row.event_id,
                event_created_at=row.created_at,
                body=payload.alert_body(
                    row.event_id, row.type, row.created_at, row.changes, row.alert
                ),
            )
            for row in rows
        ]


_FINISH = (
    update(_deliveries)
    .where(
        _deliveries.c.id == bindparam("b_id"),
        _deliveries.c.attempts == bindparam("b_attempt"),
        _deliveries.c.status == "pending",
    )
    .values(
        status=bindparam("b_status"),
        next_attempt_at=bindparam("b_next"),
        last_status=bindparam("b_last_status"),
        last_error=bindparam("b_error"),
        delivered_at=bindparam("b_delivered_at"),
    )
)


def _attempt_row(result: Result) -> dict[str, Any]:
    outcome = result.outcome
    return {
        "delivery_id": result.job.delivery_id,
        "number": result.job.attempt,
        "status": outcome.status,
        "latency_ms": outcome.latency_ms,
        "response": outcome.response,
        "error": outcome.error,
        "at": result.at,
    }


def _finish_row(result: Result) -> dict[str, Any]:
    outcome, decision = result.outcome, result.decision
    error = outcome.error
    if error is None and decision.status != "delivered":
        error = f"HTTP {outcome.status}"
    return {
        "b_id": result.job.delivery_id,
        "b_attempt": result.job.attempt,
        "b_status": decision.status,
        "b_next": decision.next_attempt_at,
        "b_last_status": outcome.status,
        "b_error": error,
        "b_delivered_at": result.at if decision.status == "delivered" else None,
    }


async def _disable_gone(connection: AsyncConnection, results: Sequence[Result]) -> None:
    """A 410 disables the subscription and cancels everything it still had pending."""
    gone = {r.job.subscription_id: r.at for r in results if r.outcome.verdict == "gone"}
    for subscription_id, at in sorted(gone.items()):
        reason = f"{GONE} the endpoint answered 410 Gone at {at.isoformat(timespec='seconds')}"
        await connection.execute(
            update(_subscriptions)
            .where(_subscriptions.c.id == subscription_id)
            .values(active=False, disabled_reason=reason, updated_at=at)
        )
        await connection.execute(
            update(_deliveries)
            .where(
                _deliveries.c.subscription_id == subscription_id,
                _deliveries.c.status == "pending",
            )
            .values(status="cancelled", next_attempt_at=None, last_error="subscription disabled")
        )


async def _breakers(
    connection: AsyncConnection, results: Sequence[Result], policy: BreakerPolicy
) -> None:
    """Fold each subscription's answers into its breaker; write only what changed."""
    by_subscription: dict[int, list[Result]] = {}
    for result in results:
        by_subscription.setdefault(result.job.subscription_id, []).append(result)
    state_rows = await connection.execute(
        select(
            _subscriptions.c.id,
            _subscriptions.c.consecutive_failures,
            _subscriptions.c.paused_until,
        )
        .where(_subscriptions.c.id.in_(sorted(by_subscription)))
        .order_by(_subscriptions.c.id)
        .with_for_update()
    )
    for row in state_rows:
        before = Breaker(row.consecutive_failures, row.paused_until)
        state = before
        for result in by_subscription[row.id]:
            outcome = result.outcome
            state = after(state, outcome.verdict, result.at, policy, outcome.retry_after)
        if state != before:
            await connection.execute(
                update(_subscriptions)
                .where(_subscriptions.c.id == row.id)
                .values(consecutive_failures=state.failures, paused_until=state.paused_until)
            )


def _breaker_may_change(result: Result) -> bool:
    """Whether recording ``result`` may change its subscription's row (breaker, 410)."""
    breaker = result.job.breaker
    healthy = breaker.failures == 0 and breaker.paused_until is None
    verdict = result.outcome.verdict
    return verdict == "gone" or not (healthy and verdict in ("delivered", "blocked"))


async def record(engine: AsyncEngine, results: Sequence[Result], policy: BreakerPolicy) -> None:
    """Write a batch of attempts and what became of their deliveries, in one transaction."""
    if not results:
        return
    ordered = sorted(results, key=lambda r: (r.job.subscription_id, str(r.job.delivery_id)))
    touched = [r for r in ordered if _breaker_may_change(r)]
    changing = sorted({r.job.subscription_id for r in touched})
    async with engine.begin() as connection:
        if changing:  # subscription rows first, then deliveries: one lock order for all
            await connection.execute(
                select(_subscriptions.c.id)
                .where(_subscriptions.c.id.in_(changing))
                .order_by(_subscriptions.c.id)
                .with_for_update()
            )
        await connection.execute(_attempts.insert(), [_attempt_row(r) for r in ordered])
        await connection.execute(_FINISH, [_finish_row(r) for r in ordered])
        await _disable_gone(connection, ordered)
        if touched:
            await _breakers(connection, touched, policy)


_RELEASE = (
    update(_deliveries)
    .where(
        _deliveries.c.id == bindparam("b_id"),
        _deliveries.c.attempts == bindparam("b_attempt"),
        _deliveries.c.status == "pending",
    )
    .values(next_attempt_at=bindparam("b_now"), attempts=_deliveries.c.attempts - 1)
)


async def release(engine: AsyncEngine, jobs: Sequence[Job], now: datetime) -> None:
    """Hand claimed deliveries back unsent: due now, the claim not counted as an attempt."""
    async with engine.begin() as connection:
        await connection.execute(
            _RELEASE,
            [{"b_id": j.delivery_id, "b_attempt": j.attempt, "b_now": now} for j in jobs],
        )


async def requeue(
    engine: AsyncEngine,
    now: datetime,
    *,
    delivery_id: uuid.UUID | None = None,
    subscription_id: int | None = None,
) -> int:
    """Make deliveries pending again with a fresh retry horizon: one by id (whatever its
    status), or every dead one (of one subscription); how many were requeued."""
    condition = (
        _deliveries.c.id == delivery_id
        if delivery_id is not None
        else _deliveries.c.status == "dead"
    )
    if subscription_id is not None:
        condition = and_(condition, _deliveries.c.subscription_id == subscription_id)
    async with engine.begin() as connection:
        result = await connection.execute(
            update(_deliveries)
            .where(condition, _deliveries.c.status != "pending")
            .values(status="pending", next_attempt_at=now, retrying_since=now, delivered_at=None)
            .returning(_deliveries.c.id)
        )
        return len(result.all())
