"""Sources over the API: the list with health, and writes that need DRAWDOWN_API_TOKEN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from ingest.sources import load_sources
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


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://10.0.0.7/feed", "private"),
        ("http://localhost:5432/", "this machine"),
    ],
)
async def test_sources_at_internal_addresses_are_refused_at_creation(
    pg_url: str, url: str, why: str
) -> None:
    async with api_client(pg_url) as (api, _):
        refused = is_problem(
            await api.post("/sources", json={"name": "x", "url": url}, headers=AUTH), 422
        )
        assert refused["errors"][0]["loc"] == ["body", "url"]
        assert refused["errors"][0]["type"] == "blocked_address"
        assert why in refused["detail"]
        assert "DRAWDOWN_FETCH_ALLOWED_NETWORKS" in refused["detail"]
        assert (await api.get("/sources")).json() == []


async def test_allowed_networks_admit_a_local_source(pg_url: str) -> None:
    async with api_client(pg_url, fetch_allowed_networks="127.0.0.1/32") as (api, _):
        await _create(api, {"name": "local", "url": "http://127.0.0.1:8080/feed"})


async def test_a_reload_leaves_api_sources_alone_and_takes_over_listed_urls(
    pg_url: str, tmp_path: Path
) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        "  - {name: Kept, url: 'https://kept.example/feed'}\n"
        "  - {name: Dropped, url: 'https://dropped.example/feed'}\n",
        encoding="utf-8",
    )
    async with api_client(pg_url) as (api, engine):
        await load_sources(engine, sources)
        mine = await _create(api, FEED)
        claimed = await _create(api, {"name": "Mine", "url": "https://claimed.example/feed"})
        assert (mine["origin"], claimed["origin"]) == ("api", "api")
        sources.write_text(
            "sources:\n"
            "  - {name: Kept, url: 'https://kept.example/feed'}\n"
            "  - {name: Claimed, url: 'https://claimed.example/feed', interval: 900}\n",
            encoding="utf-8",
        )
        report = await load_sources(engine, sources)
        assert report.disabled == 1

        shown = {s["url"]: s for s in (await api.get("/sources")).json()}
        assert shown["https://dropped.example/feed"]["enabled"] is False
        assert shown["https://kept.example/feed"]["enabled"] is True
        assert shown[FEED["url"]] == mine  # the file does not own it: untouched
        taken = shown["https://claimed.example/feed"]
        assert (taken["origin"], taken["name"], taken["interval"]) == ("file", "Claimed", 900)

        sources.write_text(
            "sources:\n  - {name: Kept, url: 'https://kept.example/feed'}\n", encoding="utf-8"
        )
        await load_sources(engine, sources)
        gone = (await api.get(f"/sources/{taken['id']}")).json()
        assert gone["enabled"] is False  # the file's now, so it is the file's to disable
        assert (await api.get(f"/sources/{mine['id']}")).json()["enabled"] is True


async def test_a_source_of_the_file_can_only_be_enabled_or_disabled(
    pg_url: str, tmp_path: Path
) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - {name: Kept, url: 'https://kept.example/feed'}\n", encoding="utf-8"
    )
    async with api_client(pg_url) as (api, engine):
        await load_sources(engine, sources)
        (source,) = (await api.get("/sources")).json()
        path = f"/sources/{source['id']}"
        owned = is_problem(
            await api.patch(path, json={"name": "Renamed", "enabled": False}, headers=AUTH), 409
        )
        assert "sources file" in owned["detail"]
        assert "name" in owned["detail"]
        off = await api.patch(path, json={"enabled": False}, headers=AUTH)
        assert (off.status_code, off.json()["health"]) == (200, "disabled")
        await load_sources(engine, sources)  # the file says enabled
        assert (await api.get(path)).json()["enabled"] is True
        for bad in ("/sources/0", "/sources/2147483648"):
            is_problem(await api.get(bad), 422)
