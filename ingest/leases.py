"""The pollers' state in the database: leases on due sources, poll results, seen entry URLs.

Pollers in any number of processes share the ``sources`` table. A poller takes
due sources (``next_poll_at <= now``, enabled, not leased or lease expired) in
``next_poll_at`` order by setting ``leased_by``/``leased_until`` in one
statement — ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``
on PostgreSQL, the same statement serialized by SQLite's write lock there — so
no source is polled twice at once. It renews its leases while it polls, and
releases each source with its new schedule and health.

An entry URL is "known" when it is in ``seen_urls`` (its article was
acknowledged by the broker) or is a stored article's canonical URL. The
``Ledger`` batches the pollers' database traffic: the seen-URL lookups of polls
running at the same time share one query, and poll records finishing together
share one transaction; each caller gets its own answer once its batch is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import CompoundSelect, Table, bindparam, or_, select, union, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ingest.schedule import Health
from services.models import Article, SeenUrl, Source

T = TypeVar("T")
R = TypeVar("R")
MAX_RECORDS = 200  # poll records per transaction
# URLs per lookup query: each is two parameters, well under SQLite's and asyncpg's limits.
MAX_LOOKUP_URLS = 5000
_sources = cast(Table, Source.__table__)


@dataclass(frozen=True, slots=True)
class Lease:
    """A source this poller holds until it releases it (or the lease runs out)."""

    id: int
    name: str
    url: str
    kind: str
    language: str | None
    interval: float | None
    etag: str | None
    last_modified: str | None
    error_count: int


@dataclass(frozen=True, slots=True)
class PollRecord:
    """What one poll changes: the source's schedule and health, and the entry URLs it published."""

    source_id: int
    polled_at: datetime
    health: Health
    status: str | None
    error: str | None
    etag: str | None
    last_modified: str | None
    articles: int = 0
    seen: tuple[str, ...] = field(default=())


