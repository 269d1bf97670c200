"""Dispatchers share deliveries without sending one twice, survive being killed mid-delivery
(the replacement sends the same webhook-id), and never send to a refused address."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections import Counter
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from services.db import create_engine
from services.webhooks.metrics import WebhookMetrics
from services.webhooks.payload import message_id
from services.webhooks.subscriptions import SubscriptionSpec
from tests.conftest import postgresql_only, spawn_drawdown
from tests.servers import local_server
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
    subscribe,
    wait_for,
    webhook_settings,
)

pytestmark = postgresql_only


async def test_two_dispatchers_never_send_a_delivery_twice(
    pg_url: str, engine: AsyncEngine
) -> None:
    receivers = [Receiver() for _ in range(6)]

    async def unhurried(_: Request) -> Response:
        await asyncio.sleep(0.05)
        return Response("ok", 200)

    async with local_server() as server:
        specs = []
        for number, receiver in enumerate(receivers):
            receiver.answers = [unhurried] * 10
            url = receiver.mount(server, f"/hook/{number}")
            specs.append(SubscriptionSpec(f"subscriber {number}", url, receiver.secret))
        await subscribe(engine, *specs)
        for text, source in [
            (AIN_AL_ASAD, "A"),
            (AL_TANF, "A"),
            (QASRAK, "A"),
            (AIN_AL_ASAD_AGAIN, "B"),
        ]:
            await report(engine, text, source)
        # One request per subscription at a time: neither dispatcher can take it all.
        settings = webhook_settings(pg_url, webhook_per_subscription_concurrency=1)
        other_engine = create_engine(settings)
        metrics = [WebhookMetrics(), WebhookMetrics()]
        try:
            async with (
                dispatching(settings, engine, metrics[0]),
                dispatching(settings, other_engine, metrics[1]),
            ):
                await wait_for(lambda: settled(engine, 24))
        finally:
            await other_engine.dispose()
    sent = Counter(webhook_id for receiver in receivers for webhook_id in receiver.ids)
    assert len(sent) == 24
    assert set(sent.values()) == {1}, "a delivery was sent twice"
    assert {d.status for d in await deliveries(engine)} == {"delivered"}
    assert all(r.payload is not None for receiver in receivers for r in receiver.received)
    assert metrics[0].delivered + metrics[1].delivered == 24
    assert metrics[0].delivered, "the other dispatcher did all the work"
    assert metrics[1].delivered, "the other dispatcher did all the work"


def _dispatcher(env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as stderr:
        return spawn_drawdown(
            "dispatch", env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr
        )


async def test_a_dispatcher_killed_mid_delivery_is_replaced_and_the_receiver_can_dedupe(
    pg_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    arrived, release = asyncio.Event(), asyncio.Event()

    async def hold(_: Request) -> Response:
        arrived.set()
        await release.wait()
        return Response("too late", 200)

    receiver = Receiver(answers=[hold])
    log = tmp_path / "dispatch.log"
    async with local_server() as server:
        url = receiver.mount(server)
        sources = tmp_path / "sources.yaml"
        sources.write_text(
            f"subscriptions:\n  - name: slow\n    url: {url}\n    secret: {receiver.secret}\n",
            encoding="utf-8",
        )
        await subscribe(engine, SubscriptionSpec("slow", url, receiver.secret))
        await report(engine, AIN_AL_ASAD)
        env = {
            "DRAWDOWN_DATABASE_URL": pg_url,
            "DRAWDOWN_SOURCES": str(sources),
            "DRAWDOWN_WORKER_PROCESSES": "0",
            "DRAWDOWN_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
            "DRAWDOWN_WEBHOOK_TIMEOUT": "1",
            "DRAWDOWN_WEBHOOK_LEASE": "3",
            "DRAWDOWN_WEBHOOK_POLL_INTERVAL": "0.1",
        }
        first = _dispatcher(env, tmp_path, log)
        try:
            await asyncio.wait_for(arrived.wait(), 30)
            first.send_signal(signal.SIGKILL)  # mid-delivery: the receiver has not answered
            await asyncio.to_thread(first.wait, 10)
            release.set()
            second = _dispatcher(env, tmp_path, log)
            try:
                await wait_for(lambda: settled(engine, 1), timeout=30)
                second.send_signal(signal.SIGTERM)
                assert await asyncio.to_thread(second.wait, 20) == 0, log.read_text()
            finally:
                second.kill()
        finally:
            first.kill()
            release.set()
    (delivery,) = await deliveries(engine)
    assert delivery.status == "delivered"
    assert delivery.attempts == 2  # the killed claim counted
    (attempt,) = await attempts(engine)  # ... but only the second came back
    assert (attempt.number, attempt.status) == (2, 200)
    assert receiver.ids == [message_id(delivery.id)] * 2  # the same id: dedupable
    assert all(r.payload is not None for r in receiver.received)


async def test_private_and_metadata_addresses_are_refused_and_the_delivery_is_dead(
    pg_url: str, engine: AsyncEngine
) -> None:
    secret = Receiver().secret
    await subscribe(
        engine,
        SubscriptionSpec("intranet", "http://10.0.0.1:8080/hook", secret),
        SubscriptionSpec("metadata", "http://169.254.169.254/latest/meta-data/", secret),
    )
    await report(engine, AIN_AL_ASAD)
    metrics = WebhookMetrics()
    async with dispatching(webhook_settings(pg_url), engine, metrics):
        await wait_for(lambda: settled(engine, 2), timeout=5)
    assert [(d.status, d.attempts) for d in await deliveries(engine)] == [("dead", 1)] * 2
    refused = await attempts(engine)
    assert len(refused) == 2
    for attempt in refused:
        assert attempt.status is None
        assert attempt.error is not None
        assert attempt.error.startswith("blocked address")
    assert {a.error for a in refused} == {
        "blocked address: 10.0.0.1 (private)",
        "blocked address: 169.254.169.254 (cloud metadata)",
    }
    assert metrics.blocked == 2
    assert metrics.dead == 2
