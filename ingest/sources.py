"""The sources file (``DRAWDOWN_SOURCES``): parsing, validation and loading into ``sources``.

Parsing is pure and reports every problem with the file name and line (taken
from YAML node marks). Loading is idempotent: sources are upserted by URL —
name, kind, language, interval and enabled follow the file, poll state is kept —
and the file's sources (``origin`` "file") no longer in it are disabled (kept,
with their history). Sources added through the API (``origin`` "api") are not
the file's to disable; a file that lists the URL of one takes it over (its
``origin`` becomes "file" and its fields follow the file).
The top-level ``subscriptions:`` list (webhook endpoints) is parsed here too,
item by item by ``services.webhooks.subscriptions``, and loaded by
``load_subscriptions``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.db import sessionmaker
from services.errors import ConfigError
from services.models import Source, utcnow
from services.webhooks.subscriptions import (
    API,
    FILE,
    SubscriptionSpec,
    parse_subscription,
    sync_subscriptions,
)
from services.yamlfile import NodeReader, is_null

log = logging.getLogger(__name__)

KINDS = ("feed", "page")
TOP_LEVEL_KEYS = frozenset({"include", "sources", "subscriptions"})
# In ``include:``, Drawdown's own list of sources (wherever it is installed).
SHIPPED = "shipped"
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


def _interval(reader: NodeReader, node: yaml.Node) -> float:
    value = reader.scalar(node)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise reader.error(node, f"'interval' must be a number of seconds, not {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise reader.error(node, f"'interval' must be a positive number of seconds, not {value}")
    return float(value)


def _source(reader: NodeReader, node: yaml.Node) -> SourceSpec:
    values: dict[str, Any] = {}
    for key, key_node, value_node in reader.mapping(node, "a source"):
        if key not in SOURCE_KEYS:
            known = ", ".join(sorted(SOURCE_KEYS))
            raise reader.error(key_node, f"unknown key {key!r} in a source (known: {known})")
        if key == "url":
            values[key] = reader.http_url(value_node)
        elif key == "kind":
            kind = reader.scalar(value_node)
            if kind not in KINDS:
                raise reader.error(value_node, f"'kind' must be feed or page, not {kind!r}")
            values[key] = kind
        elif key == "interval":
            values[key] = _interval(reader, value_node)
        elif key == "enabled":
            values[key] = reader.boolean(value_node, key)
        else:  # name, language
            values[key] = reader.text(value_node, key)
    for key in REQUIRED_KEYS:
        if key not in values:
            raise reader.error(node, f"a source needs {key!r}")
    return SourceSpec(**values)


@dataclass(frozen=True, slots=True)
class SourcesFile:
    """Everything a sources file defines: sources to poll, webhook subscriptions, and the
    files it includes (as written: a path relative to the file, or ``shipped``)."""

    sources: list[SourceSpec]
    subscriptions: list[SubscriptionSpec]
    includes: list[str] = field(default_factory=list)


def _sources(reader: NodeReader, node: yaml.Node) -> list[SourceSpec]:
    if not isinstance(node, yaml.SequenceNode):
        raise reader.error(node, "'sources' must be a list of sources")
    specs: list[SourceSpec] = []
    lines: dict[str, int] = {}
    for item in node.value:
        spec = _source(reader, item)
        if spec.url in lines:
            raise reader.error(item, f"url {spec.url} is also on line {lines[spec.url]}")
        lines[spec.url] = item.start_mark.line + 1
        specs.append(spec)
    return specs


def _subscriptions(reader: NodeReader, node: yaml.Node) -> list[SubscriptionSpec]:
    if not isinstance(node, yaml.SequenceNode):
        raise reader.error(node, "'subscriptions' must be a list of subscriptions")
    specs: list[SubscriptionSpec] = []
    lines: dict[str, int] = {}
    for item in node.value:
        spec = parse_subscription(reader, item)
        if spec.name in lines:  # names are how the command line finds a subscription
            raise reader.error(
                item, f"subscription {spec.name!r} is also on line {lines[spec.name]}"
            )
        lines[spec.name] = item.start_mark.line + 1
        specs.append(spec)
    return specs


def parse_sources_file(text: str, origin: str = "<sources>") -> SourcesFile:
    """What a sources file defines; ConfigError names the line of any problem."""
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise ConfigError(f"{origin}: not valid YAML: {exc}") from exc
        parsed = SourcesFile([], [])
        if root is None:
            return parsed
        reader = NodeReader(origin, loader)
        for key, key_node, value_node in reader.mapping(root, "the sources file"):
            if key not in TOP_LEVEL_KEYS:
                known = ", ".join(sorted(TOP_LEVEL_KEYS))
                raise reader.error(key_node, f"unknown key {key!r} (known: {known})")
            if is_null(value_node):
                continue
            if key == "include":
                parsed.includes.extend(reader.text_list(value_node, "include"))
            elif key == "sources":
                parsed.sources.extend(_sources(reader, value_node))
            else:
                parsed.subscriptions.extend(_subscriptions(reader, value_node))
        return parsed
    finally:
        loader.dispose()


def parse_sources(text: str, origin: str = "<sources>") -> list[SourceSpec]:
    """The sources a sources file defines (its subscriptions are checked too)."""
    return parse_sources_file(text, origin).sources


def _read_one(path: Path, included_from: str | None) -> SourcesFile:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        where = f" (included from {included_from})" if included_from else ""
        raise ConfigError(f"cannot read the sources file {path}{where}: {exc}") from exc
    return parse_sources_file(text, str(path))


def _included(path: Path, name: str) -> Path:
    return shipped_sources() if name == SHIPPED else (path.parent / name).resolve()


def read_sources_file(path: Path, _within: tuple[Path, ...] = ()) -> SourcesFile:
    """The sources file at ``path`` with the files it includes, depth first. A file's own
    entries come last and win: a source (by URL) or subscription (by name) it lists
    replaces the one an included file gives, so a user can include the shipped list and
    change one of its sources. Including a file that is already being read is an error."""
    resolved = path.resolve()
    if resolved in _within:
        chain = " -> ".join(str(p) for p in (*_within, resolved))
        raise ConfigError(f"the sources files include each other: {chain}")
    own = _read_one(path, str(_within[-1]) if _within else None)
    sources: dict[str, SourceSpec] = {}
    subscriptions: dict[str, SubscriptionSpec] = {}
    for name in own.includes:
        included = read_sources_file(_included(path, name), (*_within, resolved))
        sources.update((spec.url, spec) for spec in included.sources)
        subscriptions.update((spec.name, spec) for spec in included.subscriptions)
    sources.update((spec.url, spec) for spec in own.sources)
    subscriptions.update((spec.name, spec) for spec in own.subscriptions)
    return SourcesFile(list(sources.values()), list(subscriptions.values()), own.includes)


def read_sources(path: Path) -> list[SourceSpec]:
    return read_sources_file(path).sources


def source_row(spec: SourceSpec, now: datetime, origin: str = FILE) -> dict[str, Any]:
    """The ``sources`` row of a new source: due for a poll at once."""
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
        "origin": origin,
        "created_at": now,
        "updated_at": now,
    }


async def _log_taken_over(session: AsyncSession, urls: list[str]) -> None:
    taken = await session.scalars(
        select(Source.url).where(Source.origin == API, Source.url.in_(urls))
    )
    for url in taken:
        log.info("source added through the API is now the sources file's url=%s", url)


async def sync_sources(
    session: AsyncSession, specs: list[SourceSpec], now: datetime | None = None
) -> SyncReport:
    """Upsert ``specs`` by URL (taking over sources added through the API that the file
    lists) and disable the file's sources that are no longer listed."""
    now = now or utcnow()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    ordered = sorted(specs, key=lambda s: s.url)  # one lock order for every process
    for start in range(0, len(ordered), UPSERT_CHUNK):
        chunk = ordered[start : start + UPSERT_CHUNK]
        await _log_taken_over(session, [spec.url for spec in chunk])
        statement = insert(Source).values([source_row(spec, now) for spec in chunk])
        followed = {
            name: statement.excluded[name] for name in sorted((SOURCE_KEYS - {"url"}) | {"origin"})
        }
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[Source.url], set_={**followed, "updated_at": now}
            )
        )
    gone = await session.execute(
        update(Source)
        .where(Source.enabled, Source.origin == FILE, Source.url.not_in([s.url for s in specs]))
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


async def load_subscriptions(engine: AsyncEngine, path: Path) -> dict[str, str]:
    """Read the sources file and bring the ``subscriptions`` table in line with its
    ``subscriptions:`` list (see services.webhooks.subscriptions); the secrets generated
    for new ones without a secret, by name (the command prints them: ``announce_secrets``)."""
    specs = read_sources_file(path).subscriptions
    async with sessionmaker(engine).begin() as session:
        generated = await sync_subscriptions(session, specs)
    log.info("subscriptions loaded file=%s subscriptions=%d", path, len(specs))
    return generated
