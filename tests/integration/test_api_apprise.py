"""Apprise subscriptions made over the API: a body names a webhook ``url`` or an
``apprise`` URL; an Apprise one has no secret, is shown only to token holders (masked),
and its deliveries go through the dispatcher's outbox and address guard to a real
receiver (Apprise's JSON target, ``json://127.0.0.1:PORT/hook``)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db import sessionmaker
from services.models import Subscription
from services.webhooks.subscriptions import NO_SECRET, valid_secret
from tests.apikit import TOKEN, api_client, is_problem
from tests.servers import local_server
from tests.webhookkit import (
    AIN_AL_ASAD,
    Receiver,
    deliveries,
    dispatching,
    report,
    settled,
    wait_for,
    webhook_settings,
)

AUTH = {"Authorization": f"Bearer {TOKEN}"}
LOOPBACK = {"webhook_allowed_networks": "127.0.0.1/32"}
SLACK_TOKENS = ("T1JJ3T3L2", "A1BRTD4JD", "TIiajkdnlazkcOXrIdevi7FQ")
SLACK = "slack://" + "/".join(SLACK_TOKENS)
HOOK = "https://hooks.example.org/drawdown"
ARTICLE = "https://news.example.org/2026/ain-al-asad-withdrawal"
DEADLINE = 30.0  # seconds; met within well under one normally


def _apprise_url(server_url: str) -> str:
    return "json://" + server_url.removeprefix("http://")


async def _create(http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/subscriptions", json=body, headers=AUTH)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _stored_secret(engine: AsyncEngine, subscription_id: int) -> str:
    async with sessionmaker(engine)() as session:
        secret = await session.scalar(
            select(Subscription.secret).where(Subscription.id == subscription_id)
        )
    assert secret is not None
    return secret


async def test_an_apprise_subscription_made_over_the_api_gets_a_readable_message(
    pg_url: str,
) -> None:
    receiver = Receiver()
    async with local_server() as server, api_client(pg_url, **LOOPBACK) as (http, engine):
        target = _apprise_url(receiver.mount(server))
        created = await _create(
            http, {"name": "desk chat", "apprise": target, "places": ["ain-al-asad"]}
        )
        assert created["kind"] == "apprise"
        assert created["secret"] is None  # not signed: nothing generated
        assert created["url"] == target  # a JSON target has no token to mask
        assert created["host"] == "json"
        assert await _stored_secret(engine, created["id"]) == NO_SECRET

        ping = await http.post(f"/subscriptions/{created['id']}/ping", headers=AUTH)
        assert ping.json()["delivered"] is True, ping.text
        (test_message,) = receiver.received
        assert json.loads(test_message.body)["title"] == "Drawdown: test notification"

        await report(engine, AIN_AL_ASAD, source="Outlet A", url=ARTICLE)
        async with dispatching(webhook_settings(pg_url), engine):
            await wait_for(lambda: settled(engine, 1), DEADLINE)
        page = await http.get("/deliveries", params={"subscription": created["id"]})
        (delivery,) = page.json()["items"]
        assert (delivery["status"], delivery["place"]) == ("delivered", "ain-al-asad")

    notification = json.loads(receiver.received[-1].body)
    assert notification["title"] == "New alert: Ain al-Asad — withdrawal, reported"
    assert AIN_AL_ASAD in notification["message"]  # the evidence sentence as written
    assert "Outlet A" in notification["message"]
    assert ARTICLE in notification["message"]  # the link
    assert "webhook-signature" not in receiver.received[-1].headers


async def test_the_address_guard_holds_for_an_api_made_apprise_subscription(
    pg_url: str,
) -> None:
    receiver = Receiver()
    async with local_server() as server, api_client(pg_url) as (http, engine):
        target = _apprise_url(receiver.mount(server))
        created = await _create(http, {"name": "desk chat", "apprise": target})
        ping = await http.post(f"/subscriptions/{created['id']}/ping", headers=AUTH)
        assert ping.json()["blocked"] is True, ping.text
        await report(engine, AIN_AL_ASAD)
        settings = webhook_settings(pg_url, webhook_allowed_networks="")
        async with dispatching(settings, engine):
            await wait_for(lambda: settled(engine, 1), DEADLINE)
    (delivery,) = await deliveries(engine)
    assert delivery.status == "dead"
    assert receiver.received == []


async def test_only_token_holders_see_an_apprise_url_and_never_its_token(pg_url: str) -> None:
    async with api_client(pg_url) as (http, _):
        created = await _create(http, {"name": "slack", "apprise": SLACK})
        path = f"/subscriptions/{created['id']}"
        for anyone in (await http.get("/subscriptions"), await http.get(path)):
            assert anyone.status_code == 200, anyone.text
            shown = anyone.json()["items"][0] if "items" in anyone.json() else anyone.json()
            assert (shown["kind"], shown["url"], shown["host"]) == ("apprise", None, "slack")
            assert not [t for t in SLACK_TOKENS if t.lower() in anyone.text.lower()]
        listed = (await http.get("/subscriptions", headers=AUTH)).json()["items"]
        for holder in (*listed, created):
            text = json.dumps(holder)
            assert "slack://" in text  # the kind of service, its tokens masked
            assert not [t for t in SLACK_TOKENS if t in text]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({}, ("body",)),
        ({"url": HOOK, "apprise": SLACK}, ("body",)),
        ({"apprise": SLACK, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, ("body",)),
        ({"apprise": "nonsense://x"}, ("body", "apprise")),
        ({"apprise": HOOK}, ("body", "apprise")),
        ({"apprise": None}, ("body", "apprise")),
    ],
)
async def test_a_body_names_a_webhook_or_an_apprise_url(
    pg_url: str, body: dict[str, Any], where: tuple[str, ...]
) -> None:
    async with api_client(pg_url) as (http, _):
        response = await http.post("/subscriptions", json={"name": "a"} | body, headers=AUTH)
        problem = is_problem(response, 422)
        assert [tuple(e["loc"]) for e in problem["errors"]] == [where], problem
        assert "url" in problem["detail"] or "apprise" in problem["detail"].lower()
        assert (await http.get("/subscriptions")).json()["items"] == []


async def test_patch_turns_a_webhook_into_an_apprise_subscription_and_back(
    pg_url: str,
) -> None:
    async with local_server() as server, api_client(pg_url, **LOOPBACK) as (http, engine):
        created = await _create(http, {"name": "desk", "url": HOOK})
        first_secret = created["secret"]
        path = f"/subscriptions/{created['id']}"
        both = await http.patch(path, json={"url": HOOK, "apprise": SLACK}, headers=AUTH)
        assert [e["loc"] for e in is_problem(both, 422)["errors"]] == [["body"]]

        moved = await http.patch(path, json={"apprise": SLACK}, headers=AUTH)
        assert moved.status_code == 200, moved.text
        assert (moved.json()["kind"], moved.json()["secret"]) == ("apprise", None)
        assert await _stored_secret(engine, created["id"]) == NO_SECRET
        is_problem(await http.post(f"{path}/rotate-secret", headers=AUTH), 409)

        receiver = Receiver()
        back = await http.patch(path, json={"url": receiver.mount(server)}, headers=AUTH)
        assert back.status_code == 200, back.text
        secret = back.json()["secret"]  # a webhook is signed again: a new secret, this once
        assert valid_secret(secret)
        assert secret != first_secret
        receiver.secret = secret
        await http.post(f"{path}/ping", headers=AUTH)
        assert receiver.received[-1].payload is not None  # signed with it
        again = await http.patch(path, json={"description": "night desk"}, headers=AUTH)
        assert again.json()["secret"] is None
        assert secret not in (await http.get(path, headers=AUTH)).text
