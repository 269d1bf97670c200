"""`drawdown run` on the embedded default starts, and drains and stops on SIGINT/SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import spawn_drawdown
from tests.servers import free_port


def _start(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    sources = tmp_path / "sources.yaml"  # no outlets: tests reach nothing beyond this machine
    sources.write_text("sources: []\n", encoding="utf-8")
    env = {"DRAWDOWN_SOURCES": str(sources), "DRAWDOWN_HTTP_ADDR": f"127.0.0.1:{port}"}
    return spawn_drawdown("run", env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)


def _wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float = 60) -> list[str]:
    assert process.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return lines
    pytest.fail(f"no {needle!r} in the daemon's log:\n{''.join(lines)}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_daemon_stops_cleanly_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    port = free_port()
    process = _start(tmp_path, port)
    try:
        _wait_for_line(process, "processor started")
        assert (tmp_path / "drawdown.db").exists()
        for _ in range(100):  # the dashboard and API are served on the embedded default
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health.json() == {"status": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
        process.send_signal(sig)
        _, rest = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, rest
    assert "daemon stopped" in rest
