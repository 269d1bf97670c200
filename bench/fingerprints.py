"""Near-duplicate lookups against a million stored fingerprints, on PostgreSQL.

Needs PostgreSQL on 127.0.0.1:5432 (user postgres). Creates a database of its
own, migrates it, bulk-loads N articles with their signatures and band keys
(default 1,000,000; COPY in PostgreSQL's binary format built with numpy, the
band table's primary key and foreign keys added after the load, as a restore
would), then times ``processor.nearby.find_near_duplicate`` for 1,000 lookups
and drops the database. Also times ``fingerprint`` on 5,000-character texts.

The stored signatures are synthetic but shaped like a news archive's: 70 % are
unrelated stories (independent random signatures), 30 % come in clusters of
2–10 related stories (follow-ups, rewrites) whose signatures agree with their
cluster's first on 10–45 % of positions, below the near-duplicate threshold,
so they share band keys and make real candidate lists. Lookups: 40 % an exact
copy of a stored story, 30 % an edited copy (60–95 % agreement) — both must find
it — 15 % an unrelated story and 15 % a related one (10–40 %) — both must find
nothing.

Run from the repo root: .venv/bin/python bench/fingerprints.py [N]. Progress goes
to stderr; the last line on stdout is one JSON object of figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import numpy as np
import numpy.typing as npt

from processor.fingerprint import BANDS, PERMUTATIONS, Fingerprint, band_keys, fingerprint
from processor.nearby import NEAR_DUPLICATE_THRESHOLD, find_near_duplicate
from processor.normalize import normalize_text
from services.db import create_engine, migrate, sessionmaker
from services.settings import Settings

SERVER = "postgresql://postgres@127.0.0.1:5432"
SEEDS = Path(__file__).resolve().parent.parent / "seeds"
LOOKUPS = 1_000
CHUNK = 100_000  # articles per COPY chunk
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
ARTICLE_COLUMNS = [
    *("id", "content_hash", "title", "text", "languages", "source", "truncated", "created_at")
]

Signatures = npt.NDArray[np.uint32]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def related(rng: np.random.Generator, base: Signatures, agreement: npt.ArrayLike) -> Signatures:
    """Copies of ``base`` rows agreeing with them on about ``agreement`` of the positions."""
    changed = rng.random(base.shape) >= np.asarray(agreement).reshape(-1, 1)
    fresh = rng.integers(0, 2**32, size=base.shape, dtype=np.uint32)
    return np.where(changed, fresh, base)


def corpus(rng: np.random.Generator, n: int) -> Signatures:
    """Unrelated stories, then clusters of related ones (see the module docstring)."""
    signatures = rng.integers(0, 2**32, size=(n, PERMUTATIONS), dtype=np.uint32)
    start = int(n * 0.7)
    while start < n:
        size = min(int(rng.integers(2, 11)), n - start)
        members = np.repeat(signatures[start : start + 1], size - 1, axis=0)
        agreement = rng.uniform(0.1, 0.45, size - 1)
        signatures[start + 1 : start + size] = related(rng, members, agreement)
        start += size
    return signatures


def uuids(rng: np.random.Generator, n: int) -> npt.NDArray[np.uint8]:
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw


HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)


async def binary_rows(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """PostgreSQL's binary COPY stream: header, the tuples as they come, trailer."""
    yield HEADER
    async for chunk in chunks:
        yield chunk
    yield TRAILER


async def band_tuples(ids: npt.NDArray[np.uint8], signatures: Signatures) -> AsyncIterator[bytes]:
    """(band BIGINT, article_id UUID) tuples, BANDS per article, built with numpy."""
    row = np.dtype([("n", ">i2"), ("l1", ">i4"), ("band", ">i8"), ("l2", ">i4"), ("id", "V16")])
    for start in range(0, len(ids), CHUNK):
        keys = band_keys(signatures[start : start + CHUNK]).reshape(-1)
        rows = np.empty(len(keys), dtype=row)
        rows["n"], rows["l1"], rows["l2"] = 2, 8, 16
        rows["band"] = keys
        rows["id"] = np.repeat(ids[start : start + CHUNK], BANDS, axis=0).view("V16").reshape(-1)
        yield rows.tobytes()
        await asyncio.sleep(0)


