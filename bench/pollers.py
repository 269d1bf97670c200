"""How fast one poller process polls feeds and turns their entries into published articles.

A lean HTTP/1.1 server (asyncio, in a process of its own) serves FEEDS RSS feeds,
each with ENTRIES entries linking to article pages on the same server (the seed
articles' text). The real poller — leases, conditional GET, feed parsing, one
seen-URL query per feed, page fetches, extraction in the process pool,
publishing with acks, grouped state writes — runs against SQLite and the
in-process bus, or PostgreSQL/Kafka when DRAWDOWN_DATABASE_URL /
DRAWDOWN_KAFKA_BOOTSTRAP are set (PostgreSQL must be migrated).

Two rounds: "first" (every entry is new: feed + pages + extraction + publish) and
"steady" (feeds polled again, nothing new: feed + parse + seen query).

With ``--not-modified [SOURCES]`` (default 10,000) it measures the steady state of a large
deployment instead: every source has an ETag on record and the server answers 304, one
poller process polls them all, then two share them through leases; figures per round are
polls/s, lease conflicts (sources polled twice in the round: leases should make it 0) and
CPU milliseconds per poll in the poller processes. Two pollers need PostgreSQL to share
leases as in production (set DRAWDOWN_DATABASE_URL to a migrated database).

Run from the repo root after `make install`:
    .venv/bin/python bench/pollers.py [FEEDS] [ENTRIES]
    .venv/bin/python bench/pollers.py --not-modified [SOURCES]
Progress goes to stderr; the last line on stdout is one JSON object of figures.
"""

from __future__ import annotations

import asyncio
import collections
import html
import ipaddress
import json
import logging
import multiprocessing
import os
import sys
import tempfile
import time
from contextlib import suppress
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import local_server  # noqa: E402  (bench/, the script's own folder)
from procstats import descendants, memory_mb  # noqa: E402

from ingest.fetch import make_client  # noqa: E402
from ingest.poll import fetch_limits  # noqa: E402
from ingest.poller import Poller  # noqa: E402
from ingest.sources import load_sources  # noqa: E402
from services import logs  # noqa: E402
from services.models import Source  # noqa: E402
from services.runtime import open_runtime  # noqa: E402
from services.settings import Settings  # noqa: E402

SEEDS = ROOT / "seeds"
log = logging.getLogger("bench.pollers")


# ---- the server (its own process) ------------------------------------------------------


def _pages(entries: int) -> tuple[list[bytes], bytes]:
    """Article bodies (the seeds, cycled) and the robots.txt answer."""
    bodies = []
    for path in sorted(SEEDS.glob("*.txt")):
        title, _, text = path.read_text("utf-8").strip().partition("\n")
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.splitlines() if p.strip())
        bodies.append(
            (
                f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
                f"</title></head><body><nav><a href='/'>Home</a></nav><article><h1>"
                f"{html.escape(title)}</h1>{paragraphs}</article></body></html>"
            ).encode()
        )
    return bodies, b"User-agent: *\nAllow: /\n"


def _feed(port: int, number: int, entries: int) -> bytes:
    published = format_datetime(datetime(2026, 2, 23, 9, 0, tzinfo=UTC))
    items = "".join(
        f"<item><title>Story {number}-{k}</title>"
        f"<link>http://127.0.0.1:{port}/a/{number}-{k}</link>"
        f"<guid>http://127.0.0.1:{port}/a/{number}-{k}</guid>"
        f"<description>Summary of story {number}-{k}</description>"
        f"<pubDate>{published}</pubDate></item>"
        for k in range(entries)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {number}</title><link>http://127.0.0.1:{port}/</link>{items}"
        "</channel></rss>"
    ).encode()


class _Http(asyncio.Protocol):
    """Just enough HTTP/1.1: GET, keep-alive, Content-Length bodies."""

    def __init__(
        self, port: int, entries: int, pages: list[bytes], robots: bytes, hits: Any = None
    ) -> None:
        self._port, self._entries, self._pages, self._robots = port, entries, pages, robots
        self._hits = hits  # conditional feed requests, counted when a counter is given
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while b"\r\n\r\n" in self._buffer:
            head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
            path = head.split(b" ", 2)[1].decode()
            self._respond(path, b"\r\nif-none-match:" in head.lower())

    def _respond(self, path: str, conditional: bool = False) -> None:
        status, kind, body = "200 OK", "text/html; charset=utf-8", b""
        if path.startswith("/feed/") and conditional:
            if self._hits is not None:
                self._hits.put(path)
            status = "304 Not Modified"
        elif path.startswith("/feed/"):
            kind = "application/rss+xml"
            body = _feed(self._port, int(path.rsplit("/", 1)[1]), self._entries)
        elif path.startswith("/a/"):
            number = sum(int(part) for part in path[3:].split("-"))
            body = self._pages[number % len(self._pages)]
        elif path == "/robots.txt":
            kind, body = "text/plain", self._robots
        else:
            status = "404 Not Found"
        assert self._transport is not None
        self._transport.write(
            f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
            "Connection: keep-alive\r\n\r\n".encode()
            + body
        )


