"""Metric families computed at scrape time, rendered by ``prometheus_client``.

The figures come from the database when Prometheus scrapes, so they are built
as the library's metric families and written with its own text exposition.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Literal

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

# generate_latest writes the classic text format (0.0.4), which every Prometheus reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MetricType = Literal["counter", "gauge"]
Family = Metric


def _family(
    name: str, kind: MetricType, help_text: str, labels: Sequence[str] = ()
) -> CounterMetricFamily | GaugeMetricFamily:
    if kind == "counter":
        return CounterMetricFamily(name.removesuffix("_total"), help_text, labels=labels)
    return GaugeMetricFamily(name, help_text, labels=labels)


def single(name: str, kind: MetricType, help_text: str, value: float) -> Metric:
    family = _family(name, kind, help_text)
    family.add_metric([], value)
    return family


def labelled(
    name: str, kind: MetricType, help_text: str, label: str, values: Mapping[str, float]
) -> Metric:
    family = _family(name, kind, help_text, [label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def table(
    name: str,
    kind: MetricType,
    help_text: str,
    labels: Sequence[str],
    rows: Iterable[tuple[Sequence[str], float]],
) -> Metric:
    """A family with several labels: one sample per row of (label values, value)."""
    family = _family(name, kind, help_text, labels)
    for values, value in rows:
        family.add_metric(list(values), value)
    return family


def histogram(
    name: str, help_text: str, observations: Sequence[float], buckets: Sequence[float]
) -> Metric:
    """Cumulative bucket counts, sum and count of ``observations``."""
    ordered = sorted(observations)
    family = HistogramMetricFamily(name, help_text)
    family.add_metric(
        [],
        [(_bound(b), bisect.bisect_right(ordered, b)) for b in (*buckets, math.inf)],
        sum_value=math.fsum(ordered),
    )
    return family


def _bound(value: float) -> str:
    return "+Inf" if math.isinf(value) else (str(int(value)) if value.is_integer() else str(value))


class _Scraped(Collector):
    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        yield from self._families


def render(families: Iterable[Metric]) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Scraped(families))
    return generate_latest(registry).decode()
