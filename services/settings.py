"""The one settings object, read from ``DRAWDOWN_*`` environment variables.

Built once in each process's ``main()`` and passed down; nothing reads the
environment at import time.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from processor.events import EVENT_KINDS

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PREFIX = "DRAWDOWN_"
# Values never repeated in an error message.
SECRET_FIELDS = frozenset({"api_token", "database_url"})
# DRAWDOWN_* variables that are not settings but are known: the test suite's own.
NOT_SETTINGS_PREFIXES = ("DRAWDOWN_TEST_",)


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def split_addr(addr: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` for IPv6) of DRAWDOWN_HTTP_ADDR; ValueError otherwise."""
    parts = urlsplit(f"//{addr}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{addr!r} has no valid port: {exc}") from None
    if not parts.hostname or port is None or parts.path or parts.query or parts.username:
        raise ValueError(f"{addr!r} is not host:port, e.g. 127.0.0.1:8000 or 0.0.0.0:8000")
    return parts.hostname, port


class Settings(BaseSettings):
    """Every tunable of Drawdown; see docs/configuration.md for the table."""

    # hide_input_in_errors: a bad value is never echoed (DRAWDOWN_DATABASE_URL may hold a
    # password); the error names the variable and says what is wrong with it.
    model_config = SettingsConfigDict(
        env_prefix="DRAWDOWN_", frozen=True, extra="ignore", hide_input_in_errors=True
    )

    database_url: str = "sqlite+aiosqlite:///drawdown.db"
    kafka_bootstrap: str | None = None
    kafka_idempotence: bool = False
    kafka_session_timeout: float = Field(default=10.0, gt=0)
    topic_prefix: str = "drawdown"
    topic_partitions: int = Field(default=6, ge=1)
    consumer_group: str = "drawdown-processor"
    sources: Path | None = None
    api_token: SecretStr | None = None
    http_addr: str = "127.0.0.1:8000"
    webhook_allowed_networks: Annotated[
        list[ipaddress.IPv4Network | ipaddress.IPv6Network], NoDecode
    ] = []
    fetch_allowed_networks: Annotated[
        list[ipaddress.IPv4Network | ipaddress.IPv6Network], NoDecode
    ] = []
    fetch_sandbox: bool = False
    api_max_body_bytes: int = Field(default=1_000_000, ge=1024)
    min_poll_interval: float = Field(default=60.0, gt=0)
    max_poll_interval: float = Field(default=3600.0, gt=0)
    poll_interval: float = Field(default=600.0, gt=0)
    poll_jitter: float = Field(default=0.1, ge=0, lt=1)
    park_after_failures: int = Field(default=10, ge=1)
    parked_retry_interval: float = Field(default=86400.0, gt=0)
    poll_concurrency: int = Field(default=16, ge=1)
    per_host_concurrency: int = Field(default=2, ge=1)
    per_host_delay: float = Field(default=1.0, ge=0)
    poll_lease: float = Field(default=60.0, gt=0)
    fetch_max_bytes: int = Field(default=5_000_000, ge=1024)
    fetch_connect_timeout: float = Field(default=10.0, gt=0)
    fetch_read_timeout: float = Field(default=20.0, gt=0)
    fetch_total_timeout: float = Field(default=30.0, gt=0)
    fetch_max_redirects: int = Field(default=5, ge=0)
    poll_max_entries: int = Field(default=100, ge=1)
    parse_timeout: float = Field(default=10.0, gt=0)
    worker_processes: int | None = Field(default=None, ge=0)
    batch_size: int = Field(default=100, ge=1)
    alert_window_hours: float = Field(default=168.0, gt=0)
    alert_kinds: Annotated[tuple[str, ...], NoDecode] = (
        "withdrawal",
        "withdrawal_planned",
        "negotiation",
        "denial",
    )
    alert_min_confidence: float = Field(default=0.5, ge=0, le=1)
    replay_timeout: float = Field(default=300.0, gt=0)
    shutdown_timeout: float = Field(default=20.0, gt=0)
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"
    heartbeat_interval: float = Field(default=10.0, gt=0)
    # The webhook dispatcher (docs/configuration.md, docs/webhooks.md).
    webhook_timeout: float = Field(default=10.0, gt=0)
    webhook_connect_timeout: float = Field(default=5.0, gt=0)
    webhook_max_response_bytes: int = Field(default=65536, ge=1024)
    webhook_concurrency: int = Field(default=64, ge=1)
    webhook_per_subscription_concurrency: int = Field(default=16, ge=1)
    webhook_batch_size: int = Field(default=200, ge=1)
    webhook_poll_interval: float = Field(default=0.25, gt=0)
    webhook_lease: float = Field(default=60.0, gt=0)
    webhook_retry_horizon: float = Field(default=86400.0, gt=0)
    webhook_backoff_base: float = Field(default=5.0, gt=0)
    webhook_backoff_max: float = Field(default=3600.0, gt=0)
    webhook_breaker_threshold: int = Field(default=5, ge=1)
    webhook_breaker_cooldown: float = Field(default=60.0, gt=0)

    @field_validator("http_addr")
    @classmethod
    def _http_addr(cls, value: str) -> str:
        split_addr(value)
        return value

    @field_validator("webhook_allowed_networks", "fetch_allowed_networks", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("alert_kinds", mode="before")
    @classmethod
    def _kinds(cls, value: object) -> object:
        kinds = _split_csv(value)
        if isinstance(kinds, list | tuple) and not kinds:
            raise ValueError("name at least one event kind")
        if isinstance(kinds, list | tuple):
            unknown = sorted(set(kinds) - set(EVENT_KINDS))
            if unknown:
                raise ValueError(f"unknown event kinds {unknown}; known: {', '.join(EVENT_KINDS)}")
        return kinds

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r}; known: {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "use an async driver: sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DB"
            )
        return value

    @model_validator(mode="after")
    def _poll_bounds(self) -> Settings:
        if self.min_poll_interval > self.max_poll_interval:
            raise ValueError(
                f"DRAWDOWN_MIN_POLL_INTERVAL ({self.min_poll_interval:g}) is above "
                f"DRAWDOWN_MAX_POLL_INTERVAL ({self.max_poll_interval:g})"
            )
        return self

    @model_validator(mode="after")
    def _webhook_bounds(self) -> Settings:
        if self.webhook_lease <= 2 * self.webhook_timeout:
            raise ValueError(
                f"DRAWDOWN_WEBHOOK_LEASE ({self.webhook_lease:g}) must be longer than twice "
                f"DRAWDOWN_WEBHOOK_TIMEOUT ({self.webhook_timeout:g}): a claimed delivery may wait "
                "for a request before its own, and one still in flight would be sent twice"
            )
        if self.webhook_backoff_base > self.webhook_backoff_max:
            raise ValueError(
                f"DRAWDOWN_WEBHOOK_BACKOFF_BASE ({self.webhook_backoff_base:g}) is above "
                f"DRAWDOWN_WEBHOOK_BACKOFF_MAX ({self.webhook_backoff_max:g})"
            )
        return self

    @property
    def topic_raw(self) -> str:
        return f"{self.topic_prefix}.articles.raw"

    @property
    def topic_dlq(self) -> str:
        return f"{self.topic_prefix}.articles.dlq"

    @property
    def topic_alerts(self) -> str:
        return f"{self.topic_prefix}.alerts"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def variable(field: str) -> str:
    """The environment variable of a settings field."""
    return PREFIX + field.upper()


