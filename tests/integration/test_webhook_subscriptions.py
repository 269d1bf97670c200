"""Subscriptions load idempotently from the sources file, filter what they get, and the
operator's commands (deliveries, redeliver, ping, subscriptions) work end to end."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.messages import RawArticle
from ingest.sources import load_subscriptions
from processor import store
from processor.analyze import analyze
from services.db import sessionmaker
from services.models import Delivery, Subscription
from services.webhooks.subscriptions import (
    API,
    GONE,
    SubscriptionSpec,
    new_subscription,
    valid_secret,
)
from tests.conftest import drawdown_cli, postgresql_only
from tests.servers import local_server
from tests.webhookkit import (
    AIN_AL_ASAD,
    AIN_AL_ASAD_AGAIN,
    AL_TANF,
    POLICY,
    Receiver,
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


async def _subscriptions(engine: AsyncEngine) -> dict[str, Subscription]:
    async with sessionmaker(engine)() as session:
        return {s.name: s for s in await session.scalars(select(Subscription))}


async def test_a_generated_secret_is_returned_once_and_kept_and_never_logged(
    engine: AsyncEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "subscriptions:\n"
        "  - name: bridge\n    url: https://hooks.example.org/a\n    places: [qasrak]\n"
        "  - name: given\n    url: https://hooks.example.org/b\n"
        "    secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
        encoding="utf-8",
    )
    caplog.set_level(logging.DEBUG)
    announced = await load_subscriptions(engine, sources)
    first = await _subscriptions(engine)
    assert await load_subscriptions(engine, sources) == {}  # made once, announced once
    second = await _subscriptions(engine)
    generated = first["bridge"].secret
    assert valid_secret(generated)
    assert announced == {"bridge": generated}  # for the command to print on stdout
    assert second["bridge"].secret == generated  # not regenerated
    assert second["given"].secret == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    for secret in (generated, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"):
        assert not [r for r in caplog.records if secret in r.getMessage()]
    assert second["bridge"].places == ["qasrak"]


async def test_a_subscription_leaves_and_returns_with_the_file_but_410_sticks(
    engine: AsyncEngine,
) -> None:
    a = SubscriptionSpec("a", "https://hooks.example.org/a")
    b = SubscriptionSpec("b", "https://hooks.example.org/b")
    await subscribe(engine, a, b)
    await subscribe(engine, a)
    rows = await _subscriptions(engine)
    assert rows["a"].active
    assert not rows["b"].active
    assert rows["b"].disabled_reason is not None
    assert rows["b"].disabled_reason.startswith("removed")
    async with sessionmaker(engine).begin() as session:
        await session.execute(
            update(Subscription)
            .where(Subscription.name == "a")
            .values(active=False, disabled_reason=f"{GONE} the endpoint answered 410")
        )
    await subscribe(engine, a, b)
    rows = await _subscriptions(engine)
    assert rows["b"].active
    assert rows["b"].disabled_reason is None
    assert not rows["a"].active  # an endpoint that said 410 is not re-enabled by a reload


async def test_a_reload_deactivates_only_the_files_subscriptions(engine: AsyncEngine) -> None:
    listed = SubscriptionSpec("listed", "https://hooks.example.org/listed")
    dropped = SubscriptionSpec("dropped", "https://hooks.example.org/dropped")
    await subscribe(engine, listed, dropped)
    made = SubscriptionSpec("made", "https://hooks.example.org/made", places=("qasrak",))
    async with sessionmaker(engine).begin() as session:
        session.add(new_subscription(made, API))
    await subscribe(engine, listed)
    rows = await _subscriptions(engine)
    assert (rows["listed"].active, rows["dropped"].active) == (True, False)
    assert (rows["made"].active, rows["made"].origin) == (True, "api")

    secret = rows["made"].secret
    await subscribe(engine, listed, SubscriptionSpec("made", "https://hooks.example.org/made"))
    rows = await _subscriptions(engine)
    assert (rows["made"].origin, rows["made"].places) == ("file", [])  # the file took it
    assert rows["made"].secret == secret  # no secret in the file: the stored one stays
    await subscribe(engine, listed)
    assert not (await _subscriptions(engine))["made"].active  # and deactivates it now


async def test_filters_pick_the_subscriptions_an_alert_goes_to(engine: AsyncEngine) -> None:
    ids = await subscribe(
        engine,
        SubscriptionSpec("everything", "https://h.example/1"),
        SubscriptionSpec("ain al-asad", "https://h.example/2", places=("ain-al-asad",)),
        SubscriptionSpec("syria", "https://h.example/3", countries=("syria",)),
        SubscriptionSpec(
            "iraq withdrawals", "https://h.example/4", countries=("iraq",), kinds=("withdrawal",)
        ),
        SubscriptionSpec("arabic", "https://h.example/5", languages=("ar",)),
        SubscriptionSpec("sure", "https://h.example/6", min_confidence=0.95),
        SubscriptionSpec("corroborated", "https://h.example/7", min_status="corroborated"),
    )
    names = {v: k for k, v in ids.items()}
    await report(engine, AIN_AL_ASAD, "Outlet A")  # iraq, en, reported
    await report(engine, AL_TANF, "Outlet A")  # syria
    await report(engine, AIN_AL_ASAD_AGAIN, "Outlet B")  # ain al-asad corroborated
    got: dict[str, list[int]] = {}
    for delivery in await deliveries(engine):
        got.setdefault(names[delivery.subscription_id], []).append(delivery.event_id)
    events = sorted({e for es in got.values() for e in es})
    created_asad, created_tanf, updated_asad = events
    assert got == {
        "everything": [created_asad, created_tanf, updated_asad],
        "ain al-asad": [created_asad, updated_asad],
        "syria": [created_tanf],
        "iraq withdrawals": [created_asad, updated_asad],
        "corroborated": [updated_asad],
    }


async def test_deliveries_redeliver_ping_and_subscriptions_commands(
    pg_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    receiver = Receiver(answers=[status(500, "broken")])
    async with local_server() as server:
        url = receiver.mount(server)
        sources = tmp_path / "sources.yaml"
        sources.write_text(
            f"subscriptions:\n  - name: ops\n    url: {url}\n    secret: {receiver.secret}\n",
            encoding="utf-8",
        )
        await load_subscriptions(engine, sources)
        await report(engine, AIN_AL_ASAD)
        settings = webhook_settings(
            pg_url, webhook_retry_horizon=0.01
        )  # the first failure is final
        async with dispatching(settings, engine):
            await wait_for(lambda: settled(engine, 1))
        env = {
            "DRAWDOWN_DATABASE_URL": pg_url,
            "DRAWDOWN_SOURCES": str(sources),
            "DRAWDOWN_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
        }

        async def cli(*args: str) -> tuple[int, str]:
            done = await asyncio.to_thread(drawdown_cli, *args, env=env, cwd=tmp_path, timeout=60)
            return done.returncode, done.stdout

        code, out = await cli("deliveries", "--status", "dead", "--json")
        assert code == 0
        (dead,) = [json.loads(line) for line in out.splitlines()]
        assert (dead["subscription"], dead["place"], dead["status"]) == (
            "ops",
            "ain-al-asad",
            "dead",
        )
        assert dead["tries"][0]["status"] == 500
        assert dead["tries"][0]["response"] == "broken"
        assert receiver.secret not in out

        code, out = await cli("redeliver", "--dead", "--subscription", "ops")
        assert (code, out.splitlines()[0]) == (0, "requeued 1 deliveries")
        (delivery,) = await deliveries(engine)
        assert delivery.status == "pending"
        async with dispatching(webhook_settings(pg_url), engine):
            await wait_for(lambda: settled(engine, 1))
        (delivery,) = await deliveries(engine)
        assert delivery.status == "delivered"
        assert len(receiver.received) == 2
        assert len(set(receiver.ids)) == 1

        code, out = await cli("ping", "ops")
        assert code == 0, out
        assert "answer='HTTP 200'" in out
        ping = receiver.received[-1]
        assert ping.payload is not None
        assert ping.payload["type"] == "webhook.test"

        code, out = await cli("subscriptions", "--json")
        (shown,) = [json.loads(line) for line in out.splitlines()]
        assert shown["deliveries"]["delivered"] == 1
        assert "secret" not in shown
        assert shown["origin"] == "file"
        assert receiver.secret not in out


async def test_deliveries_commit_and_roll_back_with_the_alert(engine: AsyncEngine) -> None:
    await subscribe(engine, SubscriptionSpec("all", "https://h.example/1"))
    raw = RawArticle(text=AIN_AL_ASAD, title="", source="A")

    async def crash_before_commit() -> None:
        async with sessionmaker(engine).begin() as session:
            await store.save(session, raw, analyze("", AIN_AL_ASAD), POLICY)
            assert await session.scalar(select(Delivery.id)) is not None
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        await crash_before_commit()
    assert await deliveries(engine) == []
