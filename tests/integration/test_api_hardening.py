"""The API under attack: tokens checked before bodies, bodies capped, tampered cursors,
and webhook URLs shown only to token holders."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from tests.apikit import TOKEN, api_client, is_problem

AUTH = {"Authorization": f"Bearer {TOKEN}"}
MB = 1024 * 1024


class Body:
    """A request body streamed in 64 KiB chunks, counting how many were pulled."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunk = b"x" * 65536
        for _ in range(self.size // len(chunk)):
            self.pulled += 1
            yield chunk


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
async def test_a_write_without_the_token_is_refused_before_its_body_is_read(
    pg_url: str, headers: dict[str, str]
) -> None:
    body = Body(300 * MB)
    async with api_client(pg_url) as (api, _):
        response = await api.post(
            "/sources", content=body, headers={**headers, "content-type": "application/json"}
        )
    is_problem(response, 401)
    assert body.pulled <= 1  # at most the first chunk was offered; nothing was parsed


async def test_writes_are_refused_before_the_body_when_no_token_is_set(pg_url: str) -> None:
    body = Body(50 * MB)
    async with api_client(pg_url, token=None) as (api, _):
        response = await api.post("/subscriptions", content=body, headers=AUTH)
    assert "DRAWDOWN_API_TOKEN" in is_problem(response, 401)["detail"]
    assert body.pulled <= 1


async def test_a_body_over_the_cap_is_refused_while_it_streams(pg_url: str) -> None:
    body = Body(20 * MB)
    async with api_client(pg_url, api_max_body_bytes=MB) as (api, _):
        response = await api.post(
            "/sources", content=body, headers={**AUTH, "content-type": "application/json"}
        )
    assert "DRAWDOWN_API_MAX_BODY_BYTES" in is_problem(response, 413)["detail"]
    assert body.pulled <= MB // 65536 + 1  # read up to the cap, not to the end


async def test_a_declared_length_over_the_cap_is_refused_unread(pg_url: str) -> None:
    async with api_client(pg_url, api_max_body_bytes=2048) as (api, _):
        response = await api.post(
            "/sources", json={"name": "x" * 3000, "url": "https://example.org/"}, headers=AUTH
        )
        is_problem(response, 413)
        within = await api.post(
            "/sources", json={"name": "ok", "url": "https://example.org/feed"}, headers=AUTH
        )
    assert within.status_code == 201, within.text


async def test_reads_and_unknown_methods_are_not_asked_for_a_token(pg_url: str) -> None:
    async with api_client(pg_url) as (api, _):
        assert (await api.get("/sources")).status_code == 200
        assert (await api.post("/alerts")).status_code == 405


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


TAMPERED = [
    _cursor(b"[" * 10_000 + b"]" * 10_000),  # would raise RecursionError in json
    _cursor(b"[" * 40 + b"]" * 40),
    _cursor(b'["2025-01-01T00:00:00", "00000000-0000-0000-0000-000000000001"]'),  # naive
    _cursor(b'{"at": 1}'),
    "%00%ff",
]


async def test_tampered_cursors_are_400_problems_on_every_list(pg_url: str) -> None:
    async with api_client(pg_url) as (api, _):
        for path in ("/alerts", "/articles", "/deliveries", "/subscriptions"):
            for cursor in TAMPERED:
                response = await api.get(path, params={"cursor": cursor}, headers=AUTH)
                assert "not a cursor" in is_problem(response, 400)["detail"], (path, cursor)


async def test_subscription_urls_are_shown_only_to_token_holders(pg_url: str) -> None:
    secret_url = "https://hooks.example.org/services/T000/B000/s3cr3tp4th"
    async with api_client(pg_url) as (api, _):
        created = await api.post(
            "/subscriptions", json={"name": "chat", "url": secret_url}, headers=AUTH
        )
        assert created.status_code == 201, created.text
        assert created.json()["url"] == secret_url
        path = f"/subscriptions/{created.json()['id']}"
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            listed = (await api.get("/subscriptions", headers=headers)).json()["items"]
            one = (await api.get(path, headers=headers)).json()
            for shown in (listed[0], one):
                assert shown["url"] is None
                assert shown["host"] == "hooks.example.org"
            everything = (await api.get("/subscriptions", headers=headers)).text
            assert "s3cr3tp4th" not in everything
        assert (await api.get(path, headers=AUTH)).json()["url"] == secret_url


async def test_the_openapi_document_still_describes_the_writes(pg_url: str) -> None:
    async with api_client(pg_url) as (api, _):
        document = (await api.get("/openapi.json")).json()
    assert document["paths"]["/sources"]["post"]["security"] == [{"token": []}]
