"""Apprise notifications: a subscription that names an Apprise URL instead of a webhook
endpoint gets a readable message through the same outbox, retries and address guard,
tested through Apprise's JSON target against a local receiver."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from services.webhooks.subscriptions import SubscriptionSpec
from tests.conftest import drawdown_cli, postgresql_only
from tests.servers import local_server
from tests.webhookkit import (
    AIN_AL_ASAD,
    AIN_AL_ASAD_AGAIN,
    Receiver,
    attempts,
    deliveries,
    dispatching,
    report,
    settled,
    status,
    subscribe,
    wait_for,
    webhook_settings,
)

pytestmark = postgresql_only


def _apprise_url(server_url: str) -> str:
    """Apprise's JSON target for a local receiver: json://127.0.0.1:PORT/hook."""
    return "json://" + server_url.removeprefix("http://")


async def test_a_readable_notification_arrives_through_retries(
    pg_url: str, engine: AsyncEngine
) -> None:
    receiver = Receiver(answers=[status(500)])  # the first try fails: it is retried
    async with local_server() as server:
        target = _apprise_url(receiver.mount(server))
        await subscribe(engine, SubscriptionSpec("desk chat", target))
        await report(engine, AIN_AL_ASAD, source="Outlet A")
        await report(engine, AIN_AL_ASAD_AGAIN, source="Outlet B")
        async with dispatching(webhook_settings(pg_url), engine):
            await wait_for(lambda: settled(engine, 2), timeout=30)
    rows = await deliveries(engine)
    assert [d.status for d in rows] == ["delivered", "delivered"]
    tries = await attempts(engine)
    assert len(tries) == 3
    assert tries[0].status is None
    assert tries[0].error.startswith("apprise: not sent")
    assert [t.status for t in tries[1:]] == [200, 200]
    bodies = [json.loads(r.body) for r in receiver.received[1:]]
    created, updated = sorted(bodies, key=lambda b: "updated" in b["title"])
    assert created["title"] == "New alert: Ain al-Asad — withdrawal, reported"
    assert "“US forces withdrew from Ain al-Asad air base" in created["message"]
    assert "— Outlet A (en)" in created["message"]
    assert "Why: withdrawal cue “withdrew”" in created["message"]
    assert updated["title"] == "Alert updated: Ain al-Asad — withdrawal, corroborated"
    assert "Status: reported → corroborated" in updated["message"]
    assert "2 outlets" in updated["message"]


async def test_a_refused_address_is_dead_at_once_and_nothing_is_sent(
    pg_url: str, engine: AsyncEngine
) -> None:
    receiver = Receiver()
    async with local_server() as server:
        target = _apprise_url(receiver.mount(server))
        await subscribe(engine, SubscriptionSpec("desk chat", target))
        await report(engine, AIN_AL_ASAD)
        # Loopback is not allowed here: the guard decides before Apprise connects.
        settings = webhook_settings(pg_url, webhook_allowed_networks="")
        async with dispatching(settings, engine):
            await wait_for(lambda: settled(engine, 1), timeout=30)
    (delivery,) = await deliveries(engine)
    assert delivery.status == "dead"
    (attempt,) = await attempts(engine)
    assert attempt.error == "blocked address: 127.0.0.1 (loopback)"
    assert receiver.received == []


async def test_ping_sends_a_test_notification(database_url: str, tmp_path: Path) -> None:
    receiver = Receiver()
    async with local_server() as server:
        target = _apprise_url(receiver.mount(server))
        sources = tmp_path / "sources.yaml"
        sources.write_text(
            f"subscriptions:\n  - {{name: chat, apprise: '{target}'}}\n", encoding="utf-8"
        )
        env = {
            "DRAWDOWN_DATABASE_URL": database_url,
            "DRAWDOWN_SOURCES": str(sources),
            "DRAWDOWN_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
        }
        result = await asyncio.to_thread(drawdown_cli, "ping", "chat", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "answer='HTTP 200'" in result.stdout
    # An Apprise subscription is not signed: loading it generates and prints no secret.
    assert "secret" not in result.stdout + result.stderr
    (got,) = receiver.received
    assert json.loads(got.body)["title"] == "Drawdown: test notification"
