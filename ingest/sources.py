"""The sources file (``DRAWDOWN_SOURCES``): parsing, validation and loading into ``sources``.

Parsing is pure and reports every problem with the file name and line (taken
from YAML node marks). Loading is idempotent: sources are upserted by URL —
name, kind, language, interval and enabled follow the file, poll state is kept —
and sources no longer in the file are disabled (kept, with their history).
The top-level ``subscriptions:`` key belongs to the webhook dispatcher and is
left alone here.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.db import sessionmaker
from services.errors import ConfigError
from services.models import Source, utcnow

log = logging.getLogger(__name__)

KINDS = ("feed", "page")
TOP_LEVEL_KEYS = frozenset({"sources", "subscriptions"})
SOURCE_KEYS = frozenset({"name", "url", "kind", "language", "interval", "enabled"})
REQUIRED_KEYS = ("name", "url")
UPSERT_CHUNK = 500  # rows per INSERT, well under SQLite's and asyncpg's parameter limits


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One source as the file defines it."""

    name: str
    url: str
    kind: str = "feed"
    language: str | None = None
    interval: float | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class SyncReport:
    upserted: int
    disabled: int


def shipped_sources() -> Path:
    """The sources file that ships with Drawdown, used when DRAWDOWN_SOURCES is unset."""
    return Path(str(resources.files("ingest.data") / "sources.yaml"))


class _Reader:
    """Walks a composed YAML document, naming ``origin:line`` in every error."""

    def __init__(self, origin: str, loader: yaml.SafeLoader) -> None:
        self.origin = origin
        self.loader = loader

    def error(self, node: yaml.Node, message: str) -> ConfigError:
        return ConfigError(f"{self.origin}:{node.start_mark.line + 1}: {message}")

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping of keys to values")
        pairs = []
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = self.scalar(key_node)
            if not isinstance(key, str):
                raise self.error(key_node, f"{what}: keys must be names, not {key!r}")
            if key in seen:
                raise self.error(key_node, f"{what}: {key!r} is given twice")
            seen.add(key)
            pairs.append((key, key_node, value_node))
        return pairs

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, "expected a single value")
        return self.loader.construct_object(node, deep=True)


def _text(reader: _Reader, node: yaml.Node, key: str) -> str:
    value = reader.scalar(node)
    if not isinstance(value, str) or not value.strip():
        raise reader.error(node, f"{key!r} must be non-empty text")
    return value.strip()


def _url(reader: _Reader, node: yaml.Node) -> str:
    url = _text(reader, node, "url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise reader.error(node, f"url {url!r} is not an http(s) URL with a host")
    return url


def _interval(reader: _Reader, node: yaml.Node) -> float:
    value = reader.scalar(node)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise reader.error(node, f"'interval' must be a number of seconds, not {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise reader.error(node, f"'interval' must be a positive number of seconds, not {value}")
    return float(value)


def _source(reader: _Reader, node: yaml.Node) -> SourceSpec:
    values: dict[str, Any] = {}
    for key, key_node, value_node in reader.mapping(node, "a source"):
        if key not in SOURCE_KEYS:
            known = ", ".join(sorted(SOURCE_KEYS))
            raise reader.error(key_node, f"unknown key {key!r} in a source (known: {known})")
        if key == "url":
            values[key] = _url(reader, value_node)
        elif key == "kind":
            kind = reader.scalar(value_node)
            if kind not in KINDS:
                raise reader.error(value_node, f"'kind' must be feed or page, not {kind!r}")
            values[key] = kind
        elif key == "interval":
            values[key] = _interval(reader, value_node)
        elif key == "enabled":
            enabled = reader.scalar(value_node)
            if not isinstance(enabled, bool):
                raise reader.error(value_node, f"'enabled' must be true or false, not {enabled!r}")
            values[key] = enabled
        else:  # name, language
            values[key] = _text(reader, value_node, key)
    for key in REQUIRED_KEYS:
        if key not in values:
            raise reader.error(node, f"a source needs {key!r}")
    return SourceSpec(**values)


def parse_sources(text: str, origin: str = "<sources>") -> list[SourceSpec]:
    """The sources a sources file defines; ConfigError names the line of any problem."""
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise ConfigError(f"{origin}: not valid YAML: {exc}") from exc
        if root is None:
            return []
        reader = _Reader(origin, loader)
        specs: list[SourceSpec] = []
        lines: dict[str, int] = {}
        for key, key_node, value_node in reader.mapping(root, "the sources file"):
            if key not in TOP_LEVEL_KEYS:
                raise reader.error(key_node, f"unknown key {key!r} (known: sources, subscriptions)")
            if key != "sources" or _is_null(value_node):
                continue
            if not isinstance(value_node, yaml.SequenceNode):
                raise reader.error(value_node, "'sources' must be a list of sources")
            for item in value_node.value:
                spec = _source(reader, item)
                line = item.start_mark.line + 1
                if spec.url in lines:
                    raise reader.error(item, f"url {spec.url} is also on line {lines[spec.url]}")
                lines[spec.url] = line
                specs.append(spec)
        return specs
    finally:
        loader.dispose()


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def read_sources(path: Path) -> list[SourceSpec]:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the sources file {path}: {exc}") from exc
    return parse_sources(text, str(path))


def _row(spec: SourceSpec, now: datetime) -> dict[str, Any]:
    return {
        "name": spec.name,
        "url": spec.url,
        "kind": spec.kind,
        "language": spec.language,
        "interval": spec.interval,
        "enabled": spec.enabled,
        "next_poll_at": now,
        "error_count": 0,
        "articles_found": 0,
        "created_at": now,
        "updated_at": now,
    }


async def sync_sources(
    session: AsyncSession, specs: list[SourceSpec], now: datetime | None = None
) -> SyncReport:
    """Upsert ``specs`` by URL and disable sources that are no longer listed."""
    now = now or utcnow()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    ordered = sorted(specs, key=lambda s: s.url)  # one lock order for every process
    for start in range(0, len(ordered), UPSERT_CHUNK):
        statement = insert(Source).values(
            [_row(spec, now) for spec in ordered[start : start + UPSERT_CHUNK]]
        )
        followed = {name: statement.excluded[name] for name in sorted(SOURCE_KEYS - {"url"})}
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[Source.url], set_={**followed, "updated_at": now}
            )
        )
    urls = [spec.url for spec in specs]
    gone = await session.execute(
        update(Source)
        .where(Source.enabled, Source.url.not_in(urls))
        .values(enabled=False, updated_at=now)
        .returning(Source.url)
    )
    disabled = list(gone.scalars())
    for url in disabled:
        log.info("source no longer in the sources file, disabled url=%s", url)
    return SyncReport(upserted=len(specs), disabled=len(disabled))


def sources_path(sources: Path | None) -> Path:
    """DRAWDOWN_SOURCES, or the shipped file when it is unset."""
    return sources if sources is not None else shipped_sources()


async def load_sources(engine: AsyncEngine, path: Path) -> SyncReport:
    """Read the sources file and bring the ``sources`` table in line with it."""
    specs = read_sources(path)
    async with sessionmaker(engine).begin() as session:
        report = await sync_sources(session, specs)
    log.info(
        "sources loaded file=%s sources=%d disabled=%d", path, report.upserted, report.disabled
    )
    return report
