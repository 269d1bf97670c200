"""The dispatcher's one HTTP client: it connects only to addresses the SSRF guard vetted.

The guard sits in the connection pool's network backend: when the pool opens a
connection to a host, the backend resolves the host, refuses the connection if
any address is refused by ``guard.refusal`` (``BlockedAddressError``, before any
packet is sent to it) and otherwise connects to a vetted address itself. The
name is resolved once per connection and the socket goes to exactly the address
that was checked, so a DNS answer that changes between check and connect (DNS
rebinding) cannot slip through; TLS still verifies the certificate against the
host name, and keep-alive connections are pooled per host name.

No redirects are followed, no proxy from the environment is used, and every
request carries Drawdown's user agent.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterable, Sequence

import httpcore
import httpx

from ingest.fetch import user_agent
from services.errors import BlockedAddressError
from services.settings import Settings
from services.webhooks.asyncio_backend import AsyncioBackend
from services.webhooks.guard import Address, Network, parse_address, refusal


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolve, vet, then connect to the vetted address (see the module docstring)."""

    def __init__(self, allowed: Sequence[Network], inner: httpcore.AsyncNetworkBackend) -> None:
        self._allowed = tuple(allowed)
        self._inner = inner

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list[Address]:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} took over {timeout}s") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(parse_address(str(info[4][0])) for info in infos))
        for address in addresses:
            reason = refusal(address, self._allowed)
            if reason is not None:
                raise BlockedAddressError(host, str(address), reason)
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port, timeout)
        failure: Exception | None = None
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
            else:
                return stream
        raise failure or httpcore.ConnectError(f"{host} has no address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddressError(path, path, "unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport (its request mapping and exception translation) over a pool
    whose network backend is the ``GuardedBackend``."""

    def __init__(
        self,
        allowed: Sequence[Network],
        limits: httpx.Limits,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(limits=limits, trust_env=False)
        # httpx builds its pool without a way to pass a network backend; swap the pool
        # for an identical one that has ours (httpx 0.28's public constructor arguments).
        if not isinstance(self._pool, httpcore.AsyncConnectionPool):
            raise TypeError("httpx's transport no longer keeps an AsyncConnectionPool")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allowed, AsyncioBackend()),
        )


def make_webhook_client(
    settings: Settings, *, ssl_context: ssl.SSLContext | None = None
) -> httpx.AsyncClient:
    """The dispatcher's shared client: keep-alive per endpoint, no redirects, guarded.
    ``ssl_context`` replaces the default (the system's CA bundle via certifi)."""
    limits = httpx.Limits(
        max_connections=settings.webhook_concurrency,
        max_keepalive_connections=settings.webhook_concurrency,
        keepalive_expiry=30.0,
    )
    return httpx.AsyncClient(
        transport=GuardedTransport(settings.webhook_allowed_networks, limits, ssl_context),
        # identity: answers are read raw, so a compressed one cannot inflate past the cap
        headers={"User-Agent": user_agent(), "Accept-Encoding": "identity"},
        timeout=httpx.Timeout(settings.webhook_timeout, connect=settings.webhook_connect_timeout),
        follow_redirects=False,
        trust_env=False,
    )
