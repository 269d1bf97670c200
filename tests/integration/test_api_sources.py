"""Sources over the API: the list with health, and writes that need DRAWDOWN_API_TOKEN."""

from __future__ import annotations

from typing import Any

import httpx

from tests.apikit import TOKEN, api_client, is_problem

FEED = {"name": "Enab Baladi (Arabic)", "url": "https://www.enabbaladi.net/feed", "language": "ar"}
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def _create(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/sources", json=body, headers=AUTH)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/sources/{response.json()['id']}"
    created: dict[str, Any] = response.json()
    return created


async def test_writes_are_refused_while_no_token_is_set(pg_url: str) -> None:
    async with api_client(pg_url, token=None) as (api, _):
        refused = is_problem(await api.post("/sources", json=FEED, headers=AUTH), 401)
        assert "set DRAWDOWN_API_TOKEN" in refused["detail"]
        is_problem(await api.patch("/sources/1", json={"enabled": False}), 401)
        assert (await api.get("/sources")).json() == []


async def test_writes_need_the_bearer_token(pg_url: str) -> None:
    async with api_client(pg_url) as (api, _):
        missing = await api.post("/sources", json=FEED)
        assert is_problem(missing, 401)["detail"].startswith("send Authorization: Bearer")
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = await api.post("/sources", json=FEED, headers={"Authorization": "Bearer nope"})
        is_problem(wrong, 401)
        basic = await api.post("/sources", json=FEED, headers={"Authorization": f"Basic {TOKEN}"})
        is_problem(basic, 401)
        assert (await api.get("/sources")).json() == []

        created = await _create(api, FEED)
        assert created["health"] == "ok"
        assert created["enabled"] is True
        assert created["kind"] == "feed"
        listed = (await api.get("/sources")).json()
        assert [s["url"] for s in listed] == [FEED["url"]]
        assert (await api.get(f"/sources/{created['id']}")).json() == created


async def test_patch_enables_disables_renames_and_sets_the_interval(pg_url: str) -> None:
    async with api_client(pg_url) as (api, _):
        source = await _create(api, {**FEED, "interval": 300})
        path = f"/sources/{source['id']}"
        response = await api.patch(path, json={"enabled": False, "name": "Enab"}, headers=AUTH)
        assert response.status_code == 200, response.text
        assert response.json()["health"] == "disabled"
        assert response.json()["name"] == "Enab"
        assert response.json()["interval"] == 300
        again = (
            await api.patch(path, json={"enabled": True, "interval": None}, headers=AUTH)
        ).json()
        assert again["health"] == "ok"
        assert again["interval"] is None
        assert again["name"] == "Enab"

        is_problem(await api.patch("/sources/999", json={"enabled": True}, headers=AUTH), 404)
        is_problem(await api.patch(path, json={"enabled": None}, headers=AUTH), 422)
        is_problem(await api.patch(path, json={"interval": -5}, headers=AUTH), 422)
        is_problem(await api.patch(path, json={"url": "https://x.example"}, headers=AUTH), 422)


async def test_bad_and_duplicate_sources_are_refused(pg_url: str) -> None:
    async with api_client(pg_url) as (api, _):
        await _create(api, FEED)
        duplicate = is_problem(await api.post("/sources", json=FEED, headers=AUTH), 409)
        assert FEED["url"] in duplicate["detail"]
        bad = await api.post(
            "/sources", json={"name": "x", "url": "ftp://example.org/", "kind": "rss"}, headers=AUTH
        )
        problem = is_problem(bad, 422)
        assert {tuple(e["loc"]) for e in problem["errors"]} == {("body", "url"), ("body", "kind")}
        not_json = await api.post(
            "/sources", content=b"{", headers={**AUTH, "content-type": "application/json"}
        )
        is_problem(not_json, 422)