async def take(
    engine: AsyncEngine, holder: str, *, now: datetime, limit: int, duration: float
) -> list[Lease]:
    """Lease up to ``limit`` due sources for ``duration`` seconds, oldest due first."""
    if limit <= 0:
        return []
    due = (
        select(Source.id)
        .where(
            Source.enabled,
            Source.next_poll_at <= now,
            or_(Source.leased_until.is_(None), Source.leased_until < now),
        )
        .order_by(Source.next_poll_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(_sources)
        .where(_sources.c.id.in_(due.scalar_subquery()))
        .values(leased_by=holder, leased_until=now + timedelta(seconds=duration))
        .returning(
            _sources.c.id,
            _sources.c.name,
            _sources.c.url,
            _sources.c.kind,
            _sources.c.language,
            _sources.c.interval,
            _sources.c.etag,
            _sources.c.last_modified,
            _sources.c.error_count,
            _sources.c.next_poll_at,
        )
    )
    async with engine.begin() as connection:
        rows = list((await connection.execute(statement)).all())
    rows.sort(key=lambda row: row.next_poll_at)
    return [
        Lease(
            id=row.id,
            name=row.name,
            url=row.url,
            kind=row.kind,
            language=row.language,
            interval=row.interval,
            etag=row.etag,
            last_modified=row.last_modified,
            error_count=row.error_count,
        )
        for row in rows
    ]


async def renew(
    engine: AsyncEngine, holder: str, ids: Collection[int], *, now: datetime, duration: float
) -> None:
    """Extend this holder's leases on ``ids`` while their polls are still running."""
    if not ids:
        return
    async with engine.begin() as connection:
        await connection.execute(
            update(_sources)
            .where(_sources.c.leased_by == holder, _sources.c.id.in_(list(ids)))
            .values(leased_until=now + timedelta(seconds=duration))
        )


async def abandon(engine: AsyncEngine, holder: str, ids: Collection[int]) -> None:
    """Give leases back unpolled (e.g. at shutdown): the sources stay due."""
    if not ids:
        return
    async with engine.begin() as connection:
        await connection.execute(
            update(_sources)
            .where(_sources.c.leased_by == holder, _sources.c.id.in_(list(ids)))
            .values(leased_by=None, leased_until=None)
        )


async def known_urls(engine: AsyncEngine, urls: Collection[str]) -> set[str]:
    """Which of ``urls`` (canonical) were published before or are stored articles: one query."""
    if not urls:
        return set()
    wanted = list(urls)
    query: CompoundSelect[Any] = union(
        select(SeenUrl.url).where(SeenUrl.url.in_(wanted)),
        select(Article.canonical_url).where(Article.canonical_url.in_(wanted)),
    )
    async with engine.connect() as connection:
        return {row[0] for row in await connection.execute(query)}


_RELEASE = (
    update(_sources)
    .where(_sources.c.id == bindparam("b_id"), _sources.c.leased_by == bindparam("b_holder"))
    .values(
        leased_by=None,
        leased_until=None,
        last_polled_at=bindparam("b_polled_at"),
        next_poll_at=bindparam("b_next_poll_at"),
        error_count=bindparam("b_error_count"),
        parked_until=bindparam("b_parked_until"),
        last_status=bindparam("b_status"),
        last_error=bindparam("b_error"),
        etag=bindparam("b_etag"),
        last_modified=bindparam("b_last_modified"),
        articles_found=_sources.c.articles_found + bindparam("b_articles"),
        updated_at=bindparam("b_polled_at"),
    )
)


async def write(connection: AsyncConnection, holder: str, records: Sequence[PollRecord]) -> None:
    """Mark the records' URLs seen and release their sources, in the caller's transaction."""
    seen = {url: (record.source_id, record.polled_at) for record in records for url in record.seen}
    if seen:
        dialect = connection.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        rows = [
            {"url": url, "source_id": source_id, "first_seen_at": at}
            for url, (source_id, at) in sorted(seen.items())
        ]
        await connection.execute(insert(SeenUrl).on_conflict_do_nothing(), rows)
    await connection.execute(
        _RELEASE,
        [
            {
                "b_id": r.source_id,
                "b_holder": holder,
                "b_polled_at": r.polled_at,
                "b_next_poll_at": r.health.next_poll_at,
                "b_error_count": r.health.error_count,
                "b_parked_until": r.health.parked_until,
                "b_status": r.status,
                "b_error": r.error,
                "b_etag": r.etag,
                "b_last_modified": r.last_modified,
                "b_articles": r.articles,
            }
            for r in sorted(records, key=lambda r: r.source_id)
        ],
    )


class Batcher(Generic[T, R]):
    """Items submitted while a batch is running are handled together in the next one.

    ``submit`` returns the item's own result once its batch is done (or raises what
    the batch raised). A batch holds items until their ``size`` reaches ``max_size``.
    """

    def __init__(
        self,
        run_batch: Callable[[list[T]], Awaitable[list[R]]],
        max_size: int,
        size: Callable[[T], int] = lambda _: 1,
    ) -> None:
        self._run = run_batch
        self._max_size = max_size
        self._size = size
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain())
        return await future

    def _next_batch(self) -> list[tuple[T, asyncio.Future[R]]]:
        taken, size = 0, 0
        while taken < len(self._pending) and (taken == 0 or size < self._max_size):
            size += self._size(self._pending[taken][0])
            taken += 1
        batch, self._pending = self._pending[:taken], self._pending[taken:]
        return batch

    async def _drain(self) -> None:
        while self._pending:
            batch = self._next_batch()
            try:
                results = await self._run([item for item, _ in batch])
            except Exception as exc:  # noqa: BLE001 - handed to every caller of this batch
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            except BaseException:  # cancelled: so are the callers waiting on this batch
                for _, future in [*batch, *self._pending]:
                    future.cancel()
                raise
            else:
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)


class Ledger:
    """The poller's database traffic, batched across the polls running at the same time:
    seen-URL lookups share one query, poll records one transaction."""

    def __init__(self, engine: AsyncEngine, holder: str) -> None:
        self._engine = engine
        self._holder = holder
        self._records: Batcher[PollRecord, None] = Batcher(self._write, MAX_RECORDS)
        self._lookups: Batcher[list[str], set[str]] = Batcher(
            self._look_up, MAX_LOOKUP_URLS, size=len
        )

    async def record(self, record: PollRecord) -> None:
        """Commit one poll's record (with others finishing at the same time)."""
        await self._records.submit(record)

    async def known(self, urls: list[str]) -> set[str]:
        """Which of ``urls`` were published before (see ``known_urls``)."""
        return await self._lookups.submit(urls) if urls else set()

    async def _write(self, records: list[PollRecord]) -> list[None]:
        async with self._engine.begin() as connection:
            await write(connection, self._holder, records)
        return [None] * len(records)

    async def _look_up(self, requests: list[list[str]]) -> list[set[str]]:
        known = await known_urls(self._engine, {url for urls in requests for url in urls})
        return [known.intersection(urls) for urls in requests]
