"""The CPU pool with real worker processes: overruns, stuck C code and dead workers
cost one call, never the pool. Bounds on time are generous: a loaded machine is slow,
not wrong."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator

import pytest

from services.errors import InputError
from services.pool import GRACE, CpuPool


def pid() -> int:
    return os.getpid()


def stuck_in_c() -> int:
    """Hours of summing inside one C call: the interpreter never runs the SIGALRM
    handler until it returns (a regex would not do: the regex engine checks signals)."""
    return sum(range(10**14))


def python_loop() -> None:
    while True:
        pass


def killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def crash() -> None:
    raise ValueError("not a feed")


@pytest.fixture
def pool() -> Iterator[CpuPool]:
    with CpuPool(1) as pool:
        yield pool


async def test_a_call_stuck_in_c_is_killed_at_the_hard_limit_and_its_worker_replaced(
    pool: CpuPool,
) -> None:
    before = await pool.run(pid, timeout=5)
    started = time.monotonic()
    with pytest.raises(InputError, match=r"^stuck_in_c took over 0\.5 s$"):
        await pool.run(stuck_in_c, timeout=0.5)
    assert GRACE <= time.monotonic() - started < 90
    after = await pool.run(pid, timeout=5)
    assert after != before  # a fresh worker took the dead one's place


async def test_a_python_loop_is_stopped_by_the_soft_limit_and_its_worker_kept(
    pool: CpuPool,
) -> None:
    before = await pool.run(pid, timeout=5)
    with pytest.raises(InputError, match=r"^python_loop took over 0\.5 s$"):
        await pool.run(python_loop, timeout=0.5)
    assert await pool.run(pid, timeout=5) == before


async def test_a_killed_worker_fails_only_its_own_call(pool: CpuPool) -> None:
    with pytest.raises(InputError, match="killed: the worker process was killed by SIGKILL"):
        await pool.run(killed, timeout=30)
    assert await pool.run(sum, [1, 2, 3], timeout=30) == 6


async def test_an_error_in_the_call_is_raised_as_itself(pool: CpuPool) -> None:
    with pytest.raises(ValueError, match="not a feed"):
        await pool.run(crash, timeout=30)


async def test_a_worker_dying_between_calls_does_not_break_the_pool(pool: CpuPool) -> None:
    os.kill(await pool.run(pid, timeout=30), signal.SIGKILL)
    await asyncio.sleep(1.0)  # the pool notices its worker gone, and gives up on itself
    result = None
    for _ in range(2):  # on a slow machine the first call may still meet the old pool
        with contextlib.suppress(InputError):
            result = await pool.run(sum, [1, 2], timeout=30)
            break
    assert result == 3


async def test_cancelling_the_caller_stops_its_worker(pool: CpuPool) -> None:
    before = await pool.run(pid, timeout=30)
    call = asyncio.create_task(pool.run(stuck_in_c, timeout=600))
    await asyncio.sleep(1.0)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert await pool.run(pid, timeout=30) != before  # not waiting hours for the sum


async def test_without_processes_the_caller_stops_waiting_at_the_hard_limit() -> None:
    with CpuPool(0) as threads:
        with pytest.raises(InputError, match=r"^sleep took over 0\.2 s$"):
            await threads.run(time.sleep, GRACE + 2, timeout=0.2)
        assert await threads.run(sum, [1, 2], timeout=5) == 3
