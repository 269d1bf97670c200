"""`drawdown replay` and `drawdown evaluate` draw a progress bar on a terminal's stderr, and
none in a pipe, where stderr is JSON lines; stdout is the same either way."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import shutil
import struct
import subprocess
import termios
import threading
from pathlib import Path

from tests.conftest import SEEDS, drawdown_cli, spawn_drawdown

BAR_MARKS = ("\r", "█", "doc/s", "s/doc", "%|")


def _on_a_terminal(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run the command line with stderr on a pseudo-terminal (80x24), stdout on a pipe."""
    main, other = pty.openpty()
    fcntl.ioctl(other, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = spawn_drawdown(
        *args, env={"TERM": "xterm", **env}, cwd=cwd, stdout=subprocess.PIPE, stderr=other
    )
    os.close(other)
    terminal = bytearray()

    def read_terminal() -> None:  # until the last writer closes it (EIO on Linux)
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                return
            if not chunk:
                return
            terminal.extend(chunk)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    try:
        out, _ = process.communicate(timeout=300)
        reader.join(timeout=30)
    finally:
        process.kill()
        os.close(main)
    return process.returncode, out.decode(), terminal.decode(errors="replace")


def test_replay_shows_a_bar_on_a_terminal_and_none_in_a_pipe(tmp_path: Path) -> None:
    env = {"DRAWDOWN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/tty.db"}
    code, out, terminal = _on_a_terminal("replay", str(SEEDS), "--json", env=env, cwd=tmp_path)
    assert code == 0, terminal[-3000:]
    assert "replay: 100%" in terminal
    assert "5/5" in terminal
    assert "\r" in terminal
    on_terminal = [json.loads(line) for line in out.splitlines()]
    assert on_terminal[-1]["summary"]["documents"] == 5

    env = {"DRAWDOWN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/pipe.db"}
    piped = drawdown_cli("replay", str(SEEDS), "--json", env=env, cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr[-3000:]
    for mark in BAR_MARKS:
        assert mark not in piped.stderr, mark
    assert all(json.loads(line)["message"] for line in piped.stderr.splitlines())
    in_pipe = [json.loads(line) for line in piped.stdout.splitlines()]
    # The same documents, reported alike (article ids differ between the two databases).
    assert [(r.get("file"), r.get("places")) for r in in_pipe] == [
        (r.get("file"), r.get("places")) for r in on_terminal
    ]


def test_evaluate_shows_a_bar_on_a_terminal_and_none_in_a_pipe(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seeds = sorted(SEEDS.iterdir())[:2]
    for seed in seeds:
        shutil.copy(seed, corpus / seed.name)
    labels = tmp_path / "labels.json"
    labels.write_text(
        json.dumps(
            [{"file": seed.name, "language": "en", "withdrawal_alert": False} for seed in seeds]
        ),
        encoding="utf-8",
    )
    args = ("evaluate", str(corpus), str(labels), "--json")
    code, out, terminal = _on_a_terminal(*args, env={}, cwd=tmp_path)
    assert code == 0, terminal[-3000:]
    assert "evaluate: 100%" in terminal
    assert "2/2" in terminal
    assert json.loads(out)["all"]["documents"] == 2

    piped = drawdown_cli(*args, env={}, cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr[-3000:]
    for mark in BAR_MARKS:
        assert mark not in piped.stderr, mark
    assert json.loads(piped.stdout) == json.loads(out)
