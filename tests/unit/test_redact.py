"""Secrets are masked in any text Drawdown writes: URL passwords, webhook secrets, tokens."""

from __future__ import annotations

import io
import json
import logging

import pytest

from services import logs
from services.errors import FetchError
from services.redact import redact
from services.webhooks.subscriptions import announce_secrets


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "postgresql+asyncpg://drawdown:s3cret@db:5432/x",
            "postgresql+asyncpg://drawdown:***@db:5432/x",
        ),
        ("feed http://u:p%40ss@h.example/f failed", "feed http://u:***@h.example/f failed"),
        ("secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "secret=whsec_***"),
        ("Authorization: Bearer abc.def-123", "Authorization: Bearer ***"),
        ("https://example.org/a:b@c", "https://example.org/a:b@c"),  # a path, not userinfo
        ("sqlite+aiosqlite:///drawdown.db", "sqlite+aiosqlite:///drawdown.db"),
    ],
)
def test_redact(text: str, masked: str) -> None:
    assert redact(text) == masked


def test_fetch_errors_name_urls_without_passwords() -> None:
    error = FetchError("https://reader:pa55@feeds.example/rss", "http", "HTTP 401", status=401)
    assert "pa55" not in str(error)
    assert "reader:***@feeds.example" in str(error)


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_log_records_are_masked_message_context_and_traceback(
    log_format: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    logs.configure("DEBUG", log_format)
    log = logging.getLogger("tests.redact")
    log.debug(
        "connect url=%s",
        "postgresql+asyncpg://u:hunter2@db/x",
        extra={"url": "http://a:hunter2@h/"},
    )
    try:
        raise ValueError("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw in an exception")
    except ValueError:
        log.exception("failed")
    logging.getLogger("aiosqlite").debug("executing %s", "whsec_ZZZZ")
    written = stream.getvalue()
    assert "hunter2" not in written
    assert "MfKQ9r8" not in written
    assert "ZZZZ" not in written
    assert "u:***@db" in written


def test_announced_secrets_go_to_stdout_only(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    announce_secrets({"bridge": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, as_json=True)
    out = capsys.readouterr().out
    assert json.loads(out) == {
        "subscription": "bridge",
        "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }
    assert [r.getMessage() for r in caplog.records] == [
        "subscription secret generated, printed once on stdout subscription=bridge"
    ]
