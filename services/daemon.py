"""The always-on daemon: every available role in one process, stopped by SIGINT/SIGTERM.

Roles run under one TaskGroup, next to the heartbeat that keeps this process's
row in ``processes`` fresh for ``drawdown status`` (services/heartbeat.py). A
signal sets the stop event; each role finishes the work in hand (the pollers
their polls in flight, the processor its batch), the row is deleted, then
resources close in reverse order of opening. SIGHUP loads the sources file again
(its sources and subscriptions), so a running daemon takes up an edited file.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from typing import Any

from ingest.fetch import make_client
from ingest.poll import fetch_limits
from ingest.poller import Poller
from ingest.sources import load_sources, load_subscriptions, sources_path
from processor.worker import Worker
from services import heartbeat, logs
from services.api.role import api_role
from services.errors import DrawdownError
from services.runtime import Runtime, open_runtime
from services.settings import Settings
from services.webhooks.dispatcher import Dispatcher
from services.webhooks.subscriptions import announce_secrets
from services.webhooks.transport import make_webhook_client

log = logging.getLogger(__name__)

Role = Callable[[Runtime, asyncio.Event], Coroutine[Any, Any, None]]


async def process_role(runtime: Runtime, stop: asyncio.Event) -> None:
    worker = Worker(runtime.settings, runtime.bus, runtime.engine, runtime.pool)
    await worker.run(stop)


async def ingest_role(runtime: Runtime, stop: asyncio.Event) -> None:
    """Load the sources file, then poll sources until stopped."""
    settings = runtime.settings
    await load_sources(runtime.engine, sources_path(settings.sources))
    async with (
        make_client(
            fetch_limits(settings),
            settings.fetch_allowed_networks,
            sandbox=settings.fetch_sandbox,
        ) as client,
        runtime.bus.producer() as producer,
    ):
        poller = Poller(settings, runtime.engine, producer, client, runtime.pool)
        await poller.run(stop)


async def dispatch_role(runtime: Runtime, stop: asyncio.Event) -> None:
    """Send the webhook deliveries the processor wrote, until stopped."""
    async with make_webhook_client(runtime.settings) as client:
        await Dispatcher(runtime.settings, runtime.engine, client).run(stop)


ROLES: dict[str, Role] = {
    "ingest": ingest_role,
    "process": process_role,
    "dispatch": dispatch_role,
    "api": api_role,
}
# Roles that need the sources file's subscriptions in the database before they start:
# the processor writes deliveries for them, the dispatcher sends to them.
NEEDS_SUBSCRIPTIONS = frozenset({"process", "dispatch"})


def install_signal_handlers(stop: asyncio.Event, reload: asyncio.Event | None = None) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _stopping, stop, sig)
    if reload is not None:
        loop.add_signal_handler(signal.SIGHUP, _reloading, reload)


def _reloading(reload: asyncio.Event) -> None:
    log.info("received SIGHUP, reloading the sources file", extra={"signal": "SIGHUP"})
    reload.set()


async def reload_on_signal(
    runtime: Runtime, roles: list[str], reload: asyncio.Event, stop: asyncio.Event
) -> None:
    """Each time ``reload`` is set (SIGHUP), load the sources file again: its sources if
    this process polls, its subscriptions if it writes or sends deliveries. A file with a
    mistake is logged and changes nothing; the daemon runs on."""
    path = sources_path(runtime.settings.sources)
    while not stop.is_set():
        await _first(reload.wait(), stop.wait())
        if stop.is_set():
            return
        reload.clear()
        try:
            if "ingest" in roles:
                await load_sources(runtime.engine, path)
            if NEEDS_SUBSCRIPTIONS.intersection(roles):
                await load_subscriptions(runtime.engine, path)
        except DrawdownError as exc:
            log.error("sources file not reloaded file=%s error=%s", path, exc)
        else:
            log.info("sources file reloaded file=%s", path, extra={"file": str(path)})


async def _first(*waits: Coroutine[Any, Any, Any]) -> None:
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def _stopping(stop: asyncio.Event, sig: signal.Signals) -> None:
    log.info("received %s, draining and stopping", sig.name, extra={"signal": sig.name})
    stop.set()


async def run(settings: Settings, roles: list[str], stop: asyncio.Event | None = None) -> None:
    """Run ``roles`` until ``stop`` is set (by a signal unless a stop event is given)."""
    reload = asyncio.Event()
    if stop is None:
        stop = asyncio.Event()
        install_signal_handlers(stop, reload)
    ordered = [name for name in ROLES if name in roles]  # pipeline order: upstream first
    own_stops = {name: asyncio.Event() for name in ordered}
    async with open_runtime(settings, reads="process" in ordered) as runtime:
        if NEEDS_SUBSCRIPTIONS.intersection(ordered):
            generated = await load_subscriptions(runtime.engine, sources_path(settings.sources))
            announce_secrets(generated)
        me = heartbeat.this_process(ordered)
        await heartbeat.beat(runtime.engine, me, first=True)
        log.info(
            "daemon started roles=%s process_id=%s",
            ",".join(ordered),
            me.id,
            extra={"roles": ordered, "process_id": me.id},
        )
        beats_stop = asyncio.Event()
        try:
            async with asyncio.TaskGroup() as group:
                tasks = {
                    name: group.create_task(_role(name, runtime, own_stops[name]), name=name)
                    for name in ordered
                }
                group.create_task(
                    heartbeat.keep_beating(
                        runtime.engine, me, settings.heartbeat_interval, beats_stop
                    ),
                    name="heartbeat",
                )
                group.create_task(reload_on_signal(runtime, ordered, reload, beats_stop))
                group.create_task(
                    _stop_in_order(stop, own_stops, tasks, settings.shutdown_timeout, beats_stop)
                )
        except ExceptionGroup as failed:
            # A role that cannot run (a bad sources file, say) stops the daemon with its reason.
            deliberate, _ = failed.split(DrawdownError)
            if deliberate is None:
                raise
            raise deliberate.exceptions[0] from failed
        finally:
            await heartbeat.forget(runtime.engine, me)
    log.info("daemon stopped roles=%s", ",".join(ordered), extra={"roles": ordered})


async def _role(name: str, runtime: Runtime, stop: asyncio.Event) -> None:
    """Run one role, its records (and those of the tasks it starts) tagged ``role``."""
    logs.ROLE.set(name)
    log.info("role started role=%s", name)
    try:
        await ROLES[name](runtime, stop)
    except DrawdownError as exc:
        log.error("role failed role=%s error=%s", name, exc)
        raise
    except Exception:
        log.exception("role failed role=%s", name)
        raise
    log.info("role stopped role=%s", name)


async def _stop_in_order(
    stop: asyncio.Event,
    own_stops: dict[str, asyncio.Event],
    tasks: dict[str, asyncio.Task[None]],
    timeout: float,
    then: asyncio.Event,
) -> None:
    """Once stopping, stop roles upstream first, so what the pollers published is still
    processed (on the in-process bus nothing else would), all within ``timeout`` seconds;
    a role still running at the deadline is cancelled. Then set ``then`` (the heartbeat's
    stop: the process keeps reporting itself while it drains)."""
    await stop.wait()
    deadline = asyncio.get_running_loop().time() + timeout
    for name, role_stop in own_stops.items():
        role_stop.set()
        left = deadline - asyncio.get_running_loop().time()
        _, late = await asyncio.wait([tasks[name]], timeout=max(left, 0))
        for task in late:
            log.warning(
                "role %s did not stop within %.0fs; cancelling it",
                name,
                timeout,
                extra={"role": name},
            )
            task.cancel()
    then.set()
