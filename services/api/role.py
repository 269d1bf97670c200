"""The ``api`` role: serve the app with uvicorn until the process's stop event is set.

Signals belong to the process (services/daemon.py sets the stop event), so the
server installs no handlers of its own. The socket is bound before uvicorn
starts, so an address in use is an error naming the address, not an exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

from services.api.app import create_app
from services.errors import ConfigError
from services.runtime import Runtime
from services.settings import split_addr

log = logging.getLogger(__name__)
GRACEFUL_SECONDS = 5  # open connections get this long to finish once stopping


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the process's own handlers set the stop event


def parse_addr(addr: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` for IPv6) of DRAWDOWN_HTTP_ADDR (checked by the
    settings already, so this fails only for an address built by hand)."""
    try:
        return split_addr(addr)
    except ValueError as exc:
        raise ConfigError(f"DRAWDOWN_HTTP_ADDR {exc}") from exc


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)
    return sock


async def serve(app: ASGIApp, host: str, port: int, stop: asyncio.Event) -> None:
    """Serve ``app`` on ``host:port`` (port 0: any free one) until ``stop`` is set, then
    let open requests finish for up to GRACEFUL_SECONDS."""
    sock = bind(host, port)
    config = uvicorn.Config(
        app,
        host=host,
        port=sock.getsockname()[1],
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    server = _Server(config)
    with sock:
        serving = asyncio.create_task(server.serve(sockets=[sock]), name="api-server")
        stopping = asyncio.create_task(stop.wait())
        log.info("api listening on http://%s:%d", host, config.port)
        try:
            await asyncio.wait([serving, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            server.should_exit = True
            stopping.cancel()
            await serving
    log.info("api stopped")


async def api_role(runtime: Runtime, stop: asyncio.Event) -> None:
    """The role as services/daemon.py runs roles: the app over the runtime's engine and bus."""
    host, port = parse_addr(runtime.settings.http_addr)
    app = create_app(runtime.settings, runtime.engine, bus=runtime.bus)
    await serve(app, host, port, stop)
