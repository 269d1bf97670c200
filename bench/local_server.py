"""A benchmark's local HTTP server in a process of its own, on a free 127.0.0.1 port."""

from __future__ import annotations

import multiprocessing
import socket
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any


def spawn(target: Callable[..., None], *args: Any) -> tuple[int, BaseProcess]:
    """Start ``target(port, *args, ready)`` in a spawned process; return once it is ready."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    server = context.Process(target=target, args=(port, *args, ready), daemon=True)
    server.start()
    ready.wait(30)
    return port, server
