"""The local test server serves registered handlers over real HTTP."""

from __future__ import annotations

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from tests.servers import local_server


async def test_local_server_serves_and_records_requests() -> None:
    async def hello(request: Request) -> Response:
        return PlainTextResponse("hello", headers={"ETag": '"v1"'})

    async with local_server() as server:
        server.route("/hello", hello)
        async with httpx.AsyncClient() as client:
            ok = await client.get(server.url("/hello"))
            missing = await client.get(server.url("/nothing"))
    assert (ok.status_code, ok.text, ok.headers["etag"]) == (200, "hello", '"v1"')
    assert missing.status_code == 404
    assert server.hits("/hello") == 1
