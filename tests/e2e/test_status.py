"""`drawdown status` beside a running `drawdown run` (or one role) on a SQLite file: the
process and its roles are listed alive while it runs, and gone once it stopped."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import drawdown_cli, spawn_drawdown
from tests.servers import free_port

STARTED = "daemon started"


def _env(tmp_path: Path) -> dict[str, str]:
    sources = tmp_path / "sources.yaml"  # no outlets: tests reach nothing beyond this machine
    sources.write_text("sources: []\n", encoding="utf-8")
    return {
        "DRAWDOWN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/drawdown.db",
        "DRAWDOWN_SOURCES": str(sources),
        "DRAWDOWN_HTTP_ADDR": f"127.0.0.1:{free_port()}",
        "DRAWDOWN_WORKER_PROCESSES": "0",
        "DRAWDOWN_HEARTBEAT_INTERVAL": "1",
    }


def _start(env: dict[str, str], cwd: Path, command: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as stderr:
        return spawn_drawdown(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr)


def _wait_for_log(process: subprocess.Popen[bytes], log: Path, needle: str) -> None:
    deadline = time.monotonic() + 120  # generous: a loaded machine is slow, not wrong
    while time.monotonic() < deadline and process.poll() is None:
        if needle in log.read_text("utf-8", errors="replace"):
            return
        time.sleep(0.1)
    pytest.fail(f"no {needle!r} in the log:\n{log.read_text('utf-8', errors='replace')[-3000:]}")


def _status(env: dict[str, str], cwd: Path) -> dict[str, Any]:
    # Told of a long heartbeat interval, status calls nothing stale that beat in the last minutes.
    result = drawdown_cli(
        "status", "--json", env={**env, "DRAWDOWN_HEARTBEAT_INTERVAL": "600"}, cwd=cwd
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def _stop(process: subprocess.Popen[bytes], log: Path) -> str:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    finally:
        process.kill()
    text = log.read_text("utf-8", errors="replace")
    assert process.returncode == 0, text[-3000:]
    return text


@pytest.mark.parametrize(
    ("command", "roles"),
    [("run", ["ingest", "process", "dispatch", "api"]), ("dispatch", ["dispatch"])],
)
def test_a_running_process_is_listed_with_its_roles_until_it_stops(
    tmp_path: Path, command: str, roles: list[str]
) -> None:
    env = _env(tmp_path)
    log = tmp_path / "daemon.log"
    process = _start(env, tmp_path, command, log)
    try:
        _wait_for_log(process, log, STARTED)  # its row is written before it says so
        running = _status(env, tmp_path)
    finally:
        text = _stop(process, log)
    (listed,) = running["processes"]
    assert listed["roles"] == roles
    assert listed["state"] == "alive"
    assert listed["pid"] == process.pid
    assert listed["id"].split(":")[1] == str(process.pid)
    assert running["ready"] is True
    assert running["bus"]["detail"] == "in-process (inside drawdown run)"

    started = [json.loads(line) for line in text.splitlines() if STARTED in line]
    assert started[0]["process_id"] == listed["id"]  # stderr is a file here: JSON lines
    assert "daemon stopped" in text
    assert _status(env, tmp_path)["processes"] == []


def test_status_creates_no_database(tmp_path: Path) -> None:
    result = drawdown_cli("status", env={}, cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1].startswith(
        "not ready: database: no database yet at drawdown.db"
    )
    assert not (tmp_path / "drawdown.db").exists()
