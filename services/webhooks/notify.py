"""Notifications through Apprise: a subscription may name an Apprise URL (``slack://``,
``tgram://``, ``matrixs://``, ``ntfys://``, ``mailtos://``, ``json://`` …) instead of a
webhook endpoint, and gets a readable message for each alert event it wants.

The message comes from the same delivery row as a webhook, so it goes through the same
outbox, retries, backoff, circuit breaker and dead letters; only the last step differs.
Apprise sends with its own HTTP client (in a worker thread, so the event loop runs on),
so the address guard is applied here first: when the URL names a host, every address it
resolves to must be one webhooks may go to (``DRAWDOWN_WEBHOOK_ALLOWED_NETWORKS`` as
for webhooks). An Apprise URL carries its service's token: it is shown only with the
token masked (``shown``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import apprise

from processor.gazetteer import gazetteer
from services.netguard import Network, parse_address, refusal
from services.webhooks.send import Outcome

log = logging.getLogger(__name__)
WEBHOOK_SCHEMES = ("http", "https")


def is_apprise(url: str) -> bool:
    """Webhook endpoints are http(s); any other scheme is an Apprise service."""
    return urlsplit(url).scheme.lower() not in WEBHOOK_SCHEMES


def _service(url: str) -> Any:
    service = apprise.Apprise.instantiate(url)
    if service is None:
        raise ValueError(
            f"{shown(url)!r} is not an Apprise URL Drawdown can send to "
            "(see the Apprise documentation for each service's form)"
        )
    return service


def check_apprise_url(url: str) -> str:
    """``url`` if Apprise can send to it and it is not a plain http(s) URL (that is a
    webhook: use ``url``); ValueError otherwise."""
    url = url.strip()
    if not is_apprise(url):
        raise ValueError("an http(s) URL is a webhook endpoint: give it as 'url', not 'apprise'")
    _service(url)
    return url


def shown(url: str) -> str:
    """The URL with its token and password masked, for listings and logs."""
    if not is_apprise(url):
        return url
    service = apprise.Apprise.instantiate(url)
    if service is None:
        return f"{urlsplit(url).scheme}://…"
    return str(service.url(privacy=True)).split("?", 1)[0]  # type: ignore[no-untyped-call]


def _place_name(place_id: str) -> str:
    for place in gazetteer().places:
        if place.id == place_id:
            english = dict(place.names).get("en")
            return english[0] if english else place_id
    return place_id


def message(body: bytes) -> tuple[str, str]:
    """(title, text) of an alert event's notification, from its webhook body: place,
    kind, status, the newest evidence sentence as written, its outlet, the sentence's
    language, why it was read so, and the link."""
    event = json.loads(body)
    data: Mapping[str, Any] = event.get("data", {})
    alert: Mapping[str, Any] = data.get("alert") or {}
    if not alert:  # webhook.test
        return "Drawdown: test notification", f"Subscription {data.get('subscription')} works."
    what = "New alert" if event.get("type") == "alert.created" else "Alert updated"
    title = (
        f"{what}: {_place_name(str(alert.get('place')))} — "
        f"{str(alert.get('kind', '')).replace('_', ' ')}, {alert.get('status')}"
    )
    lines = []
    evidence: Sequence[Mapping[str, Any]] = alert.get("evidence") or []
    if evidence:
        said = evidence[0]
        lines.append(f"“{said.get('snippet')}”")
        lines.append(f"— {said.get('outlet')} ({said.get('language') or '?'})")
        if said.get("reason"):
            lines.append(f"Why: {said['reason']}")
        if said.get("url"):
            lines.append(str(said["url"]))
    outlets = alert.get("outlets") or []
    languages = ", ".join(alert.get("languages") or [])
    lines.append(f"{len(outlets)} outlet{'' if len(outlets) == 1 else 's'}; languages: {languages}")
    changes = data.get("changes") or {}
    if "status" in changes:
        before, after = changes["status"]
        lines.append(f"Status: {before} → {after}")
    return title, "\n".join(lines)


async def _blocked(service: Any, allowed: Sequence[Network], timeout: float) -> str | None:
    host = getattr(service, "host", None)
    if not isinstance(host, str) or not host:
        return None  # the service's own fixed endpoint
    try:
        async with asyncio.timeout(timeout):
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, None, type=socket.SOCK_STREAM
            )
    except (OSError, TimeoutError):
        return None  # Apprise fails to connect and says so
    for info in infos:
        address = parse_address(str(info[4][0]))
        reason = refusal(address, allowed)
        if reason is not None:
            target = str(address) if host == str(address) else f"{host} resolves to {address}"
            return f"blocked address: {target} ({reason})"
    return None


def _notify(service: Any, title: str, text: str) -> tuple[bool, str]:
    with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
        sent = bool(service.notify(body=text, title=title))
        said = " ".join(str(captured.getvalue()).split())
    return sent, said


async def deliver(url: str, body: bytes, *, allowed: Sequence[Network], timeout: float) -> Outcome:
    """Send the notification of ``body`` (a webhook body) to the Apprise URL; the outcome,
    never an exception. Apprise gives no HTTP status: a sent notification counts as 200,
    a refused one as no answer (retried), a refused address as blocked (dead at once)."""
    started = time.perf_counter()

    def elapsed() -> float:
        return round((time.perf_counter() - started) * 1000, 1)

    try:
        service = _service(url)
    except ValueError as exc:
        return Outcome(None, elapsed(), None, f"apprise: {exc}")
    service.socket_connect_timeout = timeout
    service.socket_read_timeout = timeout
    reason = await _blocked(service, allowed, timeout)
    if reason is not None:
        return Outcome(None, elapsed(), None, reason, blocked=True)
    title, text = message(body)
    try:
        async with asyncio.timeout(timeout * 2 + 1):
            sent, said = await asyncio.to_thread(_notify, service, title, text)
    except TimeoutError:
        return Outcome(None, elapsed(), None, f"timeout: no answer within {timeout:g}s")
    if sent:
        return Outcome(200, elapsed(), "sent through Apprise", None)
    return Outcome(None, elapsed(), None, f"apprise: not sent: {said[:500] or 'no reason given'}")
