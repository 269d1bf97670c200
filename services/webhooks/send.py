"""Send one signed webhook and say what happened: an ``Outcome``, never an exception.

The whole request — connecting, sending, the answer and its body — must finish
within ``timeout`` seconds; at most ``max_bytes`` of the answer are read (the
rest is not waited for) and its first KiB is kept for the attempt's record.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from ingest.fetch import parse_retry_after
from services.errors import BlockedAddressError
from services.webhooks.policy import Verdict, verdict

RESPONSE_KEPT = 1024  # bytes of the answer kept per attempt


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int | None  # the HTTP status; None when there was no answer
    latency_ms: float
    response: str | None  # the answer's first KiB
    error: str | None  # why there was no usable answer (``timeout: …``, ``connect: …``)
    retry_after: float | None = None  # seconds, from a 429/503's Retry-After
    blocked: bool = False  # the SSRF guard refused the address; nothing was sent

    @property
    def verdict(self) -> Verdict:
        return verdict(self.status, blocked=self.blocked, retry_after=self.retry_after)


async def _read(response: httpx.Response, max_bytes: int) -> bytes:
    kept = bytearray()
    async for chunk in response.aiter_raw():
        kept += chunk
        if len(kept) >= max_bytes:
            break  # the connection is dropped rather than read to the end
    return bytes(kept[:max_bytes])


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        kind = "timeout"
    elif isinstance(exc, httpx.ConnectError):
        kind = "connect"
    elif isinstance(exc, httpx.ProtocolError):
        kind = "protocol"
    else:
        kind = "network"
    return f"{kind}: {str(exc) or type(exc).__name__}"


async def post(
    client: httpx.AsyncClient,
    url: str,
    payload: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    max_bytes: int,
) -> Outcome:
    """POST ``payload`` to ``url``; the outcome, whatever happened."""
    started = time.perf_counter()

    def elapsed() -> float:
        return round((time.perf_counter() - started) * 1000, 1)

    try:
        async with (
            asyncio.timeout(timeout),
            client.stream("POST", url, content=payload, headers=headers) as response,
        ):
            answer = await _read(response, max_bytes)
    except BlockedAddressError as exc:
        return Outcome(None, elapsed(), None, str(exc), blocked=True)
    except TimeoutError:
        return Outcome(None, elapsed(), None, f"timeout: no complete answer within {timeout:g}s")
    except httpx.HTTPError as exc:
        return Outcome(None, elapsed(), None, _describe(exc))
    retry_after = None
    if response.status_code in (429, 503):
        retry_after = parse_retry_after(response.headers.get("retry-after"))
    text = answer[:RESPONSE_KEPT].decode("utf-8", errors="replace")
    return Outcome(response.status_code, elapsed(), text, None, retry_after)
