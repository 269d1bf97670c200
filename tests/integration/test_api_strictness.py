"""What the API says about a request it cannot answer as asked: unknown query parameters
are named, every 422 has ``errors``, and no message dumps a long pattern."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.apikit import TOKEN, api_client, is_problem, seeded
from tests.conftest import Template


@pytest.fixture(scope="module")
async def api(pg_template: Template) -> AsyncIterator[httpx.AsyncClient]:
    database = await seeded(pg_template)
    async with api_client(database.url) as (http, _):
        yield http


async def test_a_misspelt_filter_is_named_not_ignored(api: httpx.AsyncClient) -> None:
    body = is_problem(await api.get("/alerts?plaec=qasrak&kind=withdrawal"), 422)
    assert body["errors"] == [
        {
            "loc": ["query", "plaec"],
            "msg": body["errors"][0]["msg"],
            "type": "extra_forbidden",
        }
    ]
    assert "unknown query parameter" in body["detail"]
    assert "place" in body["errors"][0]["msg"]  # the known ones are listed


@pytest.mark.parametrize("path", ["/articles?lang=ar", "/places?x=1", "/healthz?verbose=1"])
async def test_every_route_refuses_parameters_it_does_not_take(
    api: httpx.AsyncClient, path: str
) -> None:
    body = is_problem(await api.get(path), 422)
    assert body["errors"][0]["loc"][0] == "query"


async def test_known_parameters_still_work(api: httpx.AsyncClient) -> None:
    assert (await api.get("/alerts?place=qasrak&limit=5")).status_code == 200
    assert (await api.get("/articles?q=withdrawal&limit=5")).status_code == 200


@pytest.mark.parametrize(
    ("query", "loc"),
    [("place=atlantis", ["query", "place"]), ("country=narnia", ["query", "country"])],
)
async def test_an_unknown_place_or_country_has_errors(
    api: httpx.AsyncClient, query: str, loc: list[str]
) -> None:
    for path in ("/alerts", "/articles"):
        body = is_problem(await api.get(f"{path}?{query}"), 422)
        (error,) = body["errors"]
        assert error["loc"] == loc
        assert error["msg"] == body["detail"]


async def test_a_422_names_no_long_pattern(api: httpx.AsyncClient) -> None:
    body = is_problem(
        await api.post(
            "/sources",
            json={"name": "x", "url": "ftp://nope"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        ),
        422,
    )
    assert len(body["detail"]) < 200, body["detail"]
    assert all(len(e["msg"]) < 120 for e in body["errors"])
    assert body["errors"][0]["loc"] == ["body", "url"]