def serve(
    port: int, entries: int, ready: multiprocessing.synchronize.Event, hits: Any = None
) -> None:
    pages, robots = _pages(entries)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _Http(port, entries, pages, robots, _Counter() if hits else None),
            "127.0.0.1",
            port,
            backlog=1024,
        )
        reporting = loop.create_task(_report_hits(hits)) if hits else None
        ready.set()
        async with server:
            await server.serve_forever()
        if reporting is not None:
            reporting.cancel()

    with suppress(KeyboardInterrupt):
        asyncio.run(main())


_FEED_HITS: collections.Counter[str] = collections.Counter()


class _Counter:
    def put(self, path: str) -> None:
        _FEED_HITS[path] += 1


async def _report_hits(path: str) -> None:
    """Every half second, write how many conditional feed requests were answered."""
    while True:
        await asyncio.sleep(0.5)
        await asyncio.to_thread(Path(path).write_text, json.dumps(sum(_FEED_HITS.values())))


def serve_counting(
    port: int, entries: int, hits: str, ready: multiprocessing.synchronize.Event
) -> None:
    """``serve``, writing the conditional feed requests it answered to the file ``hits``."""
    serve(port, entries, ready, hits)


# ---- measuring -------------------------------------------------------------------------


class Peak:
    """Peak memory: the poller process's RSS, and the proportional set size (shared pages
    counted once) of the poller with its process pool."""

    def __init__(self, server_pid: int) -> None:
        self.own = 0.0
        self.with_pool = 0.0
        self._server = server_pid

    def sample(self) -> None:
        pool = [pid for pid in descendants(os.getpid()) if pid != self._server]
        self.own = max(self.own, memory_mb([os.getpid()], "VmRSS:"))
        self.with_pool = max(self.with_pool, memory_mb([os.getpid(), *pool], "Pss:"))


async def _round(name: str, poller: Poller, target: int, peak: Peak) -> float:
    stop = asyncio.Event()
    start_polls = poller.polls
    started = time.perf_counter()
    running = asyncio.create_task(poller.run(stop))
    last = 0
    while poller.polls - start_polls < target and not running.done():
        await asyncio.sleep(0.25)
        peak.sample()
        done = poller.polls - start_polls
        if done - last >= target // 10 or done >= target:
            print(f"{name}: {done}/{target} feeds polled", file=sys.stderr)
            last = done
    elapsed = time.perf_counter() - started
    stop.set()
    await running
    return elapsed


async def bench(feeds: int, entries: int, port: int, peak: Peak) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="drawdown-bench-"))
    sources = workdir / "sources.yaml"
    sources.write_text(
        "sources:\n"
        + "".join(
            f"  - {{name: 'feed {i}', url: 'http://127.0.0.1:{port}/feed/{i}', interval: 3600}}\n"
            for i in range(feeds)
        )
    )
    env_settings = Settings()
    settings = env_settings.model_copy(
        update={
            "database_url": os.environ.get(
                "DRAWDOWN_DATABASE_URL", f"sqlite+aiosqlite:///{workdir}/bench.db"
            ),
            "poll_concurrency": int(os.environ.get("DRAWDOWN_POLL_CONCURRENCY", "64")),
            "per_host_concurrency": int(os.environ.get("DRAWDOWN_PER_HOST_CONCURRENCY", "8")),
            "per_host_delay": 0.0,
            "log_level": "WARNING",
            "fetch_allowed_networks": [ipaddress.ip_network("127.0.0.1/32")],  # the local server
        }
    )
    async with open_runtime(settings, reads=False) as runtime:
        t0 = time.perf_counter()
        await load_sources(runtime.engine, sources)
        load_s = time.perf_counter() - t0
        async with (
            make_client(fetch_limits(settings), settings.fetch_allowed_networks) as client,
            runtime.bus.producer() as producer,
        ):
            poller = Poller(settings, runtime.engine, producer, client, runtime.pool)
            first = await _round("first", poller, feeds, peak)
            async with runtime.engine.begin() as connection:  # everything due again
                await connection.execute(update(Source).values(next_poll_at=datetime.now(UTC)))
            steady = await _round("steady", poller, feeds, peak)
    articles = feeds * entries
    return {
        "benchmark": "pollers",
        "database": "postgresql" if "postgresql" in settings.database_url else "sqlite",
        "bus": "kafka" if settings.kafka_bootstrap else "in-process",
        "feeds": feeds,
        "entries_per_feed": entries,
        "poll_concurrency": settings.poll_concurrency,
        "feed_fetches_per_s": round(feeds / steady, 1),
        "articles_per_s": round(articles / first, 1),
        "first_round_feeds_per_s": round(feeds / first, 1),
        "first_round_s": round(first, 2),
        "steady_round_s": round(steady, 2),
        "load_sources_s": round(load_s, 2),
        "peak_rss_mb": round(peak.own, 1),
        "peak_pss_with_pool_mb": round(peak.with_pool, 1),
        "cores": os.cpu_count(),
    }


# ---- sources answering 304, one and two pollers sharing leases ---------------------------


