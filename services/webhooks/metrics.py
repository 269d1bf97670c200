"""In-process webhook counters of one dispatcher (the benchmark reads them; ``/metrics``
reads the same figures for the whole deployment from the database).

``METRICS`` is the process's one registry: plain counters and two histograms with
Prometheus-style cumulative buckets, updated by the dispatcher as attempts come
back. ``METRICS.snapshot()`` returns them as a dict. Counts are per process since
it started; several dispatchers each count their own.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

BUCKETS_MS = (5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0)


@dataclass
class Histogram:
    """Observations in milliseconds; ``counts[i]`` is how many were ≤ ``BUCKETS_MS[i]``
    (cumulative, as Prometheus exposes them), the last one +Inf."""

    buckets: tuple[float, ...] = BUCKETS_MS
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_MS) + 1))
    total: float = 0.0
    count: int = 0

    def observe(self, value_ms: float) -> None:
        for index in range(bisect.bisect_left(self.buckets, value_ms), len(self.counts)):
            self.counts[index] += 1
        self.total += value_ms
        self.count += 1

    def snapshot(self) -> dict[str, Any]:
        bounds = [*(str(b) for b in self.buckets), "+Inf"]
        return {
            "buckets": dict(zip(bounds, self.counts, strict=True)),
            "sum": self.total,
            "count": self.count,
        }


@dataclass
class WebhookMetrics:
    attempts: int = 0  # requests made (or refused by the guard)
    delivered: int = 0  # deliveries that got a 2xx
    retried: int = 0  # attempts that failed and were scheduled again
    dead: int = 0  # deliveries given up (retry horizon passed, or a blocked address)
    cancelled: int = 0  # deliveries dropped because their endpoint answered 410
    blocked: int = 0  # attempts the SSRF guard refused
    latency_ms: Histogram = field(default_factory=Histogram)  # per attempt with an answer
    lag_ms: Histogram = field(default_factory=Histogram)  # alert event created → delivered

    def record(
        self, status: str, *, blocked: bool, latency_ms: float | None, lag_ms: float | None
    ) -> None:
        """Count one attempt whose delivery is now ``status``."""
        self.attempts += 1
        self.blocked += blocked
        if latency_ms is not None and not blocked:
            self.latency_ms.observe(latency_ms)
        if status == "delivered":
            self.delivered += 1
            if lag_ms is not None:
                self.lag_ms.observe(lag_ms)
        elif status == "pending":
            self.retried += 1
        elif status == "dead":
            self.dead += 1
        elif status == "cancelled":
            self.cancelled += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "delivered": self.delivered,
            "retried": self.retried,
            "dead": self.dead,
            "cancelled": self.cancelled,
            "blocked": self.blocked,
            "latency_ms": self.latency_ms.snapshot(),
            "lag_ms": self.lag_ms.snapshot(),
        }


METRICS = WebhookMetrics()
