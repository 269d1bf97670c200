"""What a user reads about their settings: plain lines naming DRAWDOWN_* variables."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.cli import plural
from services.models import Source
from services.settings import Settings, explain, split_addr, unknown_variables
from services.sources_table import _next_poll


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("DRAWDOWN_"):
            monkeypatch.delenv(name)


def _problems(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as raised:
        Settings()
    return explain(raised.value)


def test_a_bad_value_names_its_variable_without_pydantic_links(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (line,) = _problems(monkeypatch, DRAWDOWN_POLL_INTERVAL="soon")
    assert line.startswith("DRAWDOWN_POLL_INTERVAL=soon: ")
    assert "pydantic" not in line
    assert "poll_interval" not in line.split(":", 1)[1]


def test_checks_across_settings_name_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    (line,) = _problems(monkeypatch, DRAWDOWN_MIN_POLL_INTERVAL="5000")
    assert line == "DRAWDOWN_MIN_POLL_INTERVAL (5000) is above DRAWDOWN_MAX_POLL_INTERVAL (3600)"


def test_secret_values_are_never_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    (line,) = _problems(monkeypatch, DRAWDOWN_DATABASE_URL="mysql://u:hunter2@db/x")
    assert line.startswith("DRAWDOWN_DATABASE_URL: use an async driver")
    assert "hunter2" not in line


def test_http_addr_is_checked_with_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    (line,) = _problems(monkeypatch, DRAWDOWN_HTTP_ADDR="nonsense")
    assert line.startswith("DRAWDOWN_HTTP_ADDR=nonsense: 'nonsense' is not host:port")
    for bad in ("localhost", "127.0.0.1:99999", "127.0.0.1:80/path", ":8000"):
        with pytest.raises(ValueError, match=r"port|host:port"):
            split_addr(bad)
    assert split_addr("0.0.0.0:8000") == ("0.0.0.0", 8000)
    assert split_addr("[::]:8000") == ("::", 8000)


def test_a_misspelt_variable_is_reported_with_the_setting_it_looks_like() -> None:
    environ = {
        "DRAWDOWN_POLL_INTERVALL": "30",
        "DRAWDOWN_DATABASE_URL": "sqlite+aiosqlite:///x.db",
        "DRAWDOWN_COLOUR": "blue",
        "DRAWDOWN_TEST_KAFKA": "127.0.0.1:9092",  # the test suite's own
        "HOME": "/root",
    }
    assert unknown_variables(environ) == [
        "DRAWDOWN_COLOUR is not a Drawdown setting and is ignored "
        "(docs/configuration.md lists them)",
        "DRAWDOWN_POLL_INTERVALL is not a Drawdown setting and is ignored; "
        "did you mean DRAWDOWN_POLL_INTERVAL?",
    ]


def test_a_due_source_is_due_now_not_zero_seconds_ago() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    due = Source(name="a", url="https://a.example/", kind="feed", enabled=True, next_poll_at=now)
    assert _next_poll(due, now) == "due now"
    due.next_poll_at = now - timedelta(seconds=3)
    assert _next_poll(due, now) == "due now"
    due.next_poll_at = now + timedelta(minutes=5)
    assert _next_poll(due, now) == "in 5m"
    due.enabled = False
    assert _next_poll(due, now) == "-"


def test_counts_agree_with_their_noun() -> None:
    assert plural(1, "outlet") == "1 outlet"
    assert plural(2, "outlet") == "2 outlets"
    assert plural(0, "language") == "0 languages"