def explain(error: ValidationError) -> list[str]:
    """One plain line per problem, naming the DRAWDOWN_* variable and what it holds (never
    a secret's value), without pydantic's type names and links."""
    lines = []
    for problem in error.errors(include_url=False):
        message = str(problem["msg"]).removeprefix("Value error, ")
        loc = [str(part) for part in problem["loc"]]
        if not loc:  # a check across settings: its message names them
            lines.append(message)
            continue
        field = loc[0]
        shown = "" if field in SECRET_FIELDS else f"={problem.get('input')!s}"
        lines.append(f"{variable(field)}{shown}: {message}")
    return lines


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A warning for each DRAWDOWN_* variable that is no setting (a typo is otherwise
    silently ignored), with the setting it most looks like."""
    known = {variable(name) for name in Settings.model_fields}
    warnings = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(PREFIX) or upper in known:
            continue
        if upper.startswith(NOT_SETTINGS_PREFIXES):
            continue
        close = difflib.get_close_matches(
            upper.removeprefix(PREFIX), [k.removeprefix(PREFIX) for k in known], n=1, cutoff=0.8
        )
        hint = (
            f"; did you mean {PREFIX}{close[0]}?"
            if close
            else " (docs/configuration.md lists them)"
        )
        warnings.append(f"{name} is not a Drawdown setting and is ignored{hint}")
    return warnings
