"""`drawdown sources`: every source's poll state and health, as a table or JSON lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from processor.outcomes import Latency, latency_by_source
from services.db import open_database, sessionmaker
from services.models import Source
from services.settings import Settings


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = (moment - now).total_seconds()
    span = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if span >= size:
            amount = f"{span / size:.0f}{unit}"
            break
    else:
        amount = f"{span:.0f}s"
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}s"


def _next_poll(source: Source, now: datetime) -> str:
    if not source.enabled:
        return "-"
    if source.next_poll_at <= now:  # due: the next poller's round takes it
        return "due now"
    return _when(source.next_poll_at, now)


def _source_row(source: Source, now: datetime, lag: Latency | None) -> dict[str, str]:
    next_poll = _next_poll(source, now)
    if source.enabled and source.parked_until is not None:
        next_poll = f"parked, {next_poll}"
    error = (source.last_error or "").replace("\n", " ")
    return {
        "NAME": source.name,
        "KIND": source.kind,
        "ENABLED": "yes" if source.enabled else "no",
        "LAST POLL": _when(source.last_polled_at, now),
        "NEXT POLL": next_poll,
        "STATUS": source.last_status or "-",
        "ERRORS": str(source.error_count),
        "LAST ERROR": error[:57] + "..." if len(error) > 60 else error or "-",
        "ARTICLES": str(source.articles_found),
        "FETCH→ALERT": _seconds(lag.fetch_to_alert if lag else None),
    }


def _print_sources(sources: list[Source], now: datetime, lags: dict[str, Latency]) -> None:
    rows = [_source_row(source, now, lags.get(source.name)) for source in sources]
    if not rows:
        print("no sources")  # noqa: T201
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    for row in [{c: c for c in columns}, *rows]:
        print("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip())  # noqa: T201


def _source_json(source: Source, lag: Latency | None) -> dict[str, object]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": source.id,
        "name": source.name,
        "url": source.url,
        "kind": source.kind,
        "language": source.language,
        "interval": source.interval,
        "enabled": source.enabled,
        "last_polled_at": iso(source.last_polled_at),
        "next_poll_at": iso(source.next_poll_at),
        "last_status": source.last_status,
        "error_count": source.error_count,
        "last_error": source.last_error,
        "parked_until": iso(source.parked_until),
        "articles_found": source.articles_found,
        "alerted_articles": lag.alerted if lag else 0,
        "publication_to_alert_p50_s": lag.publication_to_alert if lag else None,
        "fetch_to_alert_p50_s": lag.fetch_to_alert if lag else None,
    }


async def show_sources(settings: Settings, as_json: bool) -> int:
    """Load the sources file, then print every source's poll state and health."""
    from ingest.sources import load_sources, sources_path

    async with open_database(settings) as engine:
        await load_sources(engine, sources_path(settings.sources))
        async with sessionmaker(engine)() as session:
            found = list(await session.scalars(select(Source).order_by(Source.name, Source.id)))
            lags = await latency_by_source(session)
    if as_json:
        for source in found:
            line = _source_json(source, lags.get(source.name))
            print(json.dumps(line, ensure_ascii=False))  # noqa: T201
    else:
        _print_sources(found, datetime.now(UTC), lags)
    return 0