async def signature_tuples(
    ids: npt.NDArray[np.uint8], signatures: Signatures
) -> AsyncIterator[bytes]:
    """(article_id UUID, signature BYTEA) tuples."""
    size = 4 * PERMUTATIONS
    row = np.dtype([("n", ">i2"), ("l1", ">i4"), ("id", "V16"), ("l2", ">i4"), ("sig", f"V{size}")])
    for start in range(0, len(ids), CHUNK):
        part = signatures[start : start + CHUNK].astype("<u4")
        rows = np.empty(len(part), dtype=row)
        rows["n"], rows["l1"], rows["l2"] = 2, 16, size
        rows["id"] = ids[start : start + CHUNK].view("V16").reshape(-1)
        rows["sig"] = part.view(f"V{size}").reshape(-1)
        yield rows.tobytes()
        await asyncio.sleep(0)


async def load(dsn: str, ids: npt.NDArray[np.uint8], signatures: Signatures) -> dict[str, float]:
    """Articles, signatures and band keys, then the band table's keys; seconds per step."""
    times: dict[str, float] = {}
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SET maintenance_work_mem = '1GB'")
        for table in ("article_bands", "article_fingerprints"):
            await connection.execute(
                f"ALTER TABLE {table} DROP CONSTRAINT fk_{table}_article_id_articles"
            )
        await connection.execute("ALTER TABLE article_bands DROP CONSTRAINT pk_article_bands")

        t0 = time.perf_counter()
        for start in range(0, len(ids), CHUNK):
            records = [
                (
                    uuid.UUID(bytes=raw.tobytes()),
                    raw.tobytes().hex() * 2,
                    "",
                    "",
                    "[]",
                    "bench",
                    False,
                    EPOCH + timedelta(seconds=30 * (start + i)),
                )
                for i, raw in enumerate(ids[start : start + CHUNK])
            ]
            await connection.copy_records_to_table(
                "articles",
                records=records,
                columns=ARTICLE_COLUMNS,
            )
            log(f"articles {start + len(records):,}/{len(ids):,}")
        times["articles_s"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        await connection.copy_to_table(
            "article_fingerprints",
            source=binary_rows(signature_tuples(ids, signatures)),
            columns=["article_id", "signature"],
            format="binary",
        )
        times["signatures_s"] = time.perf_counter() - t0
        log(f"signatures {len(ids):,} in {times['signatures_s']:.1f}s")

        t0 = time.perf_counter()
        await connection.copy_to_table(
            "article_bands",
            source=binary_rows(band_tuples(ids, signatures)),
            columns=["band", "article_id"],
            format="binary",
        )
        times["bands_s"] = time.perf_counter() - t0
        log(f"band keys {len(ids) * BANDS:,} in {times['bands_s']:.1f}s")

        t0 = time.perf_counter()
        await connection.execute(
            "ALTER TABLE article_bands ADD CONSTRAINT pk_article_bands "
            "PRIMARY KEY (band, article_id)"
        )
        times["index_s"] = time.perf_counter() - t0
        log(f"primary key in {times['index_s']:.1f}s")

        t0 = time.perf_counter()
        for table in ("article_bands", "article_fingerprints"):
            await connection.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_article_id_articles "
                "FOREIGN KEY (article_id) REFERENCES articles (id)"
            )
        await connection.execute("VACUUM (ANALYZE) articles, article_fingerprints, article_bands")
        times["constraints_vacuum_s"] = time.perf_counter() - t0
        log(f"foreign keys, vacuum and analyze in {times['constraints_vacuum_s']:.1f}s")
        size = await connection.fetchval("SELECT pg_database_size(current_database())")
        times["database_mb"] = size / 2**20
    finally:
        await connection.close()
    return times


@dataclass(frozen=True, slots=True)
class Lookup:
    kind: str  # copy | edited | unrelated | related
    fp: Fingerprint
    expected: uuid.UUID | None


