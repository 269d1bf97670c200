"""The pipeline's throughput against its limits, and against the script a user would write.

One command, one run, every figure beside its ratio:

1. the reading limit: CPU per article of ``processor.analyze.analyze`` on this run's own
   texts, and cores ÷ that (the most any processor could do on this machine);
2. ``drawdown process`` draining N pre-published documents on Kafka (Tansu) and
   PostgreSQL with one and with two processes, their main processes' CPU per article
   and peak memory; the same worker in this process, counting SQL statements per
   article; and on the embedded default (SQLite, in-process bus);
3. ingestion of a local site of 60–100 KB pages (20 feeds × 50 entries, some in
   windows-1256 and cp1251): the naive peer script (bench/peer_script.py) against
   ``drawdown run`` (politeness relaxed for loopback), then fetch→alert latency on the
   idle daemon as a live feed publishes one alert-worthy entry a second.

Texts come from ../shared/corpus/news at run time (bench/newssite.py), or from the seeds.
Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and the dev dependencies (Tansu).
Run from the repo root after `make install`: .venv/bin/python bench/pipeline.py [N].
Progress goes to stderr; the last line on stdout is one JSON object of figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import local_server  # noqa: E402  (bench/, the script's own folder)
import newssite  # noqa: E402

from ingest.messages import RawArticle  # noqa: E402
from ingest.publish import publish  # noqa: E402
from processor.analyze import analyze, warm_up  # noqa: E402
from processor.worker import Worker  # noqa: E402
from services.db import create_engine, migrate  # noqa: E402
from services.models import Article, DeadLetter, Sighting  # noqa: E402
from services.runtime import make_bus, open_runtime  # noqa: E402
from services.settings import Settings  # noqa: E402
from tests.conftest import tansu_binary  # noqa: E402
from tests.servers import free_port  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432"
FEEDS = 20
CORES = os.cpu_count() or 1
TICK = os.sysconf("SC_CLK_TCK")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (the pool workers are grandchildren: forkserver)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split()
        for child in children:
            found += _tree(int(child))
    return found


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _peak_mb(pid: int) -> float:
    """Peak resident memory of ``pid``'s whole tree, in MB."""
    total = 0
    for member in _tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return round(total / 1024, 1)


def documents(n: int) -> list[RawArticle]:
    return [
        RawArticle(text=body, title=body[:60], url=f"https://outlet.com/{i}", source="bench")
        for i, (_, body) in enumerate(newssite.texts(n))
    ]


def reading_limit(docs: list[RawArticle]) -> dict[str, float]:
    warm_up()
    cpu = []
    for doc in docs:
        started = time.process_time()
        analyze(doc.title, doc.text)
        cpu.append(time.process_time() - started)
    mean = statistics.mean(cpu)
    return {"cpu_ms_per_article": round(mean * 1000, 2), "per_s": round(CORES / mean, 1)}


def pool_reading(docs: list[RawArticle]) -> float:
    """Documents per second that a pool of one process per core reads now, wall clock: the
    reading limit as this (possibly shared) machine allows it at this moment."""
    with ProcessPoolExecutor(
        CORES, mp_context=get_context("forkserver"), initializer=warm_up
    ) as pool:
        list(pool.map(_read, docs[:CORES], chunksize=1))  # warmed up
        started = time.monotonic()
        list(pool.map(_read, docs, chunksize=8))
        return round(len(docs) / (time.monotonic() - started), 1)


def _read(doc: RawArticle) -> None:
    analyze(doc.title, doc.text)


