"""ingest.fetch against real local HTTP servers: caching, errors, limits, redirects, robots."""

from __future__ import annotations

import asyncio
import email.utils
import functools
import gzip
import ipaddress
import pickle
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse

from ingest.fetch import (
    Accept,
    FetchLimits,
    Robots,
    fetch,
    make_client,
    parse_retry_after,
    user_agent,
)
from services.errors import FetchError
from tests.servers import free_port, local_server

MB = 1024 * 1024
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
ARABIC = (
    "أعلنت وزارة الدفاع الأمريكية اليوم أن القوات الأمريكية بدأت الانسحاب من قاعدة قسرك. "
    "وقال مسؤولون إن العملية ستستمر عدة أسابيع، وإن المعدات الثقيلة نقلت إلى العراق."
)
RUSSIAN = (
    "Американские военные начали вывод войск с базы Касрак на северо-востоке Сирии. "
    "По словам местных источников, колонна грузовиков направилась к иракской границе."
)


LOCAL = [ipaddress.ip_network("127.0.0.1/32")]  # the local servers; nothing else is allowed


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(FetchLimits(), LOCAL) as shared:
        yield shared


def html(text: str, head: str = "") -> str:
    return f"<html><head>{head}<title>t</title></head><body><p>{text}</p></body></html>"


async def fetch_error(
    client: httpx.AsyncClient,
    url: str,
    *,
    limits: FetchLimits | None = None,
    accept: Accept = "page",
) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetch(client, url, limits=limits or FetchLimits(), accept=accept)
    return caught.value


# ---------------------------------------------------------------- conditional GET


async def test_etag_round_trip_and_304(client: httpx.AsyncClient) -> None:
    async def feed(request: Request) -> Response:
        if request.headers.get("if-none-match") == '"v1"':
            return Response(status_code=304, headers={"ETag": '"v1"'})
        headers = {"ETag": '"v1"', "Cache-Control": "max-age=300"}
        return Response(RSS, media_type="application/rss+xml", headers=headers)

    async with local_server() as server:
        server.route("/feed", feed)
        first = await fetch(client, server.url("/feed"), limits=FetchLimits(), accept="feed")
        second = await fetch(
            client, server.url("/feed"), limits=FetchLimits(), accept="feed", etag=first.etag
        )
        sent = server.requests[0].headers
    assert (first.status, first.not_modified, first.body, first.text) == (
        200,
        False,
        RSS,
        RSS.decode(),
    )
    assert (first.content_type, first.encoding) == ("application/rss+xml", "utf-8")
    assert (first.etag, first.cache_control) == ('"v1"', "max-age=300")
    assert (second.status, second.not_modified, second.body, second.text) == (304, True, b"", "")
    assert second.encoding is None
    assert sent["user-agent"] == user_agent()
    assert user_agent().startswith("Drawdown/0.1.0 (+https://github.com/drawdown-news/drawdown;")
    assert "application/rss+xml" in sent["accept"]


async def test_last_modified_round_trip(client: httpx.AsyncClient) -> None:
    stamp = "Tue, 06 May 2025 10:00:00 GMT"
    expires = "Tue, 06 May 2025 11:00:00 GMT"

    async def page(request: Request) -> Response:
        if request.headers.get("if-modified-since") == stamp:
            return Response(status_code=304)
        return Response(
            html("hello"),
            media_type="text/html",
            headers={"Last-Modified": stamp, "Expires": expires},
        )

    async with local_server() as server:
        server.route("/p", page)
        first = await fetch(client, server.url("/p"), limits=FetchLimits(), accept="page")
        second = await fetch(
            client, server.url("/p"), limits=FetchLimits(), accept="page", last_modified=stamp
        )
    assert (first.status, first.last_modified, first.expires) == (200, stamp, expires)
    assert second.not_modified


# ---------------------------------------------------------------- HTTP errors


async def test_429_with_retry_after_seconds(client: httpx.AsyncClient) -> None:
    async def busy(request: Request) -> Response:
        return PlainTextResponse("slow down", 429, headers={"Retry-After": "120"})

    async with local_server() as server:
        server.route("/feed", busy)
        error = await fetch_error(client, server.url("/feed"), accept="feed")
    assert (error.reason, error.status, error.retry_after) == ("http", 429, 120.0)
    assert "HTTP 429" in str(error)


async def test_503_with_retry_after_http_date(client: httpx.AsyncClient) -> None:
    later = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)

    async def down(request: Request) -> Response:
        return PlainTextResponse("maintenance", 503, headers={"Retry-After": later})

    async with local_server() as server:
        server.route("/feed", down)
        error = await fetch_error(client, server.url("/feed"), accept="feed")
    assert (error.reason, error.status) == ("http", 503)
    assert error.retry_after is not None
    assert 80 <= error.retry_after <= 90


