"""The always-on daemon: every available role in one process, stopped by SIGINT/SIGTERM.

Roles run under one TaskGroup. A signal sets the stop event; each role
finishes the work in hand (the processor commits its batch), then resources
close in reverse order of opening.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from typing import Any

from processor.worker import Worker
from services.runtime import Runtime, open_runtime
from services.settings import Settings

log = logging.getLogger(__name__)

Role = Callable[[Runtime, asyncio.Event], Coroutine[Any, Any, None]]


async def process_role(runtime: Runtime, stop: asyncio.Event) -> None:
    worker = Worker(runtime.settings, runtime.bus, runtime.engine, runtime.executor)
    await worker.run(stop)


ROLES: dict[str, Role] = {"process": process_role}


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _stopping, stop, sig)


def _stopping(stop: asyncio.Event, sig: signal.Signals) -> None:
    log.info("received %s, draining and stopping", sig.name)
    stop.set()


async def run(settings: Settings, roles: list[str], stop: asyncio.Event | None = None) -> None:
    """Run ``roles`` until ``stop`` is set (by a signal unless a stop event is given)."""
    if stop is None:
        stop = asyncio.Event()
        install_signal_handlers(stop)
    async with open_runtime(settings) as runtime:
        log.info("daemon started roles=%s", ",".join(roles))
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(ROLES[name](runtime, stop), name=name) for name in roles]
            group.create_task(_enforce_deadline(stop, tasks, settings.shutdown_timeout))
    log.info("daemon stopped")


async def _enforce_deadline(
    stop: asyncio.Event, tasks: list[asyncio.Task[None]], timeout: float
) -> None:
    """Once stopping, give roles ``timeout`` seconds to finish their work, then cancel them."""
    await stop.wait()
    _, late = await asyncio.wait(tasks, timeout=timeout)
    for task in late:
        log.warning("role %s did not stop within %.0fs; cancelling it", task.get_name(), timeout)
        task.cancel()
