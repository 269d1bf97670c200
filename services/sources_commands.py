"""`drawdown sources add | remove | enable | disable | import | export`: manage the sources
table from the command line, beside the sources file and ``POST /sources``.

Sources added here (or imported from OPML) have ``origin`` "api", like those added
through the HTTP API: reloading the sources file leaves them alone. A source of the
file can be enabled or disabled here until the file is loaded again, and is removed by
removing it from the file. OPML is what feed readers import and export
(``listparser`` reads it; the export is written with the standard library).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import listparser
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ingest.sources import SourceSpec, source_row
from services.api.vocabulary import check_http_url
from services.db import open_database, sessionmaker
from services.errors import ConfigError
from services.models import SeenUrl, Source, utcnow
from services.netguard import Network, host_refusal
from services.settings import Settings
from services.webhooks.subscriptions import API, FILE

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Imported:
    added: list[str]
    skipped: list[str]  # already sources


def _out(line: str) -> None:
    print(line)  # noqa: T201 - the command's own output


def spec_for(
    url: str,
    *,
    name: str | None = None,
    kind: str = "feed",
    language: str | None = None,
    interval: float | None = None,
    allowed: Sequence[Network] = (),
) -> SourceSpec:
    """A source as ``sources add`` defines it; ConfigError for a URL no poller could fetch,
    its host among them when the fetch guard refuses it (as POST /sources does)."""
    try:
        url = check_http_url(url.strip())
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    refused = host_refusal(urlsplit(url).hostname or "", allowed)
    if refused is not None:
        raise ConfigError(
            f"blocked address: {refused}; fetches may not go there "
            "(DRAWDOWN_FETCH_ALLOWED_NETWORKS lists networks allowed nevertheless)"
        )
    if interval is not None and not interval > 0:
        raise ConfigError(f"--interval must be a positive number of seconds, not {interval:g}")
    return SourceSpec(
        name=(name or "").strip() or url, url=url, kind=kind, language=language, interval=interval
    )


async def find_source(session: AsyncSession, which: str) -> Source:
    """The source whose URL, name or id is ``which``; ConfigError if none or several."""
    condition = or_(Source.url == which, Source.name == which)
    if which.isdigit():
        condition = or_(condition, Source.id == int(which))
    found = list(await session.scalars(select(Source).where(condition).order_by(Source.id)))
    if not found:
        raise ConfigError(f"no source {which!r}; `drawdown sources` lists them")
    if len(found) > 1:
        ids = ", ".join(str(s.id) for s in found)
        raise ConfigError(f"{which!r} names several sources (ids {ids}): give the URL or id")
    return found[0]


async def add_sources(session: AsyncSession, specs: Iterable[SourceSpec]) -> Imported:
    """Insert each spec whose URL is not a source yet (``origin`` api, due at once)."""
    wanted = {spec.url: spec for spec in specs}
    existing = set(await session.scalars(select(Source.url).where(Source.url.in_(wanted))))
    now = utcnow()
    added = [url for url in wanted if url not in existing]
    if added:
        await session.execute(insert(Source), [source_row(wanted[url], now, API) for url in added])
    return Imported(added, sorted(existing))


async def remove_source(session: AsyncSession, source: Source) -> None:
    if source.origin == FILE:
        raise ConfigError(
            f"source {source.name!r} is in the sources file: remove it there (a reload disables "
            f"it), or `drawdown sources disable {source.url}`"
        )
    # What the source found stays found (no refetch), without its source.
    await session.execute(
        update(SeenUrl).where(SeenUrl.source_id == source.id).values(source_id=None)
    )
    await session.execute(delete(Source).where(Source.id == source.id))


def read_opml(path: Path, allowed: Sequence[Network] = ()) -> list[SourceSpec]:
    """The feeds an OPML subscription list names (an outline the fetch guard refuses is
    skipped with a warning); ConfigError if it names none."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    parsed = listparser.parse(content)  # bytes: parsed as a document, never fetched
    specs = []
    for feed in parsed.feeds:
        try:
            specs.append(
                spec_for(str(feed.url), name=str(feed.get("title") or ""), allowed=allowed)
            )
        except ConfigError as exc:
            log.warning("OPML outline skipped file=%s url=%s reason=%s", path, feed.url, exc)
    if not specs:
        why = f": {parsed.bozo_exception}" if parsed.bozo else ""
        raise ConfigError(f"{path} names no feed (an OPML outline with an xmlUrl){why}")
    return specs


def to_opml(sources: Iterable[Source]) -> str:
    """An OPML 2.0 subscription list of ``sources``, for feed readers (and re-import)."""
    opml = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(opml, "head")
    ElementTree.SubElement(head, "title").text = "Drawdown sources"
    body = ElementTree.SubElement(opml, "body")
    for source in sources:
        attributes = {"text": source.name, "title": source.name, "xmlUrl": source.url}
        attributes["type"] = "rss" if source.kind == "feed" else "link"
        if source.language:
            attributes["language"] = source.language
        ElementTree.SubElement(body, "outline", attributes)
    ElementTree.indent(opml)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(
        opml, encoding="unicode"
    )


async def sources_command(settings: Settings, action: str, **options: object) -> int:
    """One ``drawdown sources ACTION``; prints what it did."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its migration check says hello
    async with open_database(settings) as engine, sessionmaker(engine).begin() as session:
        if action == "add":
            spec = spec_for(
                str(options["url"]),
                name=_text(options.get("name")),
                kind=str(options.get("kind") or "feed"),
                language=_text(options.get("language")),
                interval=_number(options.get("interval")),
                allowed=settings.fetch_allowed_networks,
            )
            result = await add_sources(session, [spec])
            if result.skipped:
                raise ConfigError(f"{spec.url} is already a source")
            _out(f"added {spec.name} ({spec.kind}) {spec.url}: due for a poll now")
        elif action == "import":
            result = await add_sources(
                session, read_opml(Path(str(options["file"])), settings.fetch_allowed_networks)
            )
            _out(f"imported {len(result.added)} sources, {len(result.skipped)} already there")
        elif action == "export":
            found = await session.scalars(select(Source).order_by(Source.name, Source.id))
            _out(to_opml(found))
        else:
            source = await find_source(session, str(options["source"]))
            if action == "remove":
                await remove_source(session, source)
                _out(f"removed {source.name} {source.url}")
            else:
                source.enabled = action == "enable"
                source.updated_at = utcnow()
                until = " (until the sources file is loaded again)" if source.origin == FILE else ""
                _out(f"{action}d {source.name} {source.url}{until}")
    return 0


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _number(value: object) -> float | None:
    return None if value is None else float(str(value))