def test_retry_after_parsing() -> None:
    now = datetime(2025, 5, 6, 10, 0, tzinfo=UTC)
    assert parse_retry_after("Tue, 06 May 2025 10:02:00 GMT", now) == 120
    assert parse_retry_after("Tue, 06 May 2025 09:00:00 GMT", now) == 0
    assert parse_retry_after(" 30 ", now) == 30
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


async def test_other_error_statuses(client: httpx.AsyncClient) -> None:
    async def broken(request: Request) -> Response:
        status = int(request.url.path.strip("/"))
        return PlainTextResponse("no", status, headers={"Retry-After": "5"})

    async with local_server() as server:
        for status in (500, 502, 404, 410, 300):
            server.route(f"/{status}", broken)
            error = await fetch_error(client, server.url(f"/{status}"))
            assert (error.reason, error.status, error.retry_after) == ("http", status, None)


# ---------------------------------------------------------------- timeouts and connections


async def test_read_timeout(client: httpx.AsyncClient) -> None:
    release = asyncio.Event()

    async def stuck(request: Request) -> Response:
        await asyncio.wait_for(release.wait(), 10)
        return PlainTextResponse("late")

    async with local_server() as server:
        server.route("/slow", stuck)
        started = time.monotonic()
        error = await fetch_error(
            client, server.url("/slow"), limits=FetchLimits(read_timeout=0.2, total_timeout=5)
        )
        elapsed = time.monotonic() - started
        release.set()
    assert error.reason == "timeout"
    assert "read timeout after 0.2 s" in str(error)
    assert elapsed < 2


async def test_total_timeout_stops_a_slow_drip(client: httpx.AsyncClient) -> None:
    async def drip() -> AsyncIterator[bytes]:
        yield b"<html><body>"
        for _ in range(200):
            await asyncio.sleep(0.05)
            yield b"."

    async def page(request: Request) -> Response:
        return StreamingResponse(drip(), media_type="text/html")

    async with local_server() as server:
        server.route("/drip", page)
        started = time.monotonic()
        error = await fetch_error(
            client, server.url("/drip"), limits=FetchLimits(read_timeout=1, total_timeout=0.5)
        )
        elapsed = time.monotonic() - started
    assert error.reason == "timeout"
    assert "0.5 s in all" in str(error)
    assert elapsed < 2


async def test_connection_refused(client: httpx.AsyncClient) -> None:
    error = await fetch_error(client, f"http://127.0.0.1:{free_port()}/feed")
    assert error.reason == "connect"


@pytest.mark.parametrize(
    "url", ["ftp://example.com/feed", "not a url", "http://", "file:///etc/passwd", "//x.org/a"]
)
async def test_invalid_urls(client: httpx.AsyncClient, url: str) -> None:
    error = await fetch_error(client, url)
    assert (error.reason, error.url) == ("invalid_url", url)


# ---------------------------------------------------------------- redirects


async def test_redirect_chain_within_the_cap(client: httpx.AsyncClient) -> None:
    async def final(request: Request) -> Response:
        return Response(RSS, media_type="application/xml")

    async with local_server() as server:
        server.route("/r1", lambda r: _redirect("r2", 301))  # relative
        server.route("/r2", lambda r: _redirect("/sub/r3", 302))  # absolute path
        server.route("/sub/r3", lambda r: _redirect(server.url("/final"), 308))  # absolute URL
        server.route("/final", final)
        fetched = await fetch(
            client, server.url("/r1"), limits=FetchLimits(max_redirects=3), accept="feed"
        )
        too_many = await fetch_error(
            client, server.url("/r1"), limits=FetchLimits(max_redirects=2), accept="feed"
        )
    assert (fetched.url, fetched.status, fetched.body) == (server.url("/final"), 200, RSS)
    assert too_many.reason == "redirects"
    assert "more than 2 redirects" in str(too_many)


async def test_redirect_loop(client: httpx.AsyncClient) -> None:
    async with local_server() as server:
        server.route("/a", lambda r: _redirect("/b", 302))
        server.route("/b", lambda r: _redirect("/a", 302))
        error = await fetch_error(client, server.url("/a"), limits=FetchLimits(max_redirects=10))
        hits = server.hits("/a") + server.hits("/b")
    assert error.reason == "redirects"
    assert "loop" in str(error)
    assert hits == 2


