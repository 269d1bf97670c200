"""ingest.gate.HostGate: per-host concurrency and spacing between request starts."""

from __future__ import annotations

import asyncio
import itertools
import time

from ingest.gate import HostGate


async def _requests(gate: HostGate, urls: list[str], hold: float) -> list[tuple[str, float]]:
    starts: list[tuple[str, float]] = []
    running: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def one(url: str) -> None:
        host = url.split("/")[2]
        async with gate.slot(url):
            starts.append((host, time.monotonic()))
            running[host] = running.get(host, 0) + 1
            peak[host] = max(peak.get(host, 0), running[host])
            await asyncio.sleep(hold)
            running[host] -= 1

    await asyncio.gather(*(one(url) for url in urls))
    assert all(count <= 2 for count in peak.values()), peak
    return starts


async def test_at_most_n_requests_at_once_per_host_and_hosts_are_independent() -> None:
    gate = HostGate(concurrency=2, delay=0)
    urls = [f"https://a.example/{i}" for i in range(6)] + ["https://b.example/x"] * 2
    started = time.monotonic()
    starts = await _requests(gate, urls, hold=0.05)
    b_starts = [t - started for host, t in starts if host == "b.example"]
    assert max(b_starts) < 0.04  # b.example never waited for a.example
    assert time.monotonic() - started >= 0.15  # six on a.example, two at a time


async def test_request_starts_to_one_host_are_spaced_by_the_delay() -> None:
    gate = HostGate(concurrency=4, delay=0.05)
    starts = await _requests(gate, [f"https://A.example/{i}" for i in range(4)], hold=0)
    times = sorted(t for _, t in starts)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap >= 0.045 for gap in gaps), gaps