async def _until(check: Callable[[], Awaitable[bool]], timeout: float, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(every)
    return True


async def _database() -> str:
    name = f"drawdown_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    engine = create_engine(Settings(database_url=url))
    await migrate(engine)
    await engine.dispose()
    return url


async def _drop(url: str) -> None:
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()


async def _publish(settings: Settings, docs: list[RawArticle]) -> None:
    bus = make_bus(settings)
    await bus.ensure_topics([settings.topic_raw, settings.topic_dlq, settings.topic_alerts])
    async with bus.producer() as producer:
        for start in range(0, len(docs), 200):
            chunk = docs[start : start + 200]
            await asyncio.gather(*(publish(producer, settings.topic_raw, d) for d in chunk))


def _kafka_settings(url: str, bootstrap: str) -> Settings:
    unique = uuid.uuid4().hex[:8]
    return Settings(
        database_url=url,
        kafka_bootstrap=bootstrap,
        topic_prefix=f"bench{unique}",
        consumer_group=f"bench{unique}",
        kafka_session_timeout=2.0,
    )


async def _count(engine: Any, model: Any) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(model)) or 0)


async def processes(
    docs: list[RawArticle], bootstrap: str, count: int, directory: Path
) -> dict[str, Any]:
    """``count`` ``drawdown process`` processes draining ``docs`` from Kafka into PostgreSQL.

    The documents are published once every process is in the consumer group (and a few
    seconds more for the group to settle), so the figure is the drain, not a rebalance."""
    url = await _database()
    settings = _kafka_settings(url, bootstrap)
    bus = make_bus(settings)
    await bus.ensure_topics([settings.topic_raw, settings.topic_dlq, settings.topic_alerts])
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRAWDOWN_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "DRAWDOWN_DATABASE_URL": url,
        "DRAWDOWN_KAFKA_BOOTSTRAP": bootstrap,
        "DRAWDOWN_TOPIC_PREFIX": settings.topic_prefix,
        "DRAWDOWN_CONSUMER_GROUP": settings.consumer_group,
        "DRAWDOWN_KAFKA_SESSION_TIMEOUT": "2",
        "DRAWDOWN_LOG_FORMAT": "text",
    }
    logs = [directory / f"process-{n}-of-{count}.log" for n in range(count)]
    procs = [_start(["process"], env, directory, log) for log in logs]
    engine = create_engine(settings)
    try:

        async def started() -> bool:
            return all("processor started" in log.read_text() for log in logs)

        assert await _until(started, 300), "drawdown process did not start"
        await asyncio.sleep(8)  # the group's join and assignment
        await _publish(settings, docs)
        assert await _until(lambda: _some(engine), 300), "no document was stored"
        first, started_at = await _count(engine, Sighting), time.monotonic()
        cpu_before = sum(_cpu(p.pid) for p in procs)
        await _until(lambda: _all(engine, len(docs)), 900)
        elapsed = time.monotonic() - started_at
        done = await _count(engine, Sighting)
        cpu = sum(_cpu(p.pid) for p in procs) - cpu_before
        peak = sum(_peak_mb(p.pid) for p in procs)
        dead = await _count(engine, DeadLetter)
        shares = [log.read_text().count("stored message_id=") for log in logs]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(60)
        await engine.dispose()
        await _drop(url)
    return {
        "per_s": round((done - first) / elapsed, 1),
        "stored": done,
        "stored_per_process": shares,
        "dead_lettered": dead,
        "main_cpu_ms_per_article": round(cpu * 1000 / max(done - first, 1), 2),
        "peak_rss_mb": peak,
    }


