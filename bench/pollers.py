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

Run from the repo root after `make install`:
    .venv/bin/python bench/pollers.py [FEEDS] [ENTRIES]
Progress goes to stderr; the last line on stdout is one JSON object of figures.
"""

from __future__ import annotations

import asyncio
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

from sqlalchemy import update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import local_server  # noqa: E402  (bench/, the script's own folder)

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

    def __init__(self, port: int, entries: int, pages: list[bytes], robots: bytes) -> None:
        self._port, self._entries, self._pages, self._robots = port, entries, pages, robots
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
            self._respond(path)

    def _respond(self, path: str) -> None:
        status, kind, body = "200 OK", "text/html; charset=utf-8", b""
        if path.startswith("/feed/"):
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


def serve(port: int, entries: int, ready: multiprocessing.synchronize.Event) -> None:
    pages, robots = _pages(entries)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _Http(port, entries, pages, robots), "127.0.0.1", port, backlog=1024
        )
        ready.set()
        async with server:
            await server.serve_forever()

    with suppress(KeyboardInterrupt):
        asyncio.run(main())


# ---- measuring -------------------------------------------------------------------------


def _memory_mb(pids: list[int], field: str) -> float:
    """Sum of ``field`` (VmRSS in status, Pss in smaps_rollup) over ``pids``, in MB."""
    total = 0
    source = "status" if field == "VmRSS:" else "smaps_rollup"
    for pid in pids:
        with suppress(OSError), open(f"/proc/{pid}/{source}") as lines:
            for line in lines:
                if line.startswith(field):
                    total += int(line.split()[1])
    return total / 1024


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the pool's workers are the forkserver's children)."""
    found: list[int] = []
    with suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found += [int(child), *_descendants(int(child))]
    return found


class Peak:
    """Peak memory: the poller process's RSS, and the proportional set size (shared pages
    counted once) of the poller with its process pool."""

    def __init__(self, server_pid: int) -> None:
        self.own = 0.0
        self.with_pool = 0.0
        self._server = server_pid

    def sample(self) -> None:
        pool = [pid for pid in _descendants(os.getpid()) if pid != self._server]
        self.own = max(self.own, _memory_mb([os.getpid()], "VmRSS:"))
        self.with_pool = max(self.with_pool, _memory_mb([os.getpid(), *pool], "Pss:"))


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
            poller = Poller(settings, runtime.engine, producer, client, runtime.executor)
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


def main() -> None:
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
