"""HTTP fetching for feeds and pages: conditional GET, hard limits, manual redirects.

One ``httpx.AsyncClient`` per process (``make_client``); ``fetch`` turns every way a
request can go wrong into a ``FetchError`` whose ``reason`` the poller schedules on.
Limits are enforced while the body streams in, so a slow drip, a 50 MB page or a
gzip bomb costs no more than about twice ``max_bytes`` of memory and ``total_timeout``
of time: content codings are inflated here, with ``zlib``'s ``max_length`` bounding
each step, rather than by httpx, which inflates a whole network read (or a whole
nested ``gzip, gzip`` layer) at once before the caller can count it — a 200 MB gzip
bomb peaks at ~140 MB that way, at ~21 MB here with the default 10 MB cap.
"""

from __future__ import annotations

import asyncio
import email.utils
import importlib.metadata
import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urljoin
from urllib.robotparser import RobotFileParser

import httpx

from ingest.charset import decode
from ingest.sniff import MAX_BAD_SHARE, bad_share, binary_format
from services.errors import BlockedAddressError, FetchError
from services.guarded_http import GuardedTransport
from services.netguard import Network

log = logging.getLogger(__name__)

Accept = Literal["feed", "page"]

_ACCEPT_HEADER: dict[Accept, str] = {
    "feed": (
        "application/rss+xml, application/atom+xml, application/feed+json, "
        "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
    ),
    "page": "text/html, application/xhtml+xml;q=0.9, text/plain;q=0.8, */*;q=0.5",
}
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """What one fetch may cost; a publisher's slow or huge response must not stall a poller."""

    max_bytes: int = 10 * 1024 * 1024  # body cap, compressed and decompressed, while streaming
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0  # the whole request, redirects and body included
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful response, with the cache validators and freshness headers for scheduling."""

    url: str  # final URL after redirects
    status: int  # a 2xx, or 304
    body: bytes  # decompressed; b"" on 304
    text: str  # decoded with ingest.charset.decode; "" on 304
    encoding: str | None  # None on 304
    content_type: str  # media type only, lower-case; "" when the server sent none
    etag: str | None
    last_modified: str | None
    cache_control: str | None
    expires: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def user_agent() -> str:
    """Who we are, with a URL where publishers can read what Drawdown does."""
    try:
        version = importlib.metadata.version("drawdown")
    except importlib.metadata.PackageNotFoundError:
        version = "0"
    return f"Drawdown/{version} (+https://github.com/drawdown-news/drawdown; news monitoring)"


def make_client(
    limits: FetchLimits, allowed: Sequence[Network] = (), *, sandbox: bool = False
) -> httpx.AsyncClient:
    """The process's one shared client; redirects are followed by ``fetch`` itself.

    It connects only to addresses the SSRF guard allows (services.guarded_http):
    public ones, and those in ``allowed`` (``DRAWDOWN_FETCH_ALLOWED_NETWORKS``); in the
    ``sandbox`` only the allowed ones, by address (no name is looked up)."""
    pool = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    return httpx.AsyncClient(
        transport=GuardedTransport(allowed, pool, sandbox=sandbox),
        headers={"User-Agent": user_agent(), "Accept-Encoding": "gzip, deflate"},
        timeout=_timeout(limits),
        follow_redirects=False,
        trust_env=False,
    )


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    limits: FetchLimits,
    accept: Accept,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """GET ``url`` within ``limits``; FetchError says why not."""
    headers = {"Accept": _ACCEPT_HEADER[accept]}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = time.monotonic()
    try:
        async with asyncio.timeout(limits.total_timeout):
            fetched = await _follow(client, url, headers, limits, accept)
    except TimeoutError as exc:
        raise FetchError(
            url, "timeout", f"not complete within {limits.total_timeout:g} s in all"
        ) from exc
    log.debug(
        "fetched url=%s final=%s status=%d bytes=%d seconds=%.2f",
        url,
        fetched.url,
        fetched.status,
        len(fetched.body),
        time.monotonic() - started,
    )
    return fetched


async def _follow(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    limits: FetchLimits,
    accept: Accept,
) -> Fetched:
    """Follow up to ``max_redirects`` redirects by hand, refusing loops."""
    current = _checked_url(url, url)
    seen = {str(current)}
    for hop in range(limits.max_redirects + 1):
        try:
            location, fetched = await _request(client, current, headers, limits, accept)
        except FetchError as exc:
            if hop == 0:
                raise
            raise FetchError(
                exc.url,
                exc.reason,
                f"redirected to {current}: {exc.message}",
                status=exc.status,
                retry_after=exc.retry_after,
            ) from exc
        if fetched is not None:
            return fetched
        current = _checked_url(url, urljoin(str(current), location))
        if str(current) in seen:
            raise FetchError(url, "redirects", f"redirect loop back to {current}")
        seen.add(str(current))
    raise FetchError(url, "redirects", f"more than {limits.max_redirects} redirects")


async def _request(
    client: httpx.AsyncClient,
    url: httpx.URL,
    headers: dict[str, str],
    limits: FetchLimits,
    accept: Accept,
) -> tuple[str, Fetched | None]:
    """One GET: a redirect's Location, or the Fetched result."""
    try:
        async with client.stream("GET", url, headers=headers, timeout=_timeout(limits)) as response:
            location = response.headers.get("location")
            if response.status_code in _REDIRECTS and location:
                return location, None
            return "", await _response(response, limits, accept)
    except BlockedAddressError as exc:  # the SSRF guard refused it: nothing was sent
        raise FetchError(str(url), "blocked", str(exc)) from exc
    except httpx.TimeoutException as exc:
        raise FetchError(str(url), "timeout", _timed_out(exc, limits)) from exc
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise FetchError(str(url), "invalid_url", _describe(exc)) from exc
    except httpx.TransportError as exc:  # connect, read, write, protocol, proxy errors
        raise FetchError(str(url), "connect", _describe(exc)) from exc


