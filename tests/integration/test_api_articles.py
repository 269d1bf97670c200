"""GET /articles and /articles/{id}: filters through mentions and events, full text on
PostgreSQL and on SQLite, detail with mentions, events and sightings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.apikit import api_client, is_problem, replay_seeds, seeded
from tests.conftest import Template


@pytest.fixture(scope="module")
async def seed_ids(pg_template: Template) -> dict[str, str]:
    """Article id per seed file prefix (000 … 004)."""
    database = await seeded(pg_template)
    return {r["file"][:3]: r["article_id"] for r in database.reports if "file" in r}


@pytest.fixture(scope="module")
async def api(pg_template: Template) -> AsyncIterator[httpx.AsyncClient]:
    database = await seeded(pg_template)
    async with api_client(database.url) as (http, _):
        yield http


async def _ids(api: httpx.AsyncClient, params: dict[str, Any]) -> set[str]:
    response = await api.get("/articles", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return {a["id"] for a in response.json()["items"]}


async def test_place_kind_language_and_source_filters(
    api: httpx.AsyncClient, seed_ids: dict[str, str]
) -> None:
    ru, ar_en, fa, ar, uk = (seed_ids[p] for p in ("000", "001", "002", "003", "004"))
    assert await _ids(api, {}) == {ru, ar_en, fa, ar, uk}
    assert await _ids(api, {"place": "qasrak"}) == {ru, ar_en, ar}
    assert await _ids(api, {"place": "ain-al-asad"}) == {fa}
    # With a kind, the event must be at the place: only 003 plans a withdrawal from Qasrak.
    assert await _ids(api, {"place": "qasrak", "kind": "withdrawal_planned"}) == {ar}
    assert fa in await _ids(api, {"kind": "withdrawal"})
    assert uk not in await _ids(api, {"kind": "withdrawal"})
    assert await _ids(api, {"language": "fa"}) == {fa}
    assert await _ids(api, {"language": ["fa", "uk"]}) == {fa, uk}
    assert await _ids(api, {"source": "replay:004_e644c2551b7810e8.txt"}) == {uk}
    # 004 reports talks; 002 the Baghdad–Washington agreement ending the coalition's presence.
    assert await _ids(api, {"country": "iraq", "kind": "negotiation"}) == {fa, uk}
    assert await _ids(api, {"since": "2999-01-01T00:00:00Z"}) == set()


async def test_full_text_query_on_postgresql(
    api: httpx.AsyncClient, seed_ids: dict[str, str]
) -> None:
    found = await _ids(api, {"q": "قسرك"})
    assert found
    assert found <= {seed_ids["001"], seed_ids["003"]}
    assert await _ids(api, {"q": "Пентагоні"}) == {seed_ids["004"]}
    assert await _ids(api, {"q": "Пентагон*"}) == {seed_ids["004"]}
    assert await _ids(api, {"q": "Пентагоні OR قسرك"}) == found | {seed_ids["004"]}
    assert await _ids(api, {"q": "zzzqqq nothing"}) == set()


async def test_pages_of_articles(api: httpx.AsyncClient) -> None:
    first = (await api.get("/articles?limit=3")).json()
    assert len(first["items"]) == 3
    assert first["next"]
    rest = (await api.get("/articles", params={"limit": 3, "cursor": first["next"]})).json()
    assert len(rest["items"]) == 2
    assert rest["next"] is None
    assert not {a["id"] for a in first["items"]} & {a["id"] for a in rest["items"]}


async def test_article_detail(api: httpx.AsyncClient, seed_ids: dict[str, str]) -> None:
    response = await api.get(f"/articles/{seed_ids['000']}")
    assert response.status_code == 200
    article = response.json()
    assert article["language"] == "ru"
    assert {"qasrak", "rmelan", "al-shaddadi", "al-tanf"} <= {
        m["place"] for m in article["mentions"]
    }
    for mention in article["mentions"]:
        assert article["text"][mention["start"] : mention["end"]] == mention["surface"]
    qasrak = [e for e in article["events"] if e["place"] == "qasrak"]
    assert qasrak[0]["kind"] == "withdrawal"
    event = qasrak[0]
    assert article["text"][event["evidence_start"] : event["evidence_end"]] == event["evidence"]
    assert event["language"] == "ru"
    assert event["reason"].startswith("withdrawal cue \u201c")
    main, *_ = event["sentences"]
    assert (main["text"], main["start"], main["end"], main["language"]) == (
        event["evidence"],
        event["evidence_start"],
        event["evidence_end"],
        "ru",
    )
    for sentence in event["sentences"]:
        assert article["text"][sentence["start"] : sentence["end"]] == sentence["text"]
    assert [s["match"] for s in article["sightings"]] == ["new"]
    assert ("qasrak", "withdrawal") in {(a["place"], a["kind"]) for a in article["alerts"]}
    is_problem(await api.get("/articles/00000000-0000-0000-0000-000000000000"), 404)


async def test_events_of_a_bilingual_article_are_in_their_sentences_languages(
    api: httpx.AsyncClient, seed_ids: dict[str, str]
) -> None:
    article = (await api.get(f"/articles/{seed_ids['001']}")).json()
    assert article["language"] == "en"
    (qasrak,) = [e for e in article["events"] if e["place"] == "qasrak"]
    assert qasrak["language"] == "ar"  # its main sentence is the Arabic lead
    assert {s["language"] for s in qasrak["sentences"]} == {"ar", "en"}


async def test_sqlite_full_text_and_pages_hold(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'drawdown.db'}"
    reports = await replay_seeds(url)
    ids = {r["file"][:3]: r["article_id"] for r in reports if "file" in r}
    async with api_client(url) as (api, _):
        assert await _ids(api, {"q": "قسرك"}) >= {ids["001"], ids["003"]}
        assert await _ids(api, {"q": "Пентагоні офіційну"}) == {ids["004"]}
        assert await _ids(api, {"q": "Пентагоні Qasrak"}) == set()  # every word must occur
        assert await _ids(api, {"q": "Пентагон*"}) == {ids["004"]}
        assert await _ids(api, {"q": "Пентагоні OR قسرك"}) >= {ids["001"], ids["003"], ids["004"]}
        walked: list[str] = []
        cursor: str | None = None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            body = (await api.get("/alerts", params=params)).json()
            walked.extend(a["id"] for a in body["items"])
            if (cursor := body["next"]) is None:
                break
        everything = (await api.get("/alerts", params={"limit": 200})).json()["items"]
        assert walked == [a["id"] for a in everything]
