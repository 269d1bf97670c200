"""The command line's rough edges, as a user meets them: one clear line for a database
that cannot be reached, a mistyped SQLite path or a bad setting; --version."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import drawdown_cli
from tests.servers import free_port


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (
            "postgresql+asyncpg://postgres@127.0.0.1:5432/drawdown_no_such_database",
            'database "drawdown_no_such_database" does not exist',
        ),
        ("postgresql+asyncpg://postgres@127.0.0.1:{port}/drawdown", "Connect call failed"),
        ("sqlite+aiosqlite:///{tmp}/no/such/dir/drawdown.db", "unable to open database file"),
    ],
)
def test_migrate_without_a_database_prints_one_line(tmp_path: Path, url: str, reason: str) -> None:
    # A free port nobody listens on: the connection is refused at once.
    url = url.format(port=free_port(), tmp=tmp_path)
    result = drawdown_cli("migrate", env={"DRAWDOWN_DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("drawdown: cannot open the database "), line
    assert reason in line
    assert "Traceback" not in result.stderr
    assert "sqlalche.me" not in line


@pytest.mark.parametrize("command", [["places"], ["deliveries"], ["redeliver", "--dead"]])
def test_a_mistyped_sqlite_path_is_an_error_not_a_new_database(
    tmp_path: Path, command: list[str]
) -> None:
    typo = tmp_path / "drawdwon.db"
    env = {"DRAWDOWN_DATABASE_URL": f"sqlite+aiosqlite:///{typo}"}
    result = drawdown_cli(*command, env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert f"drawdown: no database at {typo}" in result.stderr
    assert "no alerts yet" not in result.stdout
    assert not typo.exists()


def test_bad_settings_are_named_in_plain_words(tmp_path: Path) -> None:
    env = {
        "DRAWDOWN_HTTP_ADDR": "nonsense",
        "DRAWDOWN_POLL_INTERVALL": "30",
        "DRAWDOWN_API_TOKEN": "",
    }
    result = drawdown_cli("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "drawdown: warning: DRAWDOWN_POLL_INTERVALL is not a Drawdown setting and is ignored; "
        "did you mean DRAWDOWN_POLL_INTERVAL?",
        "drawdown: invalid setting: DRAWDOWN_HTTP_ADDR=nonsense: 'nonsense' is not host:port, "
        "e.g. 127.0.0.1:8000 or 0.0.0.0:8000",
    ]
    assert not (tmp_path / "drawdown.db").exists()  # caught before migrating


def test_version(tmp_path: Path) -> None:
    result = drawdown_cli("--version", env={}, cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("drawdown 0.")
