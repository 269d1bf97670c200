"""What trafilatura's options cost and change, on saved publisher pages.

Extracts every page of ``../shared/corpus/pages`` (real pages from trafilatura's own
test suite, as publishers serve them) with each candidate setting and reports the
CPU time per page and, as the measure of text quality, the word overlap (F1 over word
multisets) with the recall-oriented reference (``favor_recall`` with every fallback
on): how much of the article a setting keeps, and how much else it adds. Run from the
repo root after `make install`: .venv/bin/python bench/extraction.py. Progress goes to
stderr; the last line on stdout is one JSON object of figures.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.extract import extract  # noqa: E402

PAGES = ROOT.parent / "shared" / "corpus" / "pages"


def _bare(html: bytes, **options: Any) -> str:
    document = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, **options
    )
    return (getattr(document, "text", None) or "") if document is not None else ""


def _bare_without_metadata(html: bytes) -> str:
    document = trafilatura.bare_extraction(html, with_metadata=False, include_comments=False)
    return (getattr(document, "text", None) or "") if document is not None else ""


def _json(html: bytes, **options: Any) -> str:
    result = trafilatura.extract(
        html, output_format="json", with_metadata=True, include_comments=False, **options
    )
    return json.loads(result).get("text") or "" if result else ""


def _drawdown(html: bytes, *, dated: bool = False) -> str:
    try:
        return extract(html, dated=dated).text
    except Exception:  # noqa: BLE001 - no article: the empty text
        return ""


SETTINGS: dict[str, Callable[[bytes], str]] = {
    "json default (before)": lambda h: _json(h),
    "json fast": lambda h: _json(h, fast=True),
    "json favor_precision": lambda h: _json(h, favor_precision=True),
    "json favor_precision fast": lambda h: _json(h, favor_precision=True, fast=True),
    "bare default": lambda h: _bare(h),
    "bare fast": lambda h: _bare(h, fast=True),
    "bare favor_precision fast": lambda h: _bare(h, favor_precision=True, fast=True),
    "drawdown (ingest.extract)": _drawdown,
    "drawdown, feed entry dated": lambda h: _drawdown(h, dated=True),
    "bare without metadata": lambda h: _bare_without_metadata(h),
}


def _f1(got: str, reference: str) -> float:
    a, b = Counter(got.split()), Counter(reference.split())
    common = sum((a & b).values())
    if not a and not b:
        return 1.0
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def main() -> None:
    if not PAGES.is_dir():
        print(json.dumps({"benchmark": "extraction", "skipped": f"{PAGES} is absent"}))
        return
    pages = [p.read_bytes() for p in sorted(PAGES.glob("*.html"))]
    reference = [_json(h, favor_recall=True) for h in pages]
    figures: dict[str, Any] = {}
    for name, run in SETTINGS.items():
        cpu, overlap, empty, chars = [], [], 0, 0
        for html, ref in zip(pages, reference, strict=True):
            started = time.process_time()
            text = run(html)
            cpu.append(time.process_time() - started)
            overlap.append(_f1(text, ref))
            empty += not text
            chars += len(text)
        figures[name] = {
            "cpu_ms_mean": round(statistics.mean(cpu) * 1000, 1),
            "cpu_ms_p95": round(statistics.quantiles(cpu, n=20)[18] * 1000, 1),
            "word_f1_vs_recall": round(statistics.mean(overlap), 3),
            "empty_pages": empty,
            "chars_mean": round(chars / len(pages)),
        }
        print(f"{name}: {figures[name]}", file=sys.stderr)
    print(
        json.dumps(
            {
                "benchmark": "extraction",
                "pages": len(pages),
                "settings": figures,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "cores": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