async def test_redirect_to_another_scheme_is_invalid(client: httpx.AsyncClient) -> None:
    async with local_server() as server:
        server.route("/a", lambda r: _redirect("ftp://example.com/feed", 302))
        error = await fetch_error(client, server.url("/a"))
    assert error.reason == "invalid_url"


async def _redirect(location: str, status: int) -> Response:
    return RedirectResponse(location, status_code=status)


# ---------------------------------------------------------------- size limits


async def test_a_50_mb_stream_is_cut_off_early(client: httpx.AsyncClient) -> None:
    produced = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal produced
        chunk = b"<p>" + b"x" * (64 * 1024 - 3)
        for _ in range(50 * 16):  # 50 MB
            produced += 1
            yield chunk
            await asyncio.sleep(0)  # as real I/O would: lets the server notice the hang-up

    async def page(request: Request) -> Response:
        return StreamingResponse(body(), media_type="text/html")

    async with local_server() as server:
        server.route("/big", page)
        started = time.monotonic()
        tracemalloc.start()
        try:
            error = await fetch_error(client, server.url("/big"), limits=FetchLimits(max_bytes=MB))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        elapsed = time.monotonic() - started
    assert error.reason == "too_large"
    assert elapsed < 5
    assert produced < 50 * 16 / 4, produced  # the server was stopped well before 50 MB
    assert peak < 10 * MB, peak


async def test_content_length_over_the_cap_is_refused_before_reading(
    client: httpx.AsyncClient,
) -> None:
    produced = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal produced
        for _ in range(50):
            produced += 1
            yield b"x" * MB
            await asyncio.sleep(0)

    async def page(request: Request) -> Response:
        return StreamingResponse(
            body(), media_type="text/html", headers={"Content-Length": str(50 * MB)}
        )

    async with local_server() as server:
        server.route("/big", page)
        error = await fetch_error(client, server.url("/big"), limits=FetchLimits(max_bytes=MB))
    assert error.reason == "too_large"
    assert "Content-Length" in str(error)
    assert produced < 20


