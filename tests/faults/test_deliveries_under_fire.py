"""Every matching alert event reaches every subscriber through a killed dispatcher, a
receiver that is down and a receiver that is slow; duplicates only ever share a
``webhook-id``, and each subscriber sees each alert's events in order.

Alerts are raised in this process (as the processor raises them), which writes their
deliveries to the outbox for four subscriptions: "steady" (its first request is held
until the dispatcher handling it is SIGKILLed), "down" (nothing listens on its port
until it has failed a few times), "slow" (its first answers come after the webhook
timeout, so they are retried although they arrived) and "filtered" (one place only).
Retry delays, leases and the circuit breaker's cool-down are compressed by settings.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from services.webhooks.subscriptions import SubscriptionSpec
from tests.conftest import postgresql_only
from tests.faults.conftest import WAIT, Role, delivered, env_of, report, running, scalar
from tests.faults.site import sources_file
from tests.faults.stream import withdrawal_report
from tests.servers import free_port, local_server
from tests.webhookkit import Receiver, slow, subscribe, wait_for
from tests.webhookkit import report as store_report

REPORTS = 24
WEBHOOK_TIMEOUT = 1.0
pytestmark = [postgresql_only, pytest.mark.timeout(600)]


def _settings(pg_url: str, sources: Path) -> dict[str, str]:
    return env_of(
        database_url=pg_url,
        sources=sources,
        log_format="text",
        webhook_allowed_networks="127.0.0.1/32",
        webhook_poll_interval=0.1,
        webhook_timeout=WEBHOOK_TIMEOUT,
        webhook_connect_timeout=WEBHOOK_TIMEOUT,
        webhook_lease=3,
        webhook_backoff_base=0.2,
        webhook_backoff_max=1.0,
        webhook_breaker_cooldown=1.0,
        heartbeat_interval=1,
    )


def _in_order(receiver: Receiver) -> bool:
    """Each alert's events arrive in event order (first arrival of each webhook-id)."""
    seen: set[str] = set()
    last: dict[str, int] = {}
    for received in receiver.received:
        webhook_id = received.headers["webhook-id"]
        if webhook_id in seen:
            continue
        seen.add(webhook_id)
        data = received.payload["data"]
        alert, event = data["alert"]["id"], data["event_id"]
        if event < last.get(alert, 0):
            return False
        last[alert] = event
    return True


def _one_event_per_id(receiver: Receiver) -> bool:
    """A webhook-id always carries the same event, and an event always the same id."""
    events, ids = defaultdict(set), defaultdict(set)
    for received in receiver.received:
        webhook_id = received.headers["webhook-id"]
        events[webhook_id].add(received.payload["data"]["event_id"])
        ids[received.payload["data"]["event_id"]].add(webhook_id)
    return all(len(v) == 1 for v in events.values()) and all(len(v) == 1 for v in ids.values())


async def test_every_delivery_arrives_through_kills_outages_and_slowness(
    pg_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    arrived, release = asyncio.Event(), asyncio.Event()

    async def hold(_: Request) -> Response:
        arrived.set()
        await release.wait()
        return Response("too late", 200)

    steady, slowpoke = Receiver(answers=[hold]), Receiver(answers=[slow(WEBHOOK_TIMEOUT * 2)] * 3)
    down, filtered = Receiver(), Receiver()
    down_port = free_port()
    async with local_server() as server:
        specs = [
            SubscriptionSpec("steady", steady.mount(server, "/steady"), steady.secret),
            SubscriptionSpec("down", f"http://127.0.0.1:{down_port}/down", down.secret),
            SubscriptionSpec("slow", slowpoke.mount(server, "/slow"), slowpoke.secret),
            SubscriptionSpec(
                "filtered", filtered.mount(server, "/one"), filtered.secret, places=("al-tanf",)
            ),
        ]
        ids = await subscribe(engine, *specs)
        rng = random.Random(6)
        for number in range(REPORTS):
            _, text = withdrawal_report(rng)
            await store_report(engine, text, source=f"Outlet {number % 5}")
        total = await scalar(pg_url, "SELECT count(*) FROM deliveries")
        events = await scalar(pg_url, "SELECT count(*) FROM alert_events")
        tanf = await scalar(
            pg_url, "SELECT count(*) FROM alert_events WHERE alert->>'place' = 'al-tanf'"
        )
        subscriptions = [
            {"name": s.name, "url": s.url, "secret": s.secret, "places": list(s.places)}
            for s in specs
        ]
        env = _settings(pg_url, sources_file(tmp_path / "sources.yaml", None, subscriptions))
        first, second = Role("dispatch", env, tmp_path), Role("dispatch", env, tmp_path)
        with running(first):
            await asyncio.wait_for(arrived.wait(), WAIT)
            first.kill()  # mid-delivery: the steady receiver has not answered
        release.set()
        with running(second):
            await wait_for(lambda: _tried(pg_url, ids["down"], 3), WAIT)
            async with local_server(down_port) as late:
                down.mount(late, "/down")
                await wait_for(lambda: _all_delivered(pg_url, total), WAIT)
            alive = second.alive()
    receivers = {"steady": steady, "down": down, "slow": slowpoke, "filtered": filtered}
    received = sum(len(r.received) for r in receivers.values())
    distinct = sum(len(set(r.ids)) for r in receivers.values())
    report(
        "deliveries under fire",
        alert_events=events,
        deliveries=total,
        deliveries_received=received,
        distinct_webhook_ids=distinct,
        lost=total - distinct,
        doubled=received - distinct,
        dispatcher_kills=first.kills,
    )
    assert alive
    assert total == 3 * events + tanf
    assert tanf > 0
    for name, receiver in receivers.items():
        expected = tanf if name == "filtered" else events
        assert len(set(receiver.ids)) == expected, name
        assert all(r.payload is not None for r in receiver.received), name
        assert _one_event_per_id(receiver), name
        assert _in_order(receiver), name
    assert len(steady.received) > len(set(steady.ids))  # the killed request was sent again
    assert len(slowpoke.received) > len(set(slowpoke.ids))  # so were the slow answers


async def _tried(url: str, subscription_id: int, attempts: int) -> bool:
    query = "SELECT coalesce(max(attempts), 0) FROM deliveries WHERE subscription_id = $1"
    return await scalar(url, query, subscription_id) >= attempts


async def _all_delivered(url: str, count: int) -> bool:
    return await delivered(url) >= count
