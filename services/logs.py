"""Logging setup for entrypoints: one record per line on stderr.

On a terminal, text as people read it: ``time LEVEL logger message``, the message
carrying its context as ``key=value``. Anywhere else (a pipe, a file, a container's
log collector) one JSON object per line, for machines:

    {"time": "2026-11-21T12:00:00.123Z", "level": "INFO", "logger": "processor.worker",
     "message": "stored message_id=… article_id=…", "article_id": "…", "role": "process"}

Every ``extra={...}`` field of a record is a field of its own, ``role`` names the
daemon role that logged it, and a logged exception's traceback is ``traceback``.
``DRAWDOWN_LOG_FORMAT`` (``auto``, ``json``, ``text``) overrides the choice.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from services.redact import redact

# The daemon role whose task (and the tasks it starts) logged a record.
ROLE: ContextVar[str | None] = ContextVar("drawdown_role", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
NOISY = (
    "aiokafka",
    "kafka",
    "trafilatura",
    "htmldate",
    "courlan",
    "sqlalchemy.engine",
    "aiosqlite",  # logs every statement with its parameters at DEBUG, secrets included
    "asyncpg",
    "httpx",
    "httpcore",
)
# LogRecord attributes that are not context: uvicorn's coloured copy of its message,
# and the task name Python 3.12 adds to every record.
_NOT_CONTEXT = (*RESERVED_ATTRS, "color_message", "taskName")


class JsonFormatter(_JsonFormatter):
    """One JSON object per record: time (ISO 8601, UTC), level, logger, message, then
    the record's extra fields; ``traceback`` and ``stack`` when it has them."""

    def __init__(self) -> None:
        super().__init__(
            ["asctime", "levelname", "name", "message"],
            rename_fields={
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "exc_info": "traceback",
                "stack_info": "stack",
            },
            reserved_attrs=_NOT_CONTEXT,
            json_ensure_ascii=False,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _RoleFilter(logging.Filter):
    """Tag each record with the role it was logged in, unless it names one itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        role = ROLE.get()
        if role is not None and not hasattr(record, "role"):
            record.role = role
        return True


class _Redact(logging.Filter):
    """Mask URL passwords, webhook secrets and bearer tokens in a record's message and
    its string context (services.redact), whatever logged it and at whatever level."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        for key, value in list(vars(record).items()):
            if key not in _NOT_CONTEXT and isinstance(value, str):
                setattr(record, key, redact(value))
        if record.exc_info:  # formatted here, masked; both formatters then use the text
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = redact(text), None
        return True


class _Stderr(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when a record comes (tests swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def wants_json(log_format: str, on_terminal: bool) -> bool:
    """JSON unless told ``text``, or told ``auto`` and writing to a terminal."""
    if log_format == "auto":
        return not on_terminal
    return log_format == "json"


def formatter(log_format: str, on_terminal: bool) -> logging.Formatter:
    if wants_json(log_format, on_terminal):
        return JsonFormatter()
    return logging.Formatter(TEXT_FORMAT)


def configure(level: str, log_format: str = "auto") -> None:
    """Send every record at ``level`` and above to stderr, as text or JSON lines."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Stderr)]:
        root.removeHandler(old)
    handler = _Stderr()
    handler.setFormatter(formatter(log_format, sys.stderr.isatty()))
    handler.addFilter(_RoleFilter())
    handler.addFilter(_Redact())
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