@functools.cache
def gzip_bomb(megabytes: int = 200) -> bytes:
    """``megabytes`` MB of zeros, gzip-compressed (about 1/1000 of that on the wire)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(MB)
    return b"".join([*(compressor.compress(zeros) for _ in range(megabytes)), compressor.flush()])


async def test_a_gzip_bomb_is_rejected_without_inflating_it(client: httpx.AsyncClient) -> None:
    bomb = gzip_bomb()

    async def page(request: Request) -> Response:
        return Response(bomb, media_type="text/html", headers={"Content-Encoding": "gzip"})

    async with local_server() as server:
        server.route("/bomb", page)
        started = time.monotonic()
        tracemalloc.start()
        try:
            error = await fetch_error(client, server.url("/bomb"))  # default 10 MB cap
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        elapsed = time.monotonic() - started
    assert len(bomb) < MB
    assert error.reason == "too_large"
    assert "decompressed" in str(error)
    assert elapsed < 5
    assert peak < 40 * MB, peak  # about twice the cap (httpx alone peaks past 140 MB here)


async def test_nested_content_encodings_are_refused(client: httpx.AsyncClient) -> None:
    async def page(request: Request) -> Response:
        twice = gzip.compress(gzip.compress(b"<html>hi</html>"))
        return Response(twice, media_type="text/html", headers={"Content-Encoding": "gzip, gzip"})

    async with local_server() as server:
        server.route("/p", page)
        error = await fetch_error(client, server.url("/p"))
    assert error.reason == "content_type"
    assert "Content-Encoding" in str(error)


async def test_compressed_pages_are_inflated(client: httpx.AsyncClient) -> None:
    text = html(RUSSIAN)
    raw = text.encode("cp1251")
    variants = {
        "/gzip": ("gzip", gzip.compress(raw)),
        "/deflate": ("deflate", zlib.compress(raw)),
        "/raw-deflate": ("deflate", zlib.compress(raw, wbits=-zlib.MAX_WBITS)),  # as some send
        "/identity": ("identity", raw),
    }

    async def page(request: Request) -> Response:
        coding, packed = variants[request.url.path]
        headers = {"Content-Type": "text/html; charset=windows-1251", "Content-Encoding": coding}
        return Response(packed, headers=headers)

    async with local_server() as server:
        for path in variants:
            server.route(path, page)
            fetched = await fetch(client, server.url(path), limits=FetchLimits(), accept="page")
            assert (fetched.text, fetched.encoding) == (text, "cp1251"), path


# ---------------------------------------------------------------- content types


async def test_an_image_is_not_a_page_or_feed(client: httpx.AsyncClient) -> None:
    async def png(request: Request) -> Response:
        return Response(b"\x89PNG\r\n\x1a\n" + bytes(100), media_type="image/png")

    async with local_server() as server:
        server.route("/x", png)
        for accept in ("page", "feed"):
            error = await fetch_error(client, server.url("/x"), accept=accept)
            assert error.reason == "content_type"
            assert "image/png" in str(error)


async def test_octet_stream_is_sniffed(client: httpx.AsyncClient) -> None:
    async def binary(request: Request) -> Response:
        return Response(b"%PDF-1.7\n" + bytes(100), media_type="application/octet-stream")

    async def feed(request: Request) -> Response:
        return Response(RSS, media_type="application/octet-stream")

    async with local_server() as server:
        server.route("/pdf", binary)
        server.route("/feed", feed)
        error = await fetch_error(client, server.url("/pdf"), accept="feed")
        fetched = await fetch(client, server.url("/feed"), limits=FetchLimits(), accept="feed")
    assert error.reason == "binary"
    assert "binary content (PDF), served as application/octet-stream" in str(error)
    assert fetched.body == RSS


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (gzip.compress(b"<html>" + b"x" * 20000), "gzip"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "PNG"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"PK\x03\x04\x14\x00\x00\x00", "ZIP"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
    ],
    ids=["gzip", "png", "pdf", "zip", "jpeg"],
)
async def test_binary_is_sniffed_whatever_the_declared_type(
    client: httpx.AsyncClient, body: bytes, kind: str
) -> None:
    async def lying(request: Request) -> Response:
        return Response(body, media_type="text/html; charset=utf-8")

    async with local_server() as server:
        server.route("/page", lying)
        for accept in ("page", "feed"):
            error = await fetch_error(client, server.url("/page"), accept=accept)
            assert error.reason == "binary"
            assert f"binary content ({kind}), served as text/html" in str(error)


async def test_text_that_is_mostly_undecodable_is_refused(client: httpx.AsyncClient) -> None:
    noise = bytes(range(128, 256)) * 200  # no magic number, invalid as UTF-8

    async def served(request: Request) -> Response:
        return Response(noise, media_type="text/html; charset=utf-8")

    async with local_server() as server:
        server.route("/page", served)
        error = await fetch_error(client, server.url("/page"), accept="page")
    assert error.reason == "binary"


ACCEPTED: list[tuple[str, Accept, bool]] = [
    ("text/html", "feed", True),
    ("text/plain", "feed", True),
    ("text/xml", "feed", True),
    ("application/feed+json", "feed", True),
    ("application/atom+xml", "feed", True),
    ("application/pdf", "feed", False),
    ("application/rss+xml", "page", False),
    ("application/json", "page", False),
    ("application/xhtml+xml", "page", True),
    ("text/plain", "page", True),
    ("text/css", "page", False),
]


async def test_accepted_media_types(client: httpx.AsyncClient) -> None:
    async def doc(request: Request) -> Response:
        media_type = ACCEPTED[int(request.url.path.rsplit("/", 1)[1])][0]
        return Response(b"<x>text</x>", media_type=media_type)

    outcomes: list[tuple[str, Accept, bool]] = []
    async with local_server() as server:
        for index, (media_type, accept, _) in enumerate(ACCEPTED):
            server.route(f"/d/{index}", doc)
            try:
                await fetch(client, server.url(f"/d/{index}"), limits=FetchLimits(), accept=accept)
                outcomes.append((media_type, accept, True))
            except FetchError as exc:
                outcomes.append((media_type, accept, exc.reason != "content_type"))
    assert outcomes == ACCEPTED


# ---------------------------------------------------------------- charsets through fetch()


@pytest.mark.parametrize(
    ("body", "content_type", "text", "encoding"),
    [
        (html(ARABIC).encode("cp1256"), "text/html; charset=windows-1256", html(ARABIC), "cp1256"),
        (
            html(RUSSIAN, '<meta charset="windows-1251">').encode("cp1251"),
            "text/html",
            html(RUSSIAN, '<meta charset="windows-1251">'),
            "cp1251",
        ),
        (html(ARABIC).encode(), "text/html; charset=iso-8859-1", html(ARABIC), "utf-8"),
    ],
    ids=["windows-1256-header", "cp1251-meta", "utf8-mislabelled-latin1"],
)
async def test_pages_are_decoded(
    client: httpx.AsyncClient, body: bytes, content_type: str, text: str, encoding: str
) -> None:
    async def page(request: Request) -> Response:
        return Response(body, headers={"Content-Type": content_type})

    async with local_server() as server:
        server.route("/p", page)
        fetched = await fetch(client, server.url("/p"), limits=FetchLimits(), accept="page")
    assert (fetched.text, fetched.encoding, fetched.content_type) == (text, encoding, "text/html")


# ---------------------------------------------------------------- robots.txt


async def test_robots_disallow_is_respected_and_cached(client: httpx.AsyncClient) -> None:
    rules = "User-agent: *\nDisallow: /\n\nUser-agent: Drawdown\nDisallow: /private/\nAllow: /\n"

    async def robots_txt(request: Request) -> Response:
        return PlainTextResponse(rules)

    robots = Robots()
    async with local_server() as server:
        server.route("/robots.txt", robots_txt)
        limits = FetchLimits()
        results = await asyncio.gather(
            robots.allowed(client, server.url("/private/report"), limits=limits),
            robots.allowed(client, server.url("/news/qasrak"), limits=limits),
            robots.allowed(client, server.url("/private/other?x=1"), limits=limits),
        )
        again = await robots.allowed(client, server.url("/news/other"), limits=limits)
        hits = server.hits("/robots.txt")
    assert results == [False, True, False]
    assert again is True
    assert hits == 1


@pytest.mark.parametrize("status", [404, 403, 500])
async def test_robots_errors_allow(client: httpx.AsyncClient, status: int) -> None:
    async def robots_txt(request: Request) -> Response:
        return PlainTextResponse("nope", status)

    robots = Robots()
    async with local_server() as server:
        server.route("/robots.txt", robots_txt)
        assert await robots.allowed(client, server.url("/a"), limits=FetchLimits())
        assert await robots.allowed(client, server.url("/b"), limits=FetchLimits())
        assert server.hits("/robots.txt") == 1


async def test_robots_timeout_allows(client: httpx.AsyncClient) -> None:
    release = asyncio.Event()

    async def robots_txt(request: Request) -> Response:
        await asyncio.wait_for(release.wait(), 10)
        return PlainTextResponse("User-agent: *\nDisallow: /\n")

    async with local_server() as server:
        server.route("/robots.txt", robots_txt)
        limits = FetchLimits(read_timeout=0.2)
        allowed = await Robots().allowed(client, server.url("/a"), limits=limits)
        release.set()
    assert allowed


def test_fetch_error_survives_pickling() -> None:
    error = FetchError("https://e.org/feed", "http", "HTTP 429", status=429, retry_after=30.0)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.url, copy.reason, copy.message, copy.status, copy.retry_after, str(copy)) == (
        error.url,
        "http",
        "HTTP 429",
        429,
        30.0,
        str(error),
    )


# ---------------------------------------------------------------- the SSRF guard
# Refusals are the guard's decision before any connection: only 127.0.0.1 is ever contacted.


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/iam/credentials", "cloud metadata"),
        ("http://10.0.0.1/feed", "private"),
        ("http://127.0.0.2/feed", "loopback"),  # loopback, but not the allowed 127.0.0.1/32
        ("http://[::ffff:127.0.0.1]/feed", "embeds 127.0.0.1, loopback"),  # IPv4-mapped
        ("http://[::7f00:1]/feed", "embeds 127.0.0.1, loopback"),  # IPv4-compatible
        ("http://100.64.0.1/feed", "not global"),  # CGNAT
        ("http://224.0.0.1/feed", "multicast"),
    ],
)
async def test_the_guard_refuses_internal_addresses(
    client: httpx.AsyncClient, url: str, why: str
) -> None:
    error = await fetch_error(client, url, accept="feed")
    assert error.reason == "blocked"
    assert why in str(error)


async def test_every_redirect_hop_is_vetted(client: httpx.AsyncClient) -> None:
    async with local_server() as server:

        async def to_metadata(request: Request) -> Response:
            return RedirectResponse("http://169.254.169.254/latest/meta-data/", 302)

        server.route("/feed", to_metadata)
        error = await fetch_error(client, server.url("/feed"), accept="feed")
    assert error.reason == "blocked"
    assert "redirected to http://169.254.169.254/latest/meta-data/" in str(error)
    assert "cloud metadata" in str(error)


async def test_without_allowed_networks_even_the_local_server_is_refused() -> None:
    async with local_server() as server, make_client(FetchLimits()) as strict:
        server.route("/feed", lambda request: _text("<rss/>"))
        error = await fetch_error(strict, server.url("/feed"), accept="feed")
        assert server.requests == []
    assert error.reason == "blocked"
    assert "loopback" in str(error)


async def _text(body: str) -> Response:
    return PlainTextResponse(body)
