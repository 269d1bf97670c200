"""Drawdown processes for tests that start, stop and kill them, each one's output in a file."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import spawn_drawdown


@dataclass
class Running:
    """One ``drawdown`` process started by a test; its stdout and stderr go to ``log``."""

    name: str
    process: subprocess.Popen[Any]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def count(self, needle: str) -> int:
        """How many lines of its output contain ``needle``."""
        return sum(needle in line for line in self.output().splitlines())

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then wait for it to drain and exit (SIGKILL past ``timeout``)."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.process.wait()

    def kill(self) -> None:
        if self.alive():
            self.process.kill()


@contextmanager
def drawdown_processes(
    *args: str, count: int, env: dict[str, str], cwd: Path
) -> Iterator[list[Running]]:
    """``count`` processes of ``drawdown ARGS``, stopped (SIGTERM) when the block ends."""
    with ExitStack() as stack:
        running = []
        for n in range(count):
            name = f"{args[0]}-{n + 1}"
            log = cwd / f"{name}.log"
            out = stack.enter_context(log.open("wb"))
            process = spawn_drawdown(*args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
            running.append(Running(name, process, log))
        try:
            yield running
        finally:
            for process in running:
                process.stop()


async def wait_until(
    done: Callable[[], Awaitable[bool]], timeout: float, every: float = 0.5
) -> bool:
    """Whether ``await done()`` became true within ``timeout`` seconds (give it plenty: a
    loaded machine is slow, not wrong)."""
    deadline = time.monotonic() + timeout
    while not await done():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(every)
    return True
