"""A time limit on one CPU-bound call (a feed parse, a page extraction), where it runs.

``limited(seconds, function, *args)`` is what the poller hands the process pool: in
a pool worker (its main thread) it arms a timer signal, so a document that keeps
the parser busy past ``seconds`` is abandoned with ``InputError`` and the worker is
free for the next document at once — a hostile source delays only itself. Off the
main thread (the thread fallback of ``DRAWDOWN_WORKER_PROCESSES=0``) no signal can
be armed; the caller's own deadline (``deadline``) still gives up waiting on it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

from services.errors import InputError

R = TypeVar("R")
GRACE = 5.0  # seconds the caller waits past the limit before giving up on the worker


class _Overrun(BaseException):
    """Raised by the timer inside the call; a BaseException so parsers' broad
    ``except Exception`` clauses cannot swallow it."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _Overrun


def limited(seconds: float, function: Callable[..., R], *args: Any) -> R:
    """``function(*args)``, or InputError once it has run ``seconds``."""
    if threading.current_thread() is not threading.main_thread():
        return function(*args)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return function(*args)
    except _Overrun:
        name = getattr(function, "__name__", None) or getattr(
            getattr(function, "func", None), "__name__", "parsing"
        )
        raise InputError(f"{name} took over {seconds:g} s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def deadline(seconds: float) -> float:
    """How long the caller waits for a ``limited`` call before abandoning it."""
    return seconds + GRACE
