"""What a request must pass before any route reads its body: the token, then the size cap.

FastAPI reads and parses a body before it runs a route's dependencies, so a write
without a token would still cost its whole body in memory (a 300 MB body grew the
process by 600 MB before its 401). This ASGI middleware runs first:

1. A request that matches a write route (every write needs ``DRAWDOWN_API_TOKEN``)
   is refused with 401 on its headers alone; its body is never read.
2. A body is read here, counted as it arrives, up to ``DRAWDOWN_API_MAX_BODY_BYTES``:
   a ``Content-Length`` over the cap, or a body growing past it, is answered 413 and
   the rest is not read. A body within the cap is handed on to the route unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.routing import Match

from services.api.deps import token_refusal
from services.api.problems import problem
from services.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

READS = frozenset({"GET", "HEAD", "OPTIONS"})


class TooLarge(Exception):
    """The body passed the cap."""


class Admission:
    def __init__(self, app: App, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.cap = settings.api_max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if scope["method"] not in READS and self._is_write_route(scope):
            refused = token_refusal(self.settings, request.headers.get("authorization"))
            if refused is not None:
                response = problem(request, 401, str(refused.detail), headers=refused.headers)
                await response(scope, receive, send)
                return
        declared = request.headers.get("content-length", "")
        try:
            if declared.isdigit() and int(declared) > self.cap:
                raise TooLarge
            body = await self._read(receive)
        except TooLarge:
            response = problem(
                request,
                413,
                f"the request body is over {self.cap} bytes (DRAWDOWN_API_MAX_BODY_BYTES)",
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    def _is_write_route(self, scope: Scope) -> bool:
        routes = scope["app"].router.routes if "app" in scope else ()
        return any(route.matches(scope)[0] == Match.FULL for route in routes)

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # the client went away; the route will see it
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.cap:
                raise TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body read once, then whatever the client sends next
    (a disconnect)."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