def _lease_settings(database_url: str) -> Settings:
    return Settings().model_copy(
        update={
            "database_url": database_url,
            "poll_concurrency": int(os.environ.get("DRAWDOWN_POLL_CONCURRENCY", "64")),
            "per_host_concurrency": int(os.environ.get("DRAWDOWN_PER_HOST_CONCURRENCY", "64")),
            "per_host_delay": 0.0,
            "log_level": "WARNING",
        }
    )


def _poller_process(database_url: str, sources: int, results: Any) -> None:
    """One poller process: poll until no source is due, then report polls and CPU seconds."""
    logs.configure("WARNING")

    async def run() -> tuple[int, float]:
        settings = _lease_settings(database_url)
        async with (
            open_runtime(settings, reads=False) as runtime,
            make_client(fetch_limits(settings)) as client,
            runtime.bus.producer() as producer,
        ):
            poller = Poller(settings, runtime.engine, producer, client, None)
            stop = asyncio.Event()
            task = asyncio.create_task(poller.run(stop))
            while not task.done():
                await asyncio.sleep(0.5)
                async with runtime.engine.connect() as connection:
                    due = await connection.scalar(
                        select(func.count()).where(Source.next_poll_at <= datetime.now(UTC))
                    )
                if not due:
                    stop.set()
            await task
            return poller.polls, sum(os.times()[:2])

    results.put(asyncio.run(run()))


def _shared_round(database_url: str, pollers: int, sources: int, hits: Path) -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    before = json.loads(hits.read_text()) if hits.exists() else 0
    started = time.perf_counter()
    workers = [
        context.Process(target=_poller_process, args=(database_url, sources, results))
        for _ in range(pollers)
    ]
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=3600) for _ in workers]
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join(30)
    time.sleep(1)  # the server writes its counts every half second
    after = json.loads(hits.read_text())
    polls = sum(r[0] for r in reports)
    cpu = sum(r[1] for r in reports)
    print(f"{pollers} poller(s): {polls} polls in {elapsed:.1f}s", file=sys.stderr)
    return {
        "polls": polls,
        "polls_per_s": round(polls / elapsed, 1),
        # Sources polled more than once in the round: two pollers holding one source.
        "lease_conflicts": after - before - sources,
        "cpu_ms_per_poll": round(cpu * 1000 / max(polls, 1), 2),
        "per_poller_polls": sorted(r[0] for r in reports),  # type: ignore[dict-item]
        "round_s": round(elapsed, 1),
    }


async def _prepare(database_url: str, sources: int, port: int) -> None:
    """``sources`` feeds with an ETag on record (so every poll is a conditional GET), all due."""
    workdir = Path(tempfile.mkdtemp(prefix="drawdown-bench-"))
    listing = workdir / "sources.yaml"
    listing.write_text(
        "sources:\n"
        + "".join(
            f"  - {{name: 'feed {i}', url: 'http://127.0.0.1:{port}/feed/{i}', interval: 3600}}\n"
            for i in range(sources)
        )
    )
    async with open_runtime(_lease_settings(database_url), reads=False) as runtime:
        await load_sources(runtime.engine, listing)
        async with runtime.engine.begin() as connection:
            await connection.execute(update(Source).values(etag='"v1"'))
    await _due_again(database_url)


async def _due_again(database_url: str) -> None:
    settings = _lease_settings(database_url)
    async with open_runtime(settings, reads=False) as runtime, runtime.engine.begin() as connection:
        await connection.execute(
            update(Source).values(next_poll_at=datetime.now(UTC), leased_until=None)
        )


def not_modified(sources: int) -> dict[str, object]:
    """10,000 sources answering 304, polled by one poller process, then by two sharing them."""
    workdir = Path(tempfile.mkdtemp(prefix="drawdown-bench-"))
    database_url = os.environ.get(
        "DRAWDOWN_DATABASE_URL", f"sqlite+aiosqlite:///{workdir}/bench.db"
    )
    hits = workdir / "hits.json"
    port, server = local_server.spawn(serve_counting, 0, str(hits))
    try:
        asyncio.run(_prepare(database_url, sources, port))
        one = _shared_round(database_url, 1, sources, hits)
        asyncio.run(_due_again(database_url))
        two = _shared_round(database_url, 2, sources, hits)
    finally:
        server.terminate()
        server.join(10)
    return {
        "benchmark": "pollers-not-modified",
        "database": "postgresql" if "postgresql" in database_url else "sqlite",
        "sources": sources,
        "one_poller": one,
        "two_pollers": two,
        "cores": os.cpu_count(),
    }


def main() -> None:
    if sys.argv[1:2] == ["--not-modified"]:
        logs.configure("WARNING")
        print(json.dumps(not_modified(int(sys.argv[2]) if len(sys.argv) > 2 else 10_000)))
        return
    feeds = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    entries = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    logs.configure("WARNING")
    port, server = local_server.spawn(serve, entries)
    print(f"server on 127.0.0.1:{port}: {feeds} feeds x {entries} entries", file=sys.stderr)
    try:
        figures = asyncio.run(bench(feeds, entries, port, Peak(server.pid or 0)))
    finally:
        server.terminate()
        server.join(10)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
