"""The one way CPU-bound work runs: a process pool whose calls each have a time limit.

A feed parse, a page extraction (polled or replayed) and the reading of an article
all go through ``await pool.run(function, *args, timeout=seconds)``, so a hostile
document delays only itself. Two limits guard each call:

- **soft**, inside the worker: ``limited`` arms SIGALRM for ``seconds``; Python code
  (feedparser's handlers, a regex, the reader's loops) is interrupted with
  ``InputError`` and the worker takes the next document at once, no respawn;
- **hard**, in the pool (Pebble): a call still running ``GRACE`` seconds later is
  stuck in C code that never returns to the interpreter, so the signal handler never
  runs; the worker is terminated (SIGTERM, then SIGKILL), Pebble starts a fresh one
  and the call raises ``InputError("<name> took over N s")``.

A worker that dies under a call (killed, a segfault in a C parser) fails that call
alone with ``InputError``; Pebble replaces the worker. Should Pebble give up on its
pool (a worker dying while idle, its initializer failing) the next call opens a new
one, so the pool is never broken for everyone. Cancelling the awaiting task cancels
the call and Pebble stops its worker.

With ``DRAWDOWN_WORKER_PROCESSES=0`` there are no processes: calls run in a thread
and the caller stops waiting after ``seconds + GRACE``, but a thread cannot be
killed or replaced: an overrunning call runs on to its end in the background.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from types import FrameType, TracebackType
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool

from services.errors import InputError

log = logging.getLogger(__name__)

R = TypeVar("R")
GRACE = 5.0  # seconds past the soft limit before the worker is terminated


class _Overrun(BaseException):
    """Raised by the timer inside the call; a BaseException so parsers' broad
    ``except Exception`` clauses cannot swallow it."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _Overrun


def name_of(function: Callable[..., Any]) -> str:
    name = getattr(function, "__name__", None) or getattr(
        getattr(function, "func", None), "__name__", None
    )
    return str(name or "parsing")


def limited(seconds: float, function: Callable[..., R], *args: Any) -> R:
    """``function(*args)``, or InputError once it has run ``seconds`` (the soft limit;
    only in a process's main thread, where a signal can be armed)."""
    if threading.current_thread() is not threading.main_thread():
        return function(*args)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return function(*args)
    except _Overrun:
        raise InputError(f"{name_of(function)} took over {seconds:g} s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def deadline(seconds: float) -> float:
    """When a call with the soft limit ``seconds`` is given up on (the hard limit)."""
    return seconds + GRACE


class CpuPool:
    """``processes`` workers (``0``: a thread per call), each started with
    ``initializer`` (the reader's data, loaded before the first document)."""

    def __init__(self, processes: int, initializer: Callable[[], None] | None = None) -> None:
        self.processes = processes
        self._initializer = initializer
        self._pool: ProcessPool | None = None
        self._warm = threading.Lock()
        self._warmed = initializer is None

    async def run(self, function: Callable[..., R], *args: Any, timeout: float) -> R:
        """``function(*args)`` in a worker; InputError when it overruns ``timeout``
        seconds or its worker dies."""
        name = name_of(function)
        if not self.processes:
            return await self._in_thread(name, function, args, timeout)
        future = self._live().schedule(
            limited, args=(timeout, function, *args), timeout=deadline(timeout)
        )
        try:
            return await asyncio.wrap_future(future)
        except TimeoutError:
            raise InputError(f"{name} took over {timeout:g} s") from None
        except ProcessExpired as exc:
            raise InputError(f"{name}: {_death(exc.exitcode)}") from None
        except BrokenProcessPool as exc:
            raise InputError(f"{name}: the worker pool failed ({exc}); it is replaced") from None

    async def _in_thread(
        self, name: str, function: Callable[..., R], args: tuple[Any, ...], timeout: float
    ) -> R:
        if not self._warmed:  # the reader's data loads once, outside any document's limit
            await asyncio.to_thread(self._warm_up)
        try:
            return await asyncio.wait_for(asyncio.to_thread(function, *args), deadline(timeout))
        except TimeoutError:
            raise InputError(f"{name} took over {timeout:g} s") from None

    def _warm_up(self) -> None:
        with self._warm:
            if not self._warmed and self._initializer is not None:
                self._initializer()
            self._warmed = True

    def _live(self) -> ProcessPool:
        """The running Pebble pool, a new one if Pebble gave up on the last."""
        if self._pool is not None and not self._pool.active:
            log.warning("worker pool failed; starting a new one")
            self._pool.stop()  # type: ignore[no-untyped-call]  # Pebble's untyped
            self._pool.join()
            self._pool = None
        if self._pool is None:
            self._pool = ProcessPool(
                max_workers=self.processes,
                initializer=self._initializer,
                context=multiprocessing.get_context("forkserver"),
            )
        return self._pool

    def close(self) -> None:
        """Let running calls finish (each is bounded by its hard limit), then stop."""
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        pool.close()  # type: ignore[no-untyped-call]
        try:
            pool.join(timeout=GRACE)
        except TimeoutError:
            pool.stop()  # type: ignore[no-untyped-call]
            pool.join()

    def __enter__(self) -> CpuPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"the worker process was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            pass
    return f"the worker process died (exit code {exitcode})"


def processes(configured: int | None) -> int:
    """DRAWDOWN_WORKER_PROCESSES, else one worker per core."""
    return configured if configured is not None else os.cpu_count() or 1
