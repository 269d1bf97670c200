"""The dispatcher's one HTTP client, on the shared guarded transport (services.guarded_http).

No redirects are followed, no proxy from the environment is used, and every
request carries Drawdown's user agent.
"""

from __future__ import annotations

import ssl

import httpx

from ingest.fetch import user_agent
from services.guarded_http import GuardedTransport
from services.settings import Settings


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
