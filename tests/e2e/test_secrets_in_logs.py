"""No secret in any log line at any level: DEBUG logs of real commands grepped for the
secrets they were given, and settings errors that name a URL without its password."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import SEEDS, drawdown_cli

TOKEN = "tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PASSWORD = "hunter2-0f3c9a"  # PostgreSQL here trusts local users, so any password connects


def _with_password(database_url: str) -> str:
    return database_url.replace("postgres@", f"postgres:{PASSWORD}@", 1)


async def test_debug_logs_hold_no_secret(database_url: str, tmp_path: Path) -> None:
    """On PostgreSQL (a password in its URL) and on SQLite (whose driver logs every
    statement with its parameters at DEBUG)."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    first = sorted(SEEDS.iterdir())[0]
    shutil.copy(first, seeds / first.name)
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources: []\n"
        "subscriptions:\n"
        "  - name: given\n"
        "    url: https://hooks.example.org/given\n"
        f"    secret: {SECRET}\n"
        "  - name: generated\n"
        "    url: https://user:hookpass-77@hooks.example.org/generated\n",
        encoding="utf-8",
    )
    env = {
        "DRAWDOWN_DATABASE_URL": _with_password(database_url),
        "DRAWDOWN_SOURCES": str(sources),
        "DRAWDOWN_API_TOKEN": TOKEN,
        "DRAWDOWN_LOG_LEVEL": "DEBUG",
        "DRAWDOWN_LOG_FORMAT": "json",
        "DRAWDOWN_WORKER_PROCESSES": "0",
    }
    replayed = drawdown_cli("replay", str(seeds), "--json", env=env, cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stderr[-2000:]
    lines = [json.loads(line) for line in replayed.stdout.splitlines()]
    (announced,) = [line for line in lines if "secret" in line]
    assert announced["subscription"] == "generated"
    generated = announced["secret"]
    assert generated.startswith("whsec_")
    listed = drawdown_cli("subscriptions", "--json", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert generated not in listed.stdout  # shown once, by the command that made it
    for result in (replayed, listed):
        logged = result.stderr
        assert '"level": "DEBUG"' in logged  # DEBUG really was on
        for secret in (SECRET, generated, TOKEN, PASSWORD, "hookpass-77"):
            assert secret not in logged, f"{secret[:8]}… is in the log"


def test_a_bad_database_url_is_reported_without_its_password(tmp_path: Path) -> None:
    for url in (
        f"postgresql://drawdown:{PASSWORD}@db.example.org:5432/drawdown",  # not async
        f"mysql://drawdown:{PASSWORD}@db.example.org/drawdown",
    ):
        result = drawdown_cli(
            "status", env={"DRAWDOWN_DATABASE_URL": url}, cwd=tmp_path, timeout=60
        )
        assert result.returncode == 2
        assert "database_url" in result.stderr.lower()
        assert PASSWORD not in result.stderr + result.stdout
