"""Alerts where people already look, over the replayed seeds: the Atom feed read by
feedparser (as a feed reader would), GeoJSON for GIS tools, CSV for spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import feedparser
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


async def test_the_atom_feed_follows_a_place_in_a_feed_reader(api: httpx.AsyncClient) -> None:
    response = await api.get("/alerts.atom?place=qasrak")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    assert feed.feed.title == "Drawdown alerts"
    alerts = (await api.get("/alerts?place=qasrak")).json()["items"]
    assert [e.id for e in feed.entries] == [f"urn:uuid:{a['id']}" for a in alerts]
    withdrawal = next(e for e in feed.entries if "withdrawal," in e.title)
    assert withdrawal.title == "Qasrak: withdrawal, corroborated"
    assert withdrawal.link == "http://drawdown.test/places/qasrak/view"
    assert {t.term for t in withdrawal.tags} == {"withdrawal", "corroborated"}
    assert any(name in withdrawal.summary for name in ("Qasrak", "Касрак", "قسرك"))


async def test_the_atom_feed_takes_the_filters_of_alerts(api: httpx.AsyncClient) -> None:
    every = feedparser.parse((await api.get("/alerts.atom?limit=200")).content)
    withdrawals = feedparser.parse((await api.get("/alerts.atom?kind=withdrawal")).content)
    assert 0 < len(withdrawals.entries) < len(every.entries)
    assert all("withdrawal," in e.title for e in withdrawals.entries)
    is_problem(await api.get("/alerts.atom?place=atlantis"), 422)
    is_problem(await api.get("/alerts.atom?plaec=qasrak"), 422)


async def test_places_geojson_has_every_place_with_its_status(api: httpx.AsyncClient) -> None:
    response = await api.get("/places.geojson")
    assert response.headers["content-type"] == "application/geo+json"
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    by_id = {f["properties"]["id"]: f for f in collection["features"]}
    assert list(by_id) == [p.id for p in gazetteer().places]
    qasrak = by_id["qasrak"]
    place = next(p for p in gazetteer().places if p.id == "qasrak")
    assert qasrak["geometry"] == {"type": "Point", "coordinates": [place.lon, place.lat]}
    assert qasrak["properties"]["status"] == "corroborated"
    assert by_id["harir"]["properties"]["status"] is None


async def test_alerts_geojson_places_each_alert(api: httpx.AsyncClient) -> None:
    collection = (await api.get("/alerts.geojson?country=iraq")).json()
    assert collection["features"]
    assert {f["properties"]["place"] for f in collection["features"]} >= {"ain-al-asad"}
    assert all(f["geometry"]["type"] == "Point" for f in collection["features"])


async def test_csv_exports_open_in_a_spreadsheet(api: httpx.AsyncClient) -> None:
    response = await api.get("/alerts.csv?limit=200")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="alerts.csv"' in response.headers["content-disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    alerts = (await api.get("/alerts?limit=200")).json()["items"]
    assert [r["id"] for r in rows] == [a["id"] for a in alerts]
    assert all(r["evidence"] for r in rows)

    articles = (await api.get("/articles.csv?q=قسرك")).content.decode("utf-8-sig")
    found = list(csv.DictReader(io.StringIO(articles)))
    listed = (await api.get("/articles?q=قسرك")).json()["items"]
    assert [r["id"] for r in found] == [a["id"] for a in listed]
    assert found
    assert found[0]["language"] == "ar"
