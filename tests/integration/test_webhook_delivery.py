"""Webhooks reach a real local receiver, signed per Standard Webhooks, through failures:
a receiver that is down, 500s, 429 with Retry-After, timeouts, 410, out-of-order risks."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db import sessionmaker
from services.models import Subscription
from services.webhooks.metrics import WebhookMetrics
from services.webhooks.payload import message_id
from services.webhooks.subscriptions import SubscriptionSpec
from tests.conftest import postgresql_only
from tests.servers import free_port, local_server
from tests.webhookkit import (
    AIN_AL_ASAD,
    AIN_AL_ASAD_AGAIN,
    AL_TANF,
    QASRAK,
    Receiver,
    attempts,
    deliveries,
    dispatching,
    report,
    settled,
    slow,
    status,
    subscribe,
    wait_for,
    webhook_settings,
)

pytestmark = postgresql_only


async def test_an_alert_is_delivered_signed_and_verifiable(
    pg_url: str, engine: AsyncEngine
) -> None:
    receiver = Receiver()
    metrics = WebhookMetrics()
    async with local_server() as server:
        url = receiver.mount(server)
        await subscribe(engine, SubscriptionSpec("newsroom", url, receiver.secret))
        await report(engine, AIN_AL_ASAD)
        async with dispatching(webhook_settings(pg_url), engine, metrics):
            await wait_for(lambda: settled(engine, 1))
    (delivery,) = await deliveries(engine)
    assert delivery.status == "delivered"
    assert delivery.delivered_at is not None
    assert delivery.next_attempt_at is None
    (got,) = receiver.received
    assert got.payload is not None, "the signature did not verify"
    assert got.headers["webhook-id"] == message_id(delivery.id)
    assert got.headers["webhook-signature"].startswith("v1,")
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"].startswith("Drawdown/")
    body = json.loads(got.body)
    assert body["type"] == "alert.created"
    assert body["data"]["event_id"] == delivery.event_id
    alert = body["data"]["alert"]
    assert (alert["place"], alert["kind"], alert["status"]) == (
        "ain-al-asad",
        "withdrawal",
        "reported",
    )
    (said,) = alert["evidence"]
    assert said["snippet"] == AIN_AL_ASAD
    assert (said["language"], said["article_language"]) == ("en", "en")
    assert said["reason"].startswith("withdrawal cue \u201cwithdrew\u201d")
    assert said["sentences"] == [
        {"text": AIN_AL_ASAD, "start": 0, "end": len(AIN_AL_ASAD), "language": "en",
         "reason": said["reason"]}
    ]  # fmt: skip
    (attempt,) = await attempts(engine)
    assert (attempt.number, attempt.status, attempt.response) == (1, 200, "thanks")
    assert attempt.latency_ms is not None
    assert metrics.delivered == 1
    assert metrics.latency_ms.count == 1


async def test_a_receiver_that_is_down_gets_it_once_it_is_up(
    pg_url: str, engine: AsyncEngine
) -> None:
    receiver = Receiver()
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    await subscribe(engine, SubscriptionSpec("late riser", url, receiver.secret))
    await report(engine, AIN_AL_ASAD)
    settings = webhook_settings(pg_url, webhook_breaker_threshold=100)

    async def failed_twice() -> bool:
        return len(await attempts(engine)) >= 2

    async with dispatching(settings, engine):
        await wait_for(failed_twice)
        async with local_server(port) as server:
            receiver.mount(server)
            await wait_for(lambda: settled(engine, 1))
    (delivery,) = await deliveries(engine)
    assert delivery.status == "delivered"
    tries = await attempts(engine)
    assert [a.status for a in tries].count(200) == 1
    assert all(a.error and a.error.startswith("connect:") for a in tries if a.status is None)
    assert delivery.attempts == len(tries) >= 3
    assert len(receiver.received) == 1
    assert receiver.received[0].payload is not None


async def test_500_then_timeout_are_retried_and_recorded(pg_url: str, engine: AsyncEngine) -> None:
    receiver = Receiver(answers=[status(500, "x" * 5000), slow(1.0)])
    async with local_server() as server:
        url = receiver.mount(server)
        await subscribe(engine, SubscriptionSpec("flaky", url, receiver.secret))
        await report(engine, AIN_AL_ASAD)
        async with dispatching(webhook_settings(pg_url, webhook_timeout=0.5), engine):
            await wait_for(lambda: settled(engine, 1))
    first, second, third = await attempts(engine)
    assert (first.status, len(first.response or "")) == (500, 1024)  # a KiB of the answer kept
    assert second.status is None
    assert second.error is not None
    assert second.error.startswith("timeout")
    assert third.status == 200
    (delivery,) = await deliveries(engine)
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("delivered", 3, 200)
    assert len(set(receiver.ids)) == 1  # every retry is the same message


async def test_429_retry_after_is_honoured(pg_url: str, engine: AsyncEngine) -> None:
    receiver = Receiver(answers=[status(429, "slow down", {"Retry-After": "1"})])
    async with local_server() as server:
        url = receiver.mount(server)
        await subscribe(engine, SubscriptionSpec("rate limited", url, receiver.secret))
        await report(engine, AIN_AL_ASAD)

        async def throttled() -> bool:
            return len(await attempts(engine)) == 1

        async with dispatching(webhook_settings(pg_url), engine):
            await wait_for(throttled)
            async with sessionmaker(engine)() as session:
                paused = await session.scalar(select(Subscription.paused_until))
            await wait_for(lambda: settled(engine, 1))
    first, second = receiver.received
    assert second.at - first.at >= 0.95  # not the 0.05 s backoff: what Retry-After asked
    assert paused is not None  # the whole subscription waited
    assert [a.status for a in await attempts(engine)] == [429, 200]


async def test_410_disables_the_subscription_and_cancels_what_it_had_pending(
    pg_url: str, engine: AsyncEngine
) -> None:
    receiver = Receiver(answers=[status(410, "gone")])
    other = Receiver()
    async with local_server() as server:
        url = receiver.mount(server)
        other_url = other.mount(server, "/other")
        await subscribe(
            engine,
            SubscriptionSpec("gone", url, receiver.secret),
            SubscriptionSpec("still here", other_url, other.secret),
        )
        for text in (AIN_AL_ASAD, AL_TANF, QASRAK):
            await report(engine, text)
        settings = webhook_settings(pg_url, webhook_per_subscription_concurrency=1)
        async with dispatching(settings, engine):
            await wait_for(lambda: settled(engine, 6))
    async with sessionmaker(engine)() as session:
        gone = (
            await session.scalars(select(Subscription).where(Subscription.name == "gone"))
        ).one()
    assert not gone.active
    assert gone.disabled_reason is not None
    assert gone.disabled_reason.startswith("gone:")
    mine = [d for d in await deliveries(engine) if d.subscription_id == gone.id]
    assert sorted(d.status for d in mine) == ["cancelled", "cancelled", "cancelled"]
    assert len(receiver.received) == 1  # nothing more was sent once it said 410
    assert len(other.received) == 3
    await report(engine, AIN_AL_ASAD_AGAIN, "Outlet B")  # a later change: not for "gone"
    assert len([d for d in await deliveries(engine) if d.subscription_id == gone.id]) == 3


async def test_an_alerts_events_arrive_in_order(pg_url: str, engine: AsyncEngine) -> None:
    receiver = Receiver(answers=[status(503, "busy")])
    async with local_server() as server:
        url = receiver.mount(server)
        await subscribe(engine, SubscriptionSpec("ordered", url, receiver.secret))
        await report(engine, AIN_AL_ASAD, "Outlet A")
        await report(engine, AIN_AL_ASAD_AGAIN, "Outlet B")  # alert.updated: corroborated
        async with dispatching(webhook_settings(pg_url), engine):
            await wait_for(lambda: settled(engine, 2))
    kinds = [(json.loads(r.body)["type"], r.headers["webhook-id"]) for r in receiver.received]
    created, updated = await deliveries(engine)
    assert kinds == [
        ("alert.created", message_id(created.id)),  # 503: the update must wait for it
        ("alert.created", message_id(created.id)),
        ("alert.updated", message_id(updated.id)),
    ]
    assert json.loads(receiver.received[2].body)["data"]["changes"]["status"] == [
        "reported",
        "corroborated",
    ]


async def test_a_dead_endpoint_trips_its_breaker_and_does_not_slow_the_others(
    pg_url: str, engine: AsyncEngine
) -> None:
    healthy = Receiver()
    dead_url = f"http://127.0.0.1:{free_port()}/nobody-home"
    async with local_server() as server:
        url = healthy.mount(server)
        await subscribe(
            engine,
            SubscriptionSpec("dead", dead_url, healthy.secret),
            SubscriptionSpec("healthy", url, healthy.secret),
        )
        for text in (AIN_AL_ASAD, AL_TANF, QASRAK):
            await report(engine, text)
        settings = webhook_settings(
            pg_url, webhook_breaker_threshold=2, webhook_breaker_cooldown=30.0
        )

        async def healthy_done() -> bool:
            return len(healthy.received) == 3

        async with dispatching(settings, engine):
            await wait_for(healthy_done)
            await asyncio.sleep(0.5)  # long enough for many retries without a breaker
            async with sessionmaker(engine)() as session:
                dead = (
                    await session.scalars(select(Subscription).where(Subscription.name == "dead"))
                ).one()
    assert dead.consecutive_failures >= 2
    assert dead.paused_until is not None
    failed = [a for a in await attempts(engine) if a.status is None]
    # The breaker opened at the 2nd failure; requests already in flight could still fail.
    assert 2 <= len(failed) <= 2 + 3