def _start(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", *args],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def _some(engine: Any) -> bool:
    return await _count(engine, Sighting) > 0


async def _all(engine: Any, n: int) -> bool:
    return await _count(engine, Sighting) + await _count(engine, DeadLetter) >= n


async def in_process(docs: list[RawArticle], settings: Settings) -> dict[str, Any]:
    """The worker in this process (with its pool): throughput, SQL statements and main-process
    CPU per article. Kafka + PostgreSQL when ``settings`` say so, else the embedded default."""
    async with open_runtime(settings) as runtime:
        statements = 0

        def counted(*_: Any) -> None:
            nonlocal statements
            statements += 1

        event.listen(runtime.engine.sync_engine, "before_cursor_execute", counted)
        async with runtime.bus.producer() as producer:
            for d in docs:
                await publish(producer, settings.topic_raw, d)
        worker = Worker(settings, runtime.bus, runtime.engine, runtime.pool)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))

        async def begun() -> bool:  # joined, pool warmed up: the timing starts
            return bool(worker.processed) or task.done()

        async def drained() -> bool:
            return worker.processed >= len(docs) or task.done()

        await _until(begun, 300, every=0.01)
        first, used, cpu, started = (
            worker.processed,
            statements,
            time.process_time(),
            time.monotonic(),
        )
        await _until(drained, 900, every=0.01)
        elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
        counted, used = worker.processed - first, statements - used
        stop.set()
        await task
        async with runtime.engine.connect() as connection:
            dead = await connection.scalar(select(func.count()).select_from(DeadLetter))
    return {
        "per_s": round(counted / elapsed, 1),
        "sql_statements_per_article": round(used / max(counted, 1), 2),
        "main_cpu_ms_per_article": round(cpu * 1000 / max(counted, 1), 2),
        "dead_lettered": dead,
    }


def _sources(directory: Path, base: str) -> Path:
    lines = ["sources:"]
    for f in range(FEEDS):
        lines += [f"  - name: Outlet {f}", f"    url: {base}/feed/{f}.xml", "    interval: 3600"]
    lines += ["  - name: Live", f"    url: {base}/live.xml", "    interval: 1"]
    path = directory / "sources.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def peer(base: str, directory: Path) -> dict[str, Any]:
    script = ROOT / "bench" / "peer_script.py"
    command = [sys.executable, str(script), base, str(FEEDS), str(directory / "peer.db")]
    result = json.loads(subprocess.run(command, capture_output=True, check=True).stdout)
    return {"per_s": round(result["articles"] / result["seconds"], 1), **result}


async def daemon(base: str, directory: Path, entries: int) -> dict[str, Any]:
    """``drawdown run`` on the embedded default ingesting the site, then the live feed."""
    port = free_port()
    database = f"sqlite+aiosqlite:///{directory}/drawdown.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRAWDOWN_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "DRAWDOWN_DATABASE_URL": database,
        "DRAWDOWN_SOURCES": str(_sources(directory, base)),
        "DRAWDOWN_HTTP_ADDR": f"127.0.0.1:{port}",
        "DRAWDOWN_MIN_POLL_INTERVAL": "1",
        "DRAWDOWN_PER_HOST_DELAY": "0",  # politeness relaxed: every feed is on 127.0.0.1
        "DRAWDOWN_PER_HOST_CONCURRENCY": "8",
        "DRAWDOWN_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32",
    }
    process = _start(["run"], env, directory, directory / "run.log")
    engine = create_engine(Settings(database_url=database))
    try:
        async with httpx.AsyncClient() as client:

            async def ready() -> bool:
                try:
                    answer = await client.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                except httpx.TransportError:
                    return False
                return answer.status_code == 200

            assert await _until(ready, 300), "drawdown run never became ready"
            started = time.monotonic()
            await _until(lambda: _all(engine, entries), 900)
            elapsed = time.monotonic() - started
            stored = await _count(engine, Sighting)
            say(f"daemon ingested {stored} in {elapsed:.1f}s; live feed next")
            await client.get(f"{base}/start-live")
            await _until(lambda: _all(engine, entries + newssite.LIVE), 120)
            await asyncio.sleep(0.5)
            served = (await client.get(f"{base}/served")).json()
        latencies = await _latencies(engine, served)
        peak = _peak_mb(process.pid)
    finally:
        process.terminate()
        process.wait(60)
        await engine.dispose()
    quantiles = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    return {
        "per_s": round(stored / elapsed, 1),
        "stored": stored,
        "fetch_to_alert_ms_p50": round(statistics.median(latencies) * 1000) if latencies else None,
        "fetch_to_alert_ms_p95": round(quantiles[18] * 1000) if latencies else None,
        "alerts_timed": len(latencies),
        "peak_rss_mb": peak,
    }


