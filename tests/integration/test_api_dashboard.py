"""Places and the dashboard over the replayed seeds: statuses on the map and in the table,
evidence in every language marked for direction, nothing loaded from elsewhere."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import httpx
import pytest

from processor.gazetteer import gazetteer
from tests.apikit import api_client, is_problem, seeded
from tests.conftest import Template


@pytest.fixture(scope="module")
async def api(pg_template: Template) -> AsyncIterator[httpx.AsyncClient]:
    database = await seeded(pg_template)
    async with api_client(database.url) as (http, _):
        yield http


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside each blockquote."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.quotes: list[tuple[dict[str, str | None], str]] = []
        self._quote: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "blockquote":
            self._quote = dict(attrs)
            self.quotes.append((self._quote, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote":
            self._quote = None

    def handle_data(self, data: str) -> None:
        if self._quote is not None:
            attrs, text = self.quotes[-1]
            self.quotes[-1] = (attrs, text + data)


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


async def _statuses(api: httpx.AsyncClient) -> dict[str, str | None]:
    places = (await api.get("/places")).json()
    return {p["id"]: p["status"]["status"] if p["status"] else None for p in places}


async def test_places_list_the_gazetteer_with_latest_status(api: httpx.AsyncClient) -> None:
    places = (await api.get("/places")).json()
    assert [p["id"] for p in places] == [p.id for p in gazetteer().places]
    qasrak = next(p for p in places if p["id"] == "qasrak")
    assert qasrak["country"] == "syria"
    assert qasrak["kind"] == "base"
    assert "قسرك" in qasrak["names"]["ar"]
    assert qasrak["status"]["status"] in {"reported", "corroborated"}
    statuses = await _statuses(api)
    assert statuses["ain-al-asad"] == "reported"
    assert statuses["rmelan"] is None

    detail = (await api.get("/places/ain-al-asad")).json()
    assert {a["kind"] for a in detail["alerts"]} >= {"withdrawal"}
    assert {e["language"] for e in detail["evidence"]} == {"fa"}
    is_problem(await api.get("/places/atlantis"), 404)


async def test_dashboard_shows_places_with_their_status(api: httpx.AsyncClient) -> None:
    response = await api.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    page = _parse(response.text)
    statuses = await _statuses(api)
    markers = {a["data-place"]: a for tag, a in page.tags if tag == "a" and "data-place" in a}
    assert set(markers) == set(statuses)
    for place in ("qasrak", "ain-al-asad"):
        assert statuses[place]
        assert markers[place]["data-status"] == statuses[place]
        assert markers[place]["href"] == f"/places/{place}/view"
    assert markers["rmelan"]["data-status"] == "none"
    badges = [
        a["data-status"] for tag, a in page.tags if tag == "span" and a.get("class") == "badge"
    ]
    assert "corroborated" in badges
    assert "reported" in badges
    timeline = [a for tag, a in page.tags if tag == "li" and a.get("class") == "alert"]
    assert 0 < len(timeline) <= 50
    viewport = [a for tag, a in page.tags if tag == "meta" and a.get("name") == "viewport"]
    assert viewport == [{"name": "viewport", "content": "width=device-width, initial-scale=1"}]


async def test_place_page_quotes_evidence_in_every_language(api: httpx.AsyncClient) -> None:
    response = await api.get("/places/qasrak/view")
    assert response.status_code == 200
    quotes = _parse(response.text).quotes
    assert quotes
    assert all(attrs.get("dir") == "auto" for attrs, _ in quotes)
    languages = {attrs.get("lang") for attrs, _ in quotes}
    assert {"ru", "ar"} <= languages
    assert any(re.search("[\u0600-\u06ff]", text) for _, text in quotes)  # Arabic script
    assert any(re.search("[\u0400-\u04ff]", text) for _, text in quotes)  # Cyrillic
    # Each quote is marked in its sentence's language: the bilingual article's Arabic
    # sentences are Arabic though the article is mostly English.
    arabic = [a for a, text in quotes if re.search("[\u0600-\u06ff]", text)]
    assert arabic
    assert all(a.get("lang") == "ar" for a in arabic)
    assert "Why: withdrawal cue \u201c" in response.text

    persian = _parse((await api.get("/places/ain-al-asad/view")).text)
    assert any(a.get("lang") == "fa" and a.get("dir") == "auto" for a, _ in persian.quotes)
    names = [a for tag, a in persian.tags if tag == "dd"]
    assert {"ar", "fa", "ckb"} <= {a.get("lang") for a in names}
    assert all(a.get("dir") == "auto" for a in names)
    is_problem(await api.get("/places/atlantis/view"), 404)


async def test_state_endpoint_feeds_the_refresh(api: httpx.AsyncClient) -> None:
    state = (await api.get("/dashboard/state")).json()
    statuses = await _statuses(api)
    assert {p["id"]: p["status"] for p in state["places"]} == statuses
    seen = [a["last_seen_at"] for a in state["alerts"]]
    assert seen == sorted(seen, reverse=True)
    assert state["sources"] == []


async def test_nothing_is_loaded_from_another_origin(api: httpx.AsyncClient) -> None:
    page = _parse((await api.get("/")).text)
    loaded = [a.get("src") or a.get("href") for tag, a in page.tags if tag in ("script", "link")]
    assert [url for url in loaded if url] == ["/static/app.css", "/static/app.js"]
    for asset in ("/static/app.css", "/static/app.js", "/static/region.geojson"):
        response = await api.get(asset)
        assert response.status_code == 200, asset
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", response.text), asset
    outlines = (await api.get("/static/region.geojson")).json()
    assert {"Syria", "Iraq", "Jordan"} <= {f["properties"]["name"] for f in outlines["features"]}
