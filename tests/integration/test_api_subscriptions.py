"""Subscriptions and deliveries over the API: made, listed, edited, pinged and redelivered
through HTTP, with deliveries reaching a real signature-verifying receiver."""

from __future__ import annotations

import base64
import typing
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.sources import load_subscriptions
from processor.routing import MIN_STATUSES
from services.api.app import create_app
from services.api.pagination import Cursor, encode
from services.api.vocabulary import DeliveryStatus, MinStatus, Origin
from services.db import create_engine, migrate, sessionmaker
from services.models import Subscription
from services.settings import Settings
from services.webhooks.commands import STATUSES
from services.webhooks.subscriptions import GONE, ORIGINS, valid_secret
from tests.apikit import TOKEN, client, is_problem
from tests.servers import local_server
from tests.webhookkit import (
    AIN_AL_ASAD,
    AL_TANF,
    QASRAK,
    Receiver,
    dispatching,
    report,
    settled,
    status,
    wait_for,
    webhook_settings,
)

AUTH = {"Authorization": f"Bearer {TOKEN}"}
HOOK = {"name": "newsroom", "url": "https://hooks.example.org/drawdown"}
DEADLINE = 30.0  # seconds to wait for a condition; met within well under one normally


@asynccontextmanager
async def api(database_url: str, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app with the token set and receivers on 127.0.0.1 allowed."""
    settings = webhook_settings(database_url, **({"api_token": TOKEN} | overrides))
    engine = create_engine(settings)
    try:
        async with client(create_app(settings, engine)) as http:
            yield http
    finally:
        await engine.dispose()


@pytest.fixture
async def migrated(database_url: str) -> str:
    """``database_url``, migrated (PostgreSQL copies come migrated; SQLite files do not)."""
    if database_url.startswith("sqlite"):
        engine = create_engine(Settings(database_url=database_url))
        await migrate(engine)
        await engine.dispose()
    return database_url


@pytest.fixture
async def engine(migrated: str) -> AsyncIterator[AsyncEngine]:
    """An engine on ``migrated``: PostgreSQL, then SQLite."""
    engine = create_engine(webhook_settings(migrated))
    yield engine
    await engine.dispose()


@pytest.fixture
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(webhook_settings(pg_url))
    yield engine
    await engine.dispose()


async def _create(http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/subscriptions", json=body, headers=AUTH)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/subscriptions/{created['id']}"
    return created


def test_vocabularies_match_the_webhooks() -> None:
    assert typing.get_args(MinStatus) == MIN_STATUSES
    assert typing.get_args(DeliveryStatus) == STATUSES
    assert typing.get_args(Origin) == ORIGINS


async def test_made_listed_edited_pinged_and_delivered(migrated: str, engine: AsyncEngine) -> None:
    receiver = Receiver()
    async with local_server() as server, api(migrated) as http:
        body = {
            "name": "newsroom",
            "url": receiver.mount(server),
            "places": ["ain-al-asad", "qasrak"],
            "kinds": ["withdrawal"],
            "languages": ["en", "en"],
            "min_status": "reported",
        }
        created = await _create(http, body)
        secret = created.pop("secret")
        assert valid_secret(secret)
        receiver.secret = secret
        assert created["origin"] == "api"
        assert created["active"] is True
        assert created["languages"] == ["en"]
        assert created["deliveries"] == {"pending": 0, "delivered": 0, "dead": 0, "cancelled": 0}

        listed = await http.get("/subscriptions", headers=AUTH)
        assert listed.json() == {"items": [created], "next": None}
        path = f"/subscriptions/{created['id']}"
        got = await http.get(path, headers=AUTH)
        assert got.json() == created
        for answer in (listed, got):
            assert secret not in answer.text
            assert secret.removeprefix("whsec_") not in answer.text

        edited = await http.patch(
            path, json={"description": "night desk", "min_confidence": 0.5}, headers=AUTH
        )
        assert edited.status_code == 200, edited.text
        assert (edited.json()["description"], edited.json()["min_confidence"]) == (
            "night desk",
            0.5,
        )
        assert edited.json()["places"] == ["ain-al-asad", "qasrak"]  # untouched

        ping = await http.post(f"{path}/ping", headers=AUTH)
        assert ping.status_code == 200, ping.text
        assert ping.json()["delivered"] is True
        assert ping.json()["status"] == 200
        assert ping.json()["response"] == "thanks"
        (test_event,) = receiver.received
        assert test_event.payload is not None, "the ping's signature did not verify"
        assert test_event.payload["type"] == "webhook.test"
        assert test_event.payload["data"] == {"subscription": "newsroom"}
        assert test_event.headers["webhook-id"] == ping.json()["webhook_id"]

        await report(engine, AL_TANF)  # not one of its places: no delivery
        await report(engine, AIN_AL_ASAD)
        async with dispatching(webhook_settings(migrated), engine):
            await wait_for(lambda: settled(engine, 1), DEADLINE)

        page = (await http.get("/deliveries", params={"subscription": created["id"]})).json()
        (delivery,) = page["items"]
        assert (delivery["status"], delivery["place"], delivery["type"]) == (
            "delivered",
            "ain-al-asad",
            "alert.created",
        )
        assert "tries" not in delivery
        detail = (await http.get(f"/deliveries/{delivery['id']}")).json()
        (attempt,) = detail.pop("tries")
        assert detail == delivery
        assert (attempt["number"], attempt["status"], attempt["error"]) == (1, 200, None)
        assert attempt["latency_ms"] >= 0
        alert_event = receiver.received[-1]
        assert alert_event.payload is not None
        assert alert_event.headers["webhook-id"] == delivery["webhook_id"]
        assert alert_event.payload["data"]["alert"]["id"] == delivery["alert_id"]
        counts = (await http.get(path)).json()["deliveries"]
        assert counts == {"pending": 0, "delivered": 1, "dead": 0, "cancelled": 0}


async def test_a_dead_delivery_is_redelivered_over_the_api(
    pg_url: str, pg_engine: AsyncEngine
) -> None:
    engine = pg_engine
    receiver = Receiver(answers=[status(500, "broken"), status(500, "broken")])
    async with local_server() as server, api(pg_url) as http:
        created = await _create(http, {"name": "ops", "url": receiver.mount(server)})
        receiver.secret = created["secret"]
        await report(engine, AIN_AL_ASAD)
        await report(engine, QASRAK)
        failing = webhook_settings(
            pg_url, webhook_retry_horizon=0.01, webhook_breaker_threshold=100
        )  # the first failure is final
        async with dispatching(failing, engine):
            await wait_for(lambda: settled(engine, 2), DEADLINE)

        dead = (await http.get("/deliveries", params={"status": "dead"})).json()["items"]
        assert len(dead) == 2
        first, second = dead
        detail = (await http.get(f"/deliveries/{first['id']}")).json()
        assert [(t["status"], t["response"]) for t in detail["tries"]] == [(500, "broken")]
        assert detail["last_error"] == "HTTP 500"

        again = await http.post(f"/deliveries/{first['id']}/redeliver", headers=AUTH)
        assert again.status_code == 200, again.text
        assert again.json()["status"] == "pending"
        assert again.json()["webhook_id"] == first["webhook_id"]
        busy = is_problem(
            await http.post(f"/deliveries/{first['id']}/redeliver", headers=AUTH), 409
        )
        assert "pending" in busy["detail"]

        bulk = await http.post(f"/subscriptions/{created['id']}/redeliver", headers=AUTH)
        assert bulk.json() == {"requeued": 1, "held": 0}
        async with dispatching(webhook_settings(pg_url), engine):
            await wait_for(lambda: settled(engine, 2), DEADLINE)

        delivered = (await http.get("/deliveries", params={"status": "delivered"})).json()
        assert {d["id"] for d in delivered["items"]} == {first["id"], second["id"]}
        assert sorted(receiver.ids) == sorted([first["webhook_id"], second["webhook_id"]] * 2)
        assert all(r.payload is not None for r in receiver.received)
        history = (await http.get(f"/deliveries/{first['id']}")).json()["tries"]
        assert [t["status"] for t in history] == [500, 200]
        missing = is_problem(
            await http.post(f"/deliveries/{uuid.uuid4()}/redeliver", headers=AUTH), 404
        )
        assert "no delivery" in missing["detail"]


async def test_a_failing_endpoint_pings_false_and_a_blocked_one_says_so(pg_url: str) -> None:
    receiver = Receiver(answers=[status(503, "down")])
    async with local_server() as server, api(pg_url) as http:
        created = await _create(http, {"name": "down", "url": receiver.mount(server)})
        ping = (await http.post(f"/subscriptions/{created['id']}/ping", headers=AUTH)).json()
        assert (ping["delivered"], ping["status"], ping["response"]) == (False, 503, "down")
        unchanged = (await http.get(f"/subscriptions/{created['id']}")).json()
        assert unchanged["active"] is True
        assert unchanged["consecutive_failures"] == 0  # a ping records nothing
    async with api(pg_url, webhook_allowed_networks="") as http:
        local = await _create(http, {"name": "local", "url": "http://127.0.0.1:9/hook"})
        ping = (await http.post(f"/subscriptions/{local['id']}/ping", headers=AUTH)).json()
        assert ping["blocked"] is True
        assert ping["status"] is None
        assert "blocked address" in ping["error"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/subscriptions", HOOK),
        ("PATCH", "/subscriptions/1", {"active": False}),
        ("DELETE", "/subscriptions/1", None),
        ("POST", "/subscriptions/1/ping", None),
        ("POST", "/subscriptions/1/rotate-secret", None),
        ("POST", "/subscriptions/1/redeliver", None),
        ("POST", f"/deliveries/{uuid.UUID(int=1)}/redeliver", None),
    ],
)
async def test_every_write_needs_the_token(
    pg_url: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    async with api(pg_url) as http:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {TOKEN}"}):
            response = await http.request(method, path, json=body, headers=headers)
            is_problem(response, 401)
        assert (await http.get("/subscriptions")).json()["items"] == []
    async with api(pg_url, api_token=None) as http:
        refused = is_problem(await http.request(method, path, json=body, headers=AUTH), 401)
        assert "set DRAWDOWN_API_TOKEN" in refused["detail"]


async def test_unknown_ids_are_404_and_malformed_ones_422(pg_url: str) -> None:
    async with api(pg_url) as http:
        for method, path in [
            ("GET", "/subscriptions/7"),
            ("PATCH", "/subscriptions/7"),
            ("DELETE", "/subscriptions/7"),
            ("POST", "/subscriptions/7/ping"),
            ("POST", "/subscriptions/7/rotate-secret"),
            ("POST", "/subscriptions/7/redeliver"),
        ]:
            body = {"active": True} if method == "PATCH" else None
            missing = is_problem(await http.request(method, path, json=body, headers=AUTH), 404)
            assert missing["detail"] == "no subscription 7"
        is_problem(await http.get(f"/deliveries/{uuid.uuid4()}"), 404)
        for path in ("/subscriptions/0", "/subscriptions/2147483648", "/subscriptions/x"):
            is_problem(await http.get(path), 422)
        is_problem(await http.get("/deliveries/not-a-uuid"), 422)
        for params in ({"status": "lost"}, {"type": "alert.deleted"}, {"subscription": "0"}):
            is_problem(await http.get("/deliveries", params=params), 422)
        is_problem(await http.get("/subscriptions", params={"origin": "cli"}), 422)


SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"places": ["ain-al-asd"]}, ("body", "places")),
        ({"countries": ["lebanon"]}, ("body", "countries")),
        ({"kinds": ["retreat"]}, ("body", "kinds", "0")),
        ({"languages": ["Arabic"]}, ("body", "languages", "0")),
        ({"min_status": "disputed"}, ("body", "min_status")),
        ({"min_confidence": 1.5}, ("body", "min_confidence")),
        ({"min_confidence": True}, ("body", "min_confidence")),
        ({"url": "ftp://hooks.example.org/"}, ("body", "url")),
        ({"url": "https://hooks.example.org:99999/"}, ("body", "url")),
        ({"secret": "whsec_hunter2"}, ("body", "secret")),
        ({"name": ""}, ("body", "name")),
        ({"name": "a\x00b"}, ("body", "name")),
        ({"colour": "red"}, ("body", "colour")),
    ],
)
async def test_bad_bodies_are_422_naming_the_field(
    pg_url: str, change: dict[str, Any], where: tuple[Any, ...]
) -> None:
    async with api(pg_url) as http:
        response = await http.post("/subscriptions", json=HOOK | change, headers=AUTH)
        problem = is_problem(response, 422)
        assert [tuple(e["loc"]) for e in problem["errors"]] == [where], problem
        assert "hunter2" not in response.text  # a secret is never echoed
        assert (await http.get("/subscriptions")).json()["items"] == []


async def test_a_given_secret_is_kept_and_rotation_replaces_it(migrated: str) -> None:
    receiver = Receiver(secret=SECRET)
    async with local_server() as server, api(migrated) as http:
        created = await _create(
            http, {"name": "given", "url": receiver.mount(server), "secret": SECRET}
        )
        assert created["secret"] == SECRET
        path = f"/subscriptions/{created['id']}"
        rotated = await http.post(f"{path}/rotate-secret", headers=AUTH)
        assert rotated.status_code == 200, rotated.text
        fresh = rotated.json()["secret"]
        assert valid_secret(fresh)
        assert fresh != SECRET
        await http.post(f"{path}/ping", headers=AUTH)
        assert receiver.received[-1].payload is None  # signed with the new secret
        receiver.secret = fresh
        await http.post(f"{path}/ping", headers=AUTH)
        assert receiver.received[-1].payload is not None


async def test_patch_resets_filters_moves_the_url_and_reactivates(
    pg_url: str, pg_engine: AsyncEngine
) -> None:
    engine = pg_engine
    async with api(pg_url) as http:
        created = await _create(
            http, HOOK | {"places": ["qasrak"], "min_status": "confirmed", "description": "x"}
        )
        path = f"/subscriptions/{created['id']}"
        reset = await http.patch(
            path,
            json={"places": None, "min_status": None, "description": None, "min_confidence": None},
            headers=AUTH,
        )
        assert reset.status_code == 200, reset.text
        assert (reset.json()["places"], reset.json()["min_status"]) == ([], None)
        assert (reset.json()["description"], reset.json()["min_confidence"]) == (None, 0.0)
        for bad in ({"active": None}, {"url": None}, {"url": "mailto:x@y.example"}, {"id": 2}):
            is_problem(await http.patch(path, json=bad, headers=AUTH), 422)

        async with sessionmaker(engine).begin() as session:  # its endpoint answered 410
            await session.execute(
                update(Subscription).values(
                    active=False,
                    disabled_reason=f"{GONE} the endpoint answered 410",
                    consecutive_failures=3,
                )
            )
        moved = await http.patch(
            path, json={"url": "https://hooks.example.org/v2", "active": True}, headers=AUTH
        )
        assert moved.status_code == 200, moved.text
        shown = moved.json()
        assert (shown["url"], shown["active"], shown["disabled_reason"]) == (
            "https://hooks.example.org/v2",
            True,
            None,
        )
        assert shown["consecutive_failures"] == 0

        taken = is_problem(await http.post("/subscriptions", json=HOOK, headers=AUTH), 409)
        assert "newsroom" in taken["detail"]


async def test_delete_deactivates_and_keeps_the_subscription(migrated: str) -> None:
    async with api(migrated) as http:
        created = await _create(http, HOOK)
        path = f"/subscriptions/{created['id']}"
        deleted = await http.delete(path, headers=AUTH)
        assert (deleted.status_code, deleted.content) == (204, b"")
        kept = (await http.get(path)).json()
        assert (kept["active"], kept["disabled_reason"]) == (False, "disabled: through the API")
        assert (await http.delete(path, headers=AUTH)).status_code == 204  # idempotent
        inactive = await http.get("/subscriptions", params={"active": "false"})
        assert [s["id"] for s in inactive.json()["items"]] == [created["id"]]
        assert (await http.get("/subscriptions", params={"active": "true"})).json()["items"] == []
        back = (await http.patch(path, json={"active": True}, headers=AUTH)).json()
        assert (back["active"], back["disabled_reason"]) == (True, None)


async def test_the_files_subscriptions_follow_the_file(
    pg_url: str, pg_engine: AsyncEngine, tmp_path: Path
) -> None:
    engine = pg_engine
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "subscriptions:\n  - name: from file\n    url: https://hooks.example.org/file\n",
        encoding="utf-8",
    )
    await load_subscriptions(engine, sources)
    async with api(pg_url) as http:
        made = await _create(http, HOOK)
        (listed,) = (await http.get("/subscriptions", params={"origin": "file"})).json()["items"]
        path = f"/subscriptions/{listed['id']}"
        owned = is_problem(
            await http.patch(path, json={"places": ["qasrak"], "active": False}, headers=AUTH),
            409,
        )
        assert "sources file" in owned["detail"]
        assert "places" in owned["detail"]
        is_problem(await http.delete(path, headers=AUTH), 409)
        is_problem(await http.post(f"{path}/rotate-secret", headers=AUTH), 409)
        paused = (await http.patch(path, json={"active": False}, headers=AUTH)).json()
        assert paused["active"] is False

        sources.write_text("subscriptions: []\n", encoding="utf-8")
        await load_subscriptions(engine, sources)
        mine = (await http.get(f"/subscriptions/{made['id']}")).json()
        assert mine["active"] is True  # the file does not own it

        sources.write_text(
            f"subscriptions:\n  - name: from file\n    url: https://hooks.example.org/file\n"
            f"  - name: {HOOK['name']}\n    url: {HOOK['url']}\n    places: [qasrak]\n",
            encoding="utf-8",
        )
        await load_subscriptions(engine, sources)
        theirs = (await http.get(path)).json()
        assert theirs["active"] is True  # listed again: active as the file says
        taken_over = (await http.get(f"/subscriptions/{made['id']}")).json()
        assert (taken_over["origin"], taken_over["places"]) == ("file", ["qasrak"])


async def test_pages_hold_every_subscription_and_delivery_once(
    migrated: str, engine: AsyncEngine
) -> None:
    async with api(migrated) as http:
        made = [
            (await _create(http, {"name": f"s{i}", "url": f"https://h{i}.example/"}))["id"]
            for i in range(7)
        ]
        seen: list[int] = []
        cursor, pages = None, 0
        while True:
            params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
            page = (await http.get("/subscriptions", params=params)).json()
            seen += [s["id"] for s in page["items"]]
            pages += 1
            cursor = page["next"]
            if cursor is None:
                break
        assert (pages, seen) == (3, made[::-1])  # newest first, none twice, none missed

        for text in (AIN_AL_ASAD, AL_TANF, QASRAK):  # 3 alerts x 7 subscriptions
            await report(engine, text)
        everything = (await http.get("/deliveries", params={"limit": 200})).json()["items"]
        assert len(everything) == 21
        walked: list[str] = []
        cursor = None
        while True:
            params = {"limit": 4} | ({"cursor": cursor} if cursor else {})
            page = (await http.get("/deliveries", params=params)).json()
            walked += [d["id"] for d in page["items"]]
            cursor = page["next"]
            if cursor is None:
                break
        assert walked == [d["id"] for d in everything]
        assert len(set(walked)) == 21
        one = (await http.get("/deliveries", params={"subscription": made[0]})).json()["items"]
        assert [d["subscription_id"] for d in one] == [made[0]] * 3
        alert = one[0]["alert_id"]
        by_alert = (await http.get("/deliveries", params={"alert": alert})).json()["items"]
        assert {d["alert_id"] for d in by_alert} == {alert}
        assert len(by_alert) == 7
        created = await http.get("/deliveries", params={"type": "alert.created", "limit": 1})
        assert created.json()["items"][0]["type"] == "alert.created"

        is_problem(await http.get("/subscriptions", params={"cursor": "nonsense"}), 400)
        forged = encode(Cursor(datetime.now(UTC), uuid.uuid4()))  # not an integer id
        is_problem(await http.get("/subscriptions", params={"cursor": forged}), 400)
        is_problem(await http.get("/deliveries", params={"cursor": "nonsense"}), 400)
