"""services.logs: JSON lines off a terminal, text on one, extra fields, roles, levels."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from services import logs
from services.settings import Settings


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    """The root logger, given back as it was (handlers and level)."""
    logger = logging.getLogger()
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_is_one_json_object_with_its_fields() -> None:
    stream = _Pipe()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("drawdown.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(
            "polled source_id=%d url=%s",
            7,
            "https://enab.example/feed",
            extra={"source_id": 7, "url": "https://enab.example/feed", "title": "قصرك"},
        )
    finally:
        logger.removeHandler(handler)
    (line,) = _lines(stream)
    assert line["level"] == "WARNING"
    assert line["logger"] == "drawdown.test.json"
    assert line["message"] == "polled source_id=7 url=https://enab.example/feed"
    assert (line["source_id"], line["url"], line["title"]) == (
        7,
        "https://enab.example/feed",
        "قصرك",
    )
    assert line["time"].endswith("Z")
    when = datetime.fromisoformat(line["time"].replace("Z", "+00:00"))
    assert when.tzinfo is not None
    assert abs((datetime.now(UTC) - when).total_seconds()) < 3600
    assert "قصرك" in stream.getvalue()  # readable, not \\u-escaped
    for internal in ("args", "msg", "levelno", "pathname", "exc_info", "asctime"):
        assert internal not in line


def test_an_exception_carries_its_traceback_as_a_field() -> None:
    stream = _Pipe()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("drawdown.test.traceback")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError("bad feed")
        except ValueError:
            logger.exception("poll failed unexpectedly source_id=%d", 3, extra={"source_id": 3})
    finally:
        logger.removeHandler(handler)
    (line,) = _lines(stream)
    assert line["level"] == "ERROR"
    assert line["source_id"] == 3
    assert line["traceback"].startswith("Traceback (most recent call last):")
    assert "ValueError: bad feed" in line["traceback"]


def test_configure_writes_json_to_a_pipe_and_tags_the_role(
    root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = _Pipe()
    monkeypatch.setattr("sys.stderr", stream)
    logs.configure("INFO")
    logger = logging.getLogger("drawdown.test.role")
    token = logs.ROLE.set("process")
    try:
        logger.info("stored article_id=%s", "a1", extra={"article_id": "a1"})
        logger.debug("not at INFO")
    finally:
        logs.ROLE.reset(token)
    logger.info("daemon stopped")
    first, second = _lines(stream)
    assert (first["message"], first["article_id"], first["role"]) == (
        "stored article_id=a1",
        "a1",
        "process",
    )
    assert second["message"] == "daemon stopped"
    assert "role" not in second


def test_configure_writes_text_to_a_terminal(
    root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = _Terminal()
    monkeypatch.setattr("sys.stderr", stream)
    logs.configure("INFO")
    logging.getLogger("drawdown.test.text").info("polled source_id=%d", 5, extra={"source_id": 5})
    text = stream.getvalue()
    assert " INFO drawdown.test.text polled source_id=5" in text
    assert not text.startswith("{")


@pytest.mark.parametrize(
    ("log_format", "on_terminal", "json_lines"),
    [
        ("auto", False, True),
        ("auto", True, False),
        ("json", True, True),
        ("json", False, True),
        ("text", False, False),
        ("text", True, False),
    ],
)
def test_the_format_follows_the_setting_and_the_terminal(
    log_format: str, on_terminal: bool, json_lines: bool
) -> None:
    assert logs.wants_json(log_format, on_terminal) is json_lines
    assert isinstance(logs.formatter(log_format, on_terminal), logs.JsonFormatter) is json_lines


def test_configure_again_replaces_its_handler(
    root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = _Pipe()
    monkeypatch.setattr("sys.stderr", stream)
    logs.configure("INFO", "json")
    logs.configure("WARNING", "json")
    logger = logging.getLogger("drawdown.test.again")
    logger.info("below the level")
    logger.warning("once")
    assert [line["message"] for line in _lines(stream)] == ["once"]


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("DRAWDOWN_"):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("clean_environment")
def test_log_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (Settings().log_level, Settings().log_format) == ("INFO", "auto")
    monkeypatch.setenv("DRAWDOWN_LOG_LEVEL", "debug")
    monkeypatch.setenv("DRAWDOWN_LOG_FORMAT", "JSON")
    assert (Settings().log_level, Settings().log_format) == ("DEBUG", "json")


@pytest.mark.usefixtures("clean_environment")
@pytest.mark.parametrize(("name", "value"), [("LOG_LEVEL", "chatty"), ("LOG_FORMAT", "xml")])
def test_a_bad_log_setting_is_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(f"DRAWDOWN_{name}", value)
    with pytest.raises(ValidationError, match=name.lower()):
        Settings()
