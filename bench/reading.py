"""How fast one process reads documents: normalize, language, places, cues, events.

Run from the repo root after `make install`: .venv/bin/python bench/reading.py [ROUNDS].
Progress goes to stderr; the last line on stdout is one JSON object of figures.
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


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    documents = [p.read_text("utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    started = time.perf_counter()
    warm_up()
    warm = time.perf_counter() - started
    latencies = []
    characters = 0
    for round_ in range(rounds):
        for text in documents:
            title = text.split("\n", 1)[0]
            t0 = time.perf_counter()
            analyze(title, text)
            latencies.append(time.perf_counter() - t0)
            characters += len(text)
        if round_ % 10 == 0:
            print(f"round {round_ + 1}/{rounds}", file=sys.stderr)
    total = sum(latencies)
    quantiles = statistics.quantiles(latencies, n=20)
    print(
        json.dumps(
            {
                "benchmark": "reading",
                "documents": len(latencies),
                "docs_per_s": round(len(latencies) / total, 1),
                "chars_per_s": round(characters / total),
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
