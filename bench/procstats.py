"""What a benchmark reads about processes from /proc: memory, descendants, open files."""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path


def memory_mb(pids: list[int], field: str) -> float:
    """Sum of ``field`` (VmRSS in status, Pss in smaps_rollup) over ``pids``, in MB."""
    total = 0
    source = "status" if field == "VmRSS:" else "smaps_rollup"
    for pid in pids:
        with suppress(OSError), open(f"/proc/{pid}/{source}") as lines:
            for line in lines:
                if line.startswith(field):
                    total += int(line.split()[1])
    return total / 1024


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the pool's workers are the forkserver's children)."""
    found: list[int] = []
    with suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found += [int(child), *descendants(int(child))]
    return found


def rss_mb(pids: list[int]) -> float:
    """Resident memory of ``pids`` together, in MB."""
    return memory_mb(pids, "VmRSS:")


def open_fds(pid: int) -> int:
    """File descriptors ``pid`` holds open."""
    with suppress(OSError):
        return len(os.listdir(f"/proc/{pid}/fd"))
    return 0
