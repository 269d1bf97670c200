"""Real local HTTP servers for tests: feeds, pages and webhook receivers on 127.0.0.1.

``LocalServer`` runs a Starlette app under uvicorn in the test's event loop on a
free port. Tests register handlers per path (``server.route("/feed", handler)``)
and read what was requested from ``server.requests``.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class LocalServer:
    host: str = "127.0.0.1"
    port: int = 0
    handlers: dict[str, Handler] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def route(self, path: str, handler: Handler) -> None:
        self.handlers[path] = handler

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.url.path == path)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:  # type: ignore[type-arg]
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        self.requests.append(request)
        handler = self.handlers.get(request.url.path)
        response = await handler(request) if handler else PlainTextResponse("not found", 404)
        await response(scope, receive, send)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def local_server(
    port: int | None = None, *, tls: tuple[Path, Path] | None = None
) -> AsyncIterator[LocalServer]:
    """Start a server on a free port (or on ``port``), over HTTPS with ``tls`` (certificate
    and key files); stop it on exit."""
    app = LocalServer(port=port or free_port())
    certfile, keyfile = (str(tls[0]), str(tls[1])) if tls else (None, None)
    config = uvicorn.Config(
        app,
        host=app.host,
        port=app.port,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        log_level="warning",
        lifespan="off",
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield app
    finally:
        server.should_exit = True
        await task