async def _latencies(engine: Any, served: dict[str, float]) -> list[float]:
    """Seconds from serving each live page to its article's alert."""
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(Article.canonical_url, Article.alerted_at).where(
                    Article.canonical_url.like("%/live/%")
                )
            )
        ).all()
    found = []
    for url, alerted_at in rows:
        i = url.rsplit("/", 1)[1].removesuffix(".html")
        if alerted_at is not None and i in served:
            found.append(alerted_at.timestamp() - served[i])
    return found


def _tansu() -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    return f"127.0.0.1:{port}", process


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


async def run(n: int) -> dict[str, Any]:
    docs = documents(n)
    say(f"{n} documents, mean {statistics.mean(len(d.text) for d in docs):.0f} characters")
    limit = reading_limit(docs[: min(n, 400)])
    say(f"reading limit {limit}")
    pooled = pool_reading(docs)
    say(f"a pool of {CORES} reading alone, now: {pooled}/s")
    bootstrap, broker = _tansu()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            one = await processes(docs, bootstrap, 1, Path(scratch))
            say(f"one drawdown process: {one}")
            two = await processes(docs, bootstrap, 2, Path(scratch))
        say(f"two drawdown processes: {two}")
        url = await _database()
        try:
            counted = await in_process(docs[: min(n, 500)], _kafka_settings(url, bootstrap))
        finally:
            await _drop(url)
        say(f"worker in process, Kafka + PostgreSQL: {counted}")
    finally:
        broker.terminate()
        broker.wait(10)
    with tempfile.TemporaryDirectory() as scratch:
        embedded = await in_process(
            docs, Settings(database_url=f"sqlite+aiosqlite:///{scratch}/embedded.db")
        )
    say(f"embedded default: {embedded}")
    port, server = local_server.spawn(newssite.serve, FEEDS)
    base = f"http://127.0.0.1:{port}"
    try:
        with tempfile.TemporaryDirectory() as scratch:
            peer_figures = peer(base, Path(scratch))
            say(f"peer script: {peer_figures}")
            run_figures = await daemon(base, Path(scratch), FEEDS * newssite.ENTRIES)
            say(f"drawdown run: {run_figures}")
    finally:
        server.terminate()
    return {
        "benchmark": "pipeline",
        "documents": n,
        "reading_cpu_ms_per_article": limit["cpu_ms_per_article"],
        "reading_limit_per_s": limit["per_s"],
        "kafka_pg_1_process": one,
        "kafka_pg_2_processes": two,
        "kafka_pg_in_process": counted,
        "embedded": embedded,
        "pool_reading_now_per_s": pooled,
        "ratios": {
            "pool_reading_now_to_limit": ratio(pooled, limit["per_s"]),
            "two_processes_to_pool_reading_now": ratio(two["per_s"], pooled),
            "embedded_to_pool_reading_now": ratio(embedded["per_s"], pooled),
            "one_process_to_limit": ratio(one["per_s"], limit["per_s"]),
            "two_processes_to_limit": ratio(two["per_s"], limit["per_s"]),
            "two_to_one": ratio(two["per_s"], one["per_s"]),
            "embedded_to_limit": ratio(embedded["per_s"], limit["per_s"]),
            "drawdown_run_to_peer_script": ratio(run_figures["per_s"], peer_figures["per_s"]),
        },
        "sql_statements_per_article": counted["sql_statements_per_article"],
        "sql_statements_per_article_embedded": embedded["sql_statements_per_article"],
        "peer_script": peer_figures,
        "drawdown_run": run_figures,
        "dead_lettered": one["dead_lettered"] + two["dead_lettered"] + embedded["dead_lettered"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cores": CORES,
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print(json.dumps(asyncio.run(run(n))))


if __name__ == "__main__":
    main()
