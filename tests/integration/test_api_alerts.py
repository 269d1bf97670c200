"""GET /alerts and /alerts/{id} over the replayed seeds: filters, cursor pages, detail,
problem bodies."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from processor.gazetteer import gazetteer
from services.db import create_engine, sessionmaker
from services.models import AlertEvent
from services.settings import Settings
from tests.apikit import api_client, is_problem, seeded
from tests.conftest import Template


@pytest.fixture(scope="module")
async def api(pg_template: Template) -> AsyncIterator[httpx.AsyncClient]:
    database = await seeded(pg_template)
    async with api_client(database.url) as (http, _):
        yield http


async def _items(api: httpx.AsyncClient, query: str) -> list[dict[str, Any]]:
    response = await api.get(f"/alerts?{query}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next"] is None
    items: list[dict[str, Any]] = body["items"]
    return items


async def test_place_and_kind_filter_finds_the_corroborated_qasrak_withdrawal(
    api: httpx.AsyncClient,
) -> None:
    (alert,) = await _items(api, "place=qasrak&kind=withdrawal&limit=200")
    assert alert["place"] == "qasrak"
    assert alert["country"] == "syria"
    assert alert["kind"] == "withdrawal"
    assert alert["status"] == "corroborated"
    assert set(alert["languages"]) == {"en", "ru"}
    assert len(alert["outlets"]) == 2
    assert alert["article_count"] == 2


async def test_country_filter_keeps_to_the_countrys_places(api: httpx.AsyncClient) -> None:
    iraqi = {p.id for p in gazetteer().places if p.country == "iraq"}
    items = await _items(api, "country=iraq&limit=200")
    assert {a["place"] for a in items} >= {"ain-al-asad", "iraq"}
    assert {a["place"] for a in items} <= iraqi
    assert all(a["country"] == "iraq" for a in items)
    everything = await _items(api, "limit=200")
    assert len(everything) > len(items)


async def test_status_language_and_repeated_filters(api: httpx.AsyncClient) -> None:
    corroborated = await _items(api, "status=corroborated&limit=200")
    assert corroborated
    assert all(a["status"] == "corroborated" for a in corroborated)
    assert ("qasrak", "withdrawal") in {(a["place"], a["kind"]) for a in corroborated}
    reported = await _items(api, "status=reported&limit=200")
    assert ("qasrak", "withdrawal") not in {(a["place"], a["kind"]) for a in reported}
    either = await _items(api, "status=reported&status=corroborated&limit=200")
    assert len(either) == len(reported) + len(corroborated)

    persian = await _items(api, "language=fa&limit=200")
    assert ("ain-al-asad", "withdrawal") in {(a["place"], a["kind"]) for a in persian}
    assert all("fa" in a["languages"] for a in persian)
    two_places = await _items(api, "place=qasrak&place=ain-al-asad&limit=200")
    assert {a["place"] for a in two_places} == {"qasrak", "ain-al-asad"}


async def test_since_and_until_bound_last_seen_at(api: httpx.AsyncClient) -> None:
    (alert,) = await _items(api, "place=qasrak&kind=withdrawal")
    seen = httpx.QueryParams({"since": alert["last_seen_at"]})
    assert alert["id"] in {a["id"] for a in await _items(api, f"{seen}&limit=200")}
    before = httpx.QueryParams({"until": alert["last_seen_at"]})
    assert alert["id"] not in {a["id"] for a in await _items(api, f"{before}&limit=200")}
    assert await _items(api, "since=2999-01-01T00:00:00Z") == []


async def test_limit_two_walks_every_alert_once_newest_first(api: httpx.AsyncClient) -> None:
    everything = await _items(api, "limit=200")
    walked: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        body = (await api.get("/alerts", params=params)).json()
        assert len(body["items"]) <= 2
        walked.extend(body["items"])
        cursor = body["next"]
        if cursor is None:
            break
    assert len(everything) > 4
    assert [a["id"] for a in walked] == [a["id"] for a in everything]
    assert len({a["id"] for a in walked}) == len(walked)
    keys = [(a["last_seen_at"], uuid.UUID(a["id"])) for a in walked]
    assert keys == sorted(keys, reverse=True)


async def test_alert_detail_has_articles_outlets_languages_and_history(
    api: httpx.AsyncClient,
) -> None:
    (alert,) = await _items(api, "place=qasrak&kind=withdrawal")
    response = await api.get(f"/alerts/{alert['id']}")
    assert response.status_code == 200
    detail = response.json()
    assert detail["id"] == alert["id"]
    assert len(detail["articles"]) == 2
    first, second = detail["articles"]
    assert first["opened"]
    assert not second["opened"]
    assert {first["article_language"], second["article_language"]} == {"ru", "en"}
    assert all(a["snippet"] and a["outlet"] and a["title"] for a in detail["articles"])
    assert all(a["reason"].startswith("withdrawal cue \u201c") for a in detail["articles"])
    assert all(a["sentences"][0]["text"] == a["snippet"] for a in detail["articles"])
    assert [h["type"] for h in detail["history"]] == ["alert.created", "alert.updated"]
    assert detail["history"][0]["status"] == "reported"
    assert detail["history"][1]["changes"]["status"] == ["reported", "corroborated"]
    assert sorted(detail["outlets"]) == sorted(a["outlet"] for a in detail["articles"])


async def test_evidence_is_in_its_sentences_language_with_its_reason(
    pg_template: Template, api: httpx.AsyncClient
) -> None:
    """The bilingual article (mostly English) corroborated Qasrak with its Arabic lead: the
    evidence says Arabic, the alert's languages count the article's English."""
    (alert,) = await _items(api, "place=qasrak&kind=withdrawal")
    detail = (await api.get(f"/alerts/{alert['id']}")).json()
    bilingual = next(a for a in detail["articles"] if a["article_language"] == "en")
    assert bilingual["language"] == "ar"
    assert {s["language"] for s in bilingual["sentences"]} == {"ar", "en"}
    assert "actor \u201c" in bilingual["reason"]
    assert set(detail["languages"]) == {"ru", "en"}

    # The alert as subscribers got it (webhooks, the alerts topic) says the same.
    engine = create_engine(Settings(database_url=(await seeded(pg_template)).url))
    try:
        async with sessionmaker(engine)() as session:
            updated = await session.scalar(
                select(AlertEvent.alert)
                .where(AlertEvent.alert_id == uuid.UUID(alert["id"]))
                .where(AlertEvent.type == "alert.updated")
            )
    finally:
        await engine.dispose()
    assert updated is not None
    newest = updated["evidence"][0]
    assert (newest["language"], newest["article_language"]) == ("ar", "en")
    assert newest["reason"] == bilingual["reason"]
    assert newest["snippet"] == bilingual["snippet"]
    assert newest["sentences"] == bilingual["sentences"]


async def test_errors_are_problem_documents(api: httpx.AsyncClient) -> None:
    missing = is_problem(await api.get(f"/alerts/{uuid.uuid4()}"), 404)
    assert "no alert" in missing["detail"]
    is_problem(await api.get("/no/such/path"), 404)

    invalid = is_problem(await api.get("/alerts/not-a-uuid"), 422)
    assert invalid["errors"][0]["loc"] == ["path", "alert_id"]
    too_many = is_problem(await api.get("/alerts?limit=201"), 422)
    assert "limit" in too_many["detail"]
    is_problem(await api.get("/alerts?kind=evacuation"), 422)
    unknown = is_problem(await api.get("/alerts?place=atlantis"), 422)
    assert "atlantis" in unknown["detail"]
    is_problem(await api.get("/alerts?country=narnia"), 422)

    bad_cursor = is_problem(await api.get("/alerts?cursor=bm90LWEtY3Vyc29y"), 400)
    assert "cursor" in bad_cursor["detail"]
