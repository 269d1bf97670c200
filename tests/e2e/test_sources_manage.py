"""Managing sources as a user does: the `drawdown sources` actions on a SQLite file, a
sources file that includes the shipped one, and SIGHUP reloading a running daemon."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import drawdown_cli, spawn_drawdown
from tests.servers import free_port


def _env(tmp_path: Path, sources: Path) -> dict[str, str]:
    return {
        "DRAWDOWN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/drawdown.db",
        "DRAWDOWN_SOURCES": str(sources),
        "DRAWDOWN_WORKER_PROCESSES": "0",
        "DRAWDOWN_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32",
    }


def _sources(tmp_path: Path) -> dict[str, tuple[str, int, str]]:
    with sqlite3.connect(tmp_path / "drawdown.db") as database:
        rows = database.execute("SELECT url, name, enabled, origin FROM sources").fetchall()
    return {url: (name, enabled, origin) for url, name, enabled, origin in rows}


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_add_disable_export_import_remove(tmp_path: Path) -> None:
    empty = tmp_path / "sources.yaml"
    empty.write_text("sources: []\n", encoding="utf-8")
    env = _env(tmp_path, empty)
    feed = f"http://127.0.0.1:{free_port()}/feed"  # never fetched: no daemon runs here

    def sources(*args: str) -> subprocess.CompletedProcess[str]:
        return drawdown_cli("sources", *args, env=env, cwd=tmp_path)

    added = _ok(sources("add", feed, "--name", "Local", "--kind", "page", "--interval", "120"))
    assert added.startswith(f"added Local (page) {feed}")
    assert _sources(tmp_path) == {feed: ("Local", 1, "api")}
    again = sources("add", feed)
    assert again.returncode == 1
    assert "is already a source" in again.stderr

    assert _ok(sources("disable", "Local")).startswith("disabled Local")
    assert _sources(tmp_path)[feed][1] == 0
    _ok(sources("enable", feed))
    assert _sources(tmp_path)[feed][1] == 1

    opml = tmp_path / "drawdown.opml"
    opml.write_text(_ok(sources("export")), encoding="utf-8")
    assert f'xmlUrl="{feed}"' in opml.read_text(encoding="utf-8")
    _ok(sources("remove", feed))
    assert _sources(tmp_path) == {}
    assert _ok(sources("import", str(opml))).strip() == "imported 1 sources, 0 already there"
    assert _sources(tmp_path) == {feed: ("Local", 1, "api")}

    # The listing loads the (empty) file, and a source added by hand stays.
    assert "Local" in _ok(sources())
    assert feed in _sources(tmp_path)


def test_adding_an_address_the_fetch_guard_refuses_is_a_one_line_error(tmp_path: Path) -> None:
    empty = tmp_path / "sources.yaml"
    empty.write_text("sources: []\n", encoding="utf-8")
    env = {**_env(tmp_path, empty), "DRAWDOWN_FETCH_ALLOWED_NETWORKS": ""}
    for url in ("http://127.0.0.1:8080/feed", "http://169.254.169.254/latest/meta-data/"):
        refused = drawdown_cli("sources", "add", url, env=env, cwd=tmp_path)
        assert refused.returncode == 1
        (line,) = refused.stderr.strip().splitlines()
        assert "blocked address" in line
        assert "DRAWDOWN_FETCH_ALLOWED_NETWORKS" in line
    assert not (tmp_path / "drawdown.db").exists() or _sources(tmp_path) == {}


def test_a_file_of_ones_own_keeps_the_shipped_sources(tmp_path: Path) -> None:
    own = tmp_path / "sources.yaml"
    own.write_text(
        "include: [shipped]\nsources:\n  - {name: Mine, url: 'https://mine.example/feed'}\n",
        encoding="utf-8",
    )
    _ok(drawdown_cli("sources", "--json", env=_env(tmp_path, own), cwd=tmp_path))
    found = _sources(tmp_path)
    assert found["https://mine.example/feed"] == ("Mine", 1, "file")
    assert found["https://www.enabbaladi.net/feed"][1:] == (1, "file")
    assert len(found) > 40


def _wait_for(log: Path, needle: str, process: subprocess.Popen[bytes], count: int = 1) -> None:
    deadline = time.monotonic() + 120  # generous: a loaded machine is slow, not wrong
    while time.monotonic() < deadline and process.poll() is None:
        if log.read_text("utf-8", errors="replace").count(needle) >= count:
            return
        time.sleep(0.1)
    pytest.fail(f"no {needle!r} in the log:\n{log.read_text('utf-8', errors='replace')[-3000:]}")


def test_sighup_reloads_the_sources_file_of_a_running_daemon(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources: []\n", encoding="utf-8")
    env = {**_env(tmp_path, sources), "DRAWDOWN_HTTP_ADDR": f"127.0.0.1:{free_port()}"}
    log = tmp_path / "daemon.log"
    with log.open("wb") as stderr:
        process = spawn_drawdown(
            "run", env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=stderr
        )
    try:
        _wait_for(log, "daemon started", process)
        feed = f"http://127.0.0.1:{free_port()}/feed"  # refused: nobody listens there
        sources.write_text(
            f"sources:\n  - {{name: Added later, url: '{feed}'}}\n", encoding="utf-8"
        )
        process.send_signal(signal.SIGHUP)
        _wait_for(log, "sources file reloaded", process)
        assert _sources(tmp_path)[feed] == ("Added later", 1, "file")

        sources.write_text("sources:\n  - {name: Broken, intervall: 3}\n", encoding="utf-8")
        process.send_signal(signal.SIGHUP)
        _wait_for(log, "sources file not reloaded", process)
        assert process.poll() is None  # a mistake in the file does not stop the daemon
        assert _sources(tmp_path)[feed] == ("Added later", 1, "file")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        finally:
            process.kill()
    assert process.returncode == 0, log.read_text("utf-8", errors="replace")[-3000:]