async def _response(response: httpx.Response, limits: FetchLimits, accept: Accept) -> Fetched:
    url = str(response.url)
    status = response.status_code
    headers = response.headers
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if status == 304:
        return _fetched(response, media_type, b"", "", None)
    if not 200 <= status < 300:
        retry_after = None
        if status in _RETRY_AFTER_STATUSES:
            retry_after = parse_retry_after(headers.get("retry-after"))
        raise FetchError(
            url,
            "http",
            f"HTTP {status} {response.reason_phrase}".strip(),
            status=status,
            retry_after=retry_after,
        )
    if not _acceptable(media_type, accept):
        raise FetchError(url, "content_type", f"{media_type} is not a {accept}")
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise FetchError(url, "too_large", f"Content-Length {declared} > {limits.max_bytes} bytes")
    body = await _read_body(response, limits.max_bytes)
    served = f"served as {media_type or 'no type'}"
    kind = binary_format(body)  # whatever the declared type: servers mislabel
    if kind is not None:
        raise FetchError(url, "binary", f"binary content ({kind}), {served}")
    text, encoding = decode(body, headers.get("content-type"))
    share = bad_share(text)
    if share > MAX_BAD_SHARE:
        raise FetchError(
            url, "binary", f"not text: {share:.0%} of characters undecodable, {served}"
        )
    return _fetched(response, media_type, body, text, encoding)


def _fetched(
    response: httpx.Response, media_type: str, body: bytes, text: str, encoding: str | None
) -> Fetched:
    headers = response.headers
    return Fetched(
        url=str(response.url),
        status=response.status_code,
        body=body,
        text=text,
        encoding=encoding,
        content_type=media_type,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        cache_control=headers.get("cache-control"),
        expires=headers.get("expires"),
    )


def _acceptable(media_type: str, accept: Accept) -> bool:
    """Feeds come as XML, JSON, or any text/* (text/html and text/plain are common)."""
    if media_type in ("", "application/octet-stream"):
        return True  # decided by sniffing the body
    if accept == "page":
        return media_type in _PAGE_TYPES
    return (
        media_type.startswith("text/")
        or media_type.endswith(("/xml", "+xml", "/json", "+json"))
        or media_type == "application/xml-dtd"
    )


async def _read_body(response: httpx.Response, max_bytes: int) -> bytes:
    """The decoded body, failing as soon as raw or inflated bytes pass ``max_bytes``."""
    url = str(response.url)
    inflater = _Inflater.for_coding(url, response.headers.get("content-encoding", ""))
    chunks: list[bytes] = []
    size = 0
    async for raw in response.aiter_raw():
        if response.num_bytes_downloaded > max_bytes:
            raise FetchError(url, "too_large", f"body over {max_bytes} bytes")
        data = inflater.feed(raw, max_bytes - size)
        size += len(data)
        if size > max_bytes:
            raise FetchError(url, "too_large", f"body over {max_bytes} bytes once decompressed")
        chunks.append(data)
    tail = inflater.finish(max_bytes - size)
    if size + len(tail) > max_bytes:
        raise FetchError(url, "too_large", f"body over {max_bytes} bytes once decompressed")
    chunks.append(tail)
    return b"".join(chunks)