def lookups(
    rng: np.random.Generator, ids: npt.NDArray[np.uint8], signatures: Signatures
) -> list[Lookup]:
    def fp(signature: Signatures) -> Fingerprint:
        return Fingerprint(signature.tobytes(), tuple(band_keys(signature).tolist()))

    plan = [("copy", 0.4), ("edited", 0.3), ("unrelated", 0.15), ("related", 0.15)]
    found: list[Lookup] = []
    for kind, share in plan:
        count = int(LOOKUPS * share)
        picked = rng.choice(len(ids), size=count, replace=False)
        base = signatures[picked]
        if kind == "edited":
            base = related(rng, base, rng.uniform(0.6, 0.95, count))
        elif kind == "related":
            base = related(rng, base, rng.uniform(0.1, 0.4, count))
        elif kind == "unrelated":
            base = rng.integers(0, 2**32, size=base.shape, dtype=np.uint32)
        for index, signature in zip(picked, base, strict=True):
            expected = uuid.UUID(bytes=ids[index].tobytes()) if kind in ("copy", "edited") else None
            found.append(Lookup(kind, fp(signature), expected))
    order = rng.permutation(len(found))
    return [found[i] for i in order]


async def time_lookups(url: str, queries: list[Lookup]) -> tuple[list[float], dict[str, int]]:
    """Latencies, and per kind of lookup how many there were and how many came out wrong
    (a copy not finding its article, another story finding one)."""
    engine = create_engine(Settings(database_url=url))
    sessions = sessionmaker(engine)
    latencies: list[float] = []
    kinds = sorted({query.kind for query in queries})
    outcome = {f"{kind}_{what}": 0 for kind in kinds for what in ("lookups", "wrong")}
    try:
        async with sessions() as session:  # warm the pool and the prepared statements
            for query in queries[:20]:
                await find_near_duplicate(session, query.fp, NEAR_DUPLICATE_THRESHOLD)
        for start in range(0, len(queries), 100):
            async with sessions() as session:
                for query in queries[start : start + 100]:
                    t0 = time.perf_counter()
                    got = await find_near_duplicate(session, query.fp, NEAR_DUPLICATE_THRESHOLD)
                    latencies.append(time.perf_counter() - t0)
                    outcome[f"{query.kind}_lookups"] += 1
                    outcome[f"{query.kind}_wrong"] += got != query.expected
    finally:
        await engine.dispose()
    return latencies, outcome


def fingerprint_ms_p50(rounds: int = 200) -> float:
    texts = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text("utf-8")
        while len(text) < 5_000:
            text = f"{text}\n\n{text}"
        texts.append(normalize_text(text[:5_000]))
    latencies = []
    for _ in range(rounds):
        for text in texts:
            t0 = time.perf_counter()
            fingerprint(text)
            latencies.append(time.perf_counter() - t0)
    return statistics.median(latencies) * 1000


async def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    name = f"drawdown_bench_fp_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    started = time.perf_counter()
    try:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        engine = create_engine(Settings(database_url=url))
        await migrate(engine)
        await engine.dispose()
        rng = np.random.default_rng(20260223)
        t0 = time.perf_counter()
        signatures = corpus(rng, n)
        ids = uuids(rng, n)
        log(f"generated {n:,} signatures in {time.perf_counter() - t0:.1f}s")
        t0 = time.perf_counter()
        steps = await load(f"{SERVER}/{name}", ids, signatures)
        load_s = time.perf_counter() - t0
        queries = lookups(rng, ids, signatures)
        latencies, outcome = await time_lookups(url, queries)
        log(f"{len(latencies)} lookups")
        quantiles = statistics.quantiles(latencies, n=20)
        figures = {
            "benchmark": "fingerprints",
            "fingerprints": n,
            "band_rows": n * BANDS,
            "lookups": len(latencies),
            "lookup_ms_p50": round(statistics.median(latencies) * 1000, 3),
            "lookup_ms_p95": round(quantiles[18] * 1000, 3),
            **outcome,
            "load_s": round(load_s, 1),
            **{key: round(value, 1) for key, value in steps.items()},
            "fingerprint_ms_p50": round(fingerprint_ms_p50(), 3),
            "total_s": round(time.perf_counter() - started, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "cores": os.cpu_count(),
        }
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    if not re.fullmatch(r"\d*", "".join(sys.argv[1:2])):
        sys.exit("usage: bench/fingerprints.py [N]")
    asyncio.run(main())
