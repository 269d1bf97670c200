"""How fast one process reads documents: normalize, language, places, cues, events.

Each of the five seed articles is cut or repeated to exactly 5,000 characters
and read many times on one core: tagging alone (normalize, language, mentions,
events) and the whole reading (with the content hash and the near-duplicate
fingerprint). Run from the repo root after `make install`:
.venv/bin/python bench/reading.py [ROUNDS]. Progress goes to stderr; the last
line on stdout is one JSON object of figures.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

from processor.analyze import analyze, warm_up

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
LENGTH = 5_000


def _documents() -> list[tuple[str, str]]:
    documents = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text("utf-8")
        while len(text) < LENGTH:
            text = f"{text}\n\n{text}"
        documents.append((text.split("\n", 1)[0], text[:LENGTH]))
    return documents


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    documents = _documents()
    started = time.perf_counter()
    warm_up()
    for title, text in documents:
        analyze(title, text)
    warm = time.perf_counter() - started
    latencies, tagging = [], []
    for round_ in range(rounds):
        for title, text in documents:
            t0 = time.perf_counter()
            analyze(title, text)
            t1 = time.perf_counter()
            analyze(title, text, fingerprinted=False)
            tagging.append(time.perf_counter() - t1)
            latencies.append(t1 - t0)
        if round_ % 20 == 0:
            print(f"round {round_ + 1}/{rounds}", file=sys.stderr)
    total = sum(latencies)
    quantiles = statistics.quantiles(latencies, n=20)
    print(
        json.dumps(
            {
                "benchmark": "reading",
                "document_chars": LENGTH,
                "documents": len(latencies),
                "docs_per_s": round(len(latencies) / total, 1),
                "chars_per_s": round(LENGTH * len(latencies) / total),
                "tagging_ms_p50": round(statistics.median(tagging) * 1000, 2),
                "tagging_ms_p95": round(statistics.quantiles(tagging, n=20)[18] * 1000, 2),
                "latency_ms_p50": round(statistics.median(latencies) * 1000, 2),
                "latency_ms_p95": round(quantiles[18] * 1000, 2),
                "warm_up_s": round(warm, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "cores": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
