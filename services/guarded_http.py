"""The one HTTP transport for every outbound request: it connects only to vetted addresses.

The guard sits in the connection pool's network backend: when the pool opens a
connection to a host, the backend resolves the host, refuses the connection if
any address is refused by ``netguard.refusal`` (``BlockedAddressError``, before any
packet is sent to it) and otherwise connects to a vetted address itself. The
name is resolved once per connection and the socket goes to exactly the address
that was checked, so a DNS answer that changes between check and connect (DNS
rebinding) cannot slip through; TLS still verifies the certificate against the
host name, and keep-alive connections are pooled per host name. A redirect is a
new request: its host is vetted when its connection opens, so every hop is.

Both shared clients are built on it: the pollers' (``ingest.fetch.make_client``,
allowed ``DRAWDOWN_FETCH_ALLOWED_NETWORKS``) and the dispatcher's
(``services.webhooks.transport``, allowed ``DRAWDOWN_WEBHOOK_ALLOWED_NETWORKS``).
Neither uses a proxy from the environment. In the fetch sandbox
(``DRAWDOWN_FETCH_SANDBOX``, for tests and demos) the pollers' client connects only
inside the allowed networks and looks up no host name at all.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterable, Sequence

import httpcore
import httpx

from services.asyncio_backend import AsyncioBackend
from services.errors import BlockedAddressError
from services.netguard import Address, Network, parse_address, refusal


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolve, vet, then connect to the vetted address (see the module docstring)."""

    def __init__(
        self,
        allowed: Sequence[Network],
        inner: httpcore.AsyncNetworkBackend,
        *,
        sandbox: bool = False,
    ) -> None:
        self._allowed = tuple(allowed)
        self._inner = inner
        self._sandbox = sandbox

    def _sandboxed(self, host: str) -> list[Address]:
        """In the sandbox: only address literals, only inside the allowed networks; no
        name is looked up, so nothing but those networks is ever contacted."""
        try:
            address = parse_address(host.strip("[]"))
        except ValueError:
            raise BlockedAddressError(
                host, host, "a host name: the fetch sandbox looks none up"
            ) from None
        if not any(address.version == n.version and address in n for n in self._allowed):
            raise BlockedAddressError(host, str(address), "outside the fetch sandbox's networks")
        return [address]

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list[Address]:
        if self._sandbox:
            return self._sandboxed(host)
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
        *,
        sandbox: bool = False,
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
            network_backend=GuardedBackend(allowed, AsyncioBackend(), sandbox=sandbox),
        )
