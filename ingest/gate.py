"""Politeness per host: at most N requests at once, and a minimum delay between request starts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(slots=True)
class _Host:
    slots: asyncio.Semaphore
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0


class HostGate:
    """``async with gate.slot(url):`` around every request to ``url``'s host."""

    def __init__(
        self, concurrency: int, delay: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._concurrency = concurrency
        self._delay = delay
        self._clock = clock
        self._hosts: dict[str, _Host] = {}

    @asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        host = (urlsplit(url).hostname or "").lower()
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Host(asyncio.Semaphore(self._concurrency))
        async with state.slots:
            if self._delay > 0:
                async with state.turn:  # request starts to one host are spaced by the delay
                    wait = state.next_start - self._clock()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    state.next_start = self._clock() + self._delay
            yield