class _Inflater:
    """Bounded streaming decoder for one Content-Encoding (identity, gzip or deflate)."""

    __slots__ = ("_coding", "_decompressor", "_started", "_url")

    def __init__(self, url: str, coding: str) -> None:
        self._url = url
        self._coding = coding
        self._started = False
        self._decompressor: zlib._Decompress | None = None
        if coding in ("gzip", "x-gzip"):
            self._decompressor = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
        elif coding == "deflate":
            self._decompressor = zlib.decompressobj()

    @classmethod
    def for_coding(cls, url: str, header: str) -> _Inflater:
        codings = [c.strip().lower() for c in header.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if not codings:
            return cls(url, "identity")
        if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
            return cls(url, codings[0])
        raise FetchError(url, "content_type", f"unsupported Content-Encoding {header!r}")

    def feed(self, data: bytes, room: int) -> bytes:
        """Inflate ``data``, producing at most ``room + 1`` bytes (one past means too large)."""
        if self._decompressor is None:
            return data
        first, self._started = not self._started, True
        try:
            return self._decompressor.decompress(data, room + 1)
        except zlib.error as exc:
            if self._coding == "deflate" and first:
                # Some servers send raw deflate without the zlib wrapper HTTP asks for.
                self._coding = "raw-deflate"
                self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.feed(data, room)
            raise FetchError(self._url, "http", f"corrupt {self._coding} body: {exc}") from exc

    def finish(self, room: int) -> bytes:
        if self._decompressor is None:
            return b""
        try:
            return self._decompressor.flush(room + 1)
        except zlib.error as exc:
            raise FetchError(self._url, "http", f"corrupt {self._coding} body: {exc}") from exc


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _checked_url(original: str, url: str) -> httpx.URL:
    """An absolute http(s) URL with a host, or FetchError(invalid_url)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError(original, "invalid_url", f"{url!r}: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        what = "redirect to" if url != original else "not an http(s) URL:"
        raise FetchError(original, "invalid_url", f"{what} {url!r}")
    return parsed


def _timeout(limits: FetchLimits) -> httpx.Timeout:
    return httpx.Timeout(
        connect=limits.connect_timeout,
        read=limits.read_timeout,
        write=limits.read_timeout,
        pool=limits.connect_timeout,
    )


def _timed_out(exc: httpx.TimeoutException, limits: FetchLimits) -> str:
    """Which timeout, with its number: "read timeout after 20 s"."""
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return f"connect timeout after {limits.connect_timeout:g} s"
    if isinstance(exc, httpx.WriteTimeout):
        return f"write timeout after {limits.read_timeout:g} s"
    return f"read timeout after {limits.read_timeout:g} s"


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class Robots:
    """robots.txt rules per scheme+host for the token ``Drawdown``, cached.

    Rules are kept for ``ttl`` seconds (RFC 9309 asks for at most a day). A robots.txt
    that answers 4xx means there are no rules. 5xx, timeouts and other failures also
    allow — a sick robots.txt should not stop the news — and are logged and asked
    again after ``retry_ttl`` seconds rather than before every page. One lock per
    host, so concurrent pages of one site fetch its robots.txt once.
    """

    AGENT = "Drawdown"
    MAX_BYTES = 512 * 1024  # RFC 9309: parse at least 500 KiB

    def __init__(self, *, ttl: float = 24 * 3600.0, retry_ttl: float = 600.0) -> None:
        self._ttl = ttl
        self._retry_ttl = retry_ttl
        self._rules: dict[str, tuple[float, RobotFileParser | None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def allowed(self, client: httpx.AsyncClient, url: str, *, limits: FetchLimits) -> bool:
        """Whether robots.txt lets Drawdown fetch ``url``; FetchError only for an invalid URL."""
        target = _checked_url(url, url)
        origin = f"{target.scheme}://{target.netloc.decode('ascii')}"
        rules = await self._rules_for(client, origin, limits)
        return rules is None or rules.can_fetch(self.AGENT, str(target))

    async def _rules_for(
        self, client: httpx.AsyncClient, origin: str, limits: FetchLimits
    ) -> RobotFileParser | None:
        async with self._locks.setdefault(origin, asyncio.Lock()):
            cached = self._rules.get(origin)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            rules, ttl = await self._load(client, f"{origin}/robots.txt", limits)
            self._rules[origin] = (time.monotonic() + ttl, rules)
            return rules

    async def _load(
        self, client: httpx.AsyncClient, url: str, limits: FetchLimits
    ) -> tuple[RobotFileParser | None, float]:
        capped = replace(limits, max_bytes=min(limits.max_bytes, self.MAX_BYTES))
        try:
            fetched = await fetch(client, url, limits=capped, accept="page")
        except FetchError as exc:
            if exc.reason == "blocked":  # so is every page there: the guard says why
                log.debug("robots.txt at a blocked address url=%s", url)
                return None, self._ttl
            if exc.reason == "http" and exc.status is not None and 400 <= exc.status < 500:
                log.debug("no robots.txt url=%s status=%d", url, exc.status)
                return None, self._ttl
            log.warning("robots.txt unavailable, allowing all url=%s error=%s", url, exc)
            return None, self._retry_ttl
        rules = RobotFileParser(url)
        rules.parse(fetched.text.splitlines())
        return rules, self._ttl
