"""One poll of one source, from the conditional GET to the record of what happened.

    conditional GET ──304──► reschedule
        │ 200
        ▼
    feed: parse entries │ page: robots.txt, then the listing's article links
        ▼
    drop entries whose canonical URL was published before (one lookup per poll)
        ▼
    per entry: fetch the page (robots.txt honoured) → extract in the process pool
    (a feed entry falls back to its own text) → publish keyed by canonical URL and
    wait for the broker's ack → the URL is marked seen with the source's release

Every request goes through the per-host gate. Entries in flight per poll are
bounded, and a publish waits for its ack, so a slow broker slows polling instead
of growing memory; a broker that is down is retried with capped backoff, and an
article that was not acknowledged is not marked seen. Whatever goes wrong
becomes the source's health (ingest.schedule decides when to try again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import partial
from typing import Any, TypeVar

import httpx
from aiokafka.errors import KafkaError

from ingest import leases, schedule
from ingest.entries import Candidate, linkless_key, newest_first
from ingest.extract import Extracted, extract
from ingest.feeds import ParsedFeed, parse_feed
from ingest.fetch import Accept, Fetched, FetchLimits, Robots, fetch
from ingest.gate import HostGate
from ingest.links import article_links
from ingest.messages import RawArticle
from ingest.publish import publish
from processor.dedup import canonical_url
from services.bus import Producer
from services.errors import BusError, FeedError, FetchError, InputError
from services.pool import CpuPool
from services.settings import Settings

log = logging.getLogger(__name__)

R = TypeVar("R")
MAX_PUBLISH_BACKOFF = 30.0
# The broker did not acknowledge: retry with backoff; the article is not marked seen.
BROKER_ERRORS = (KafkaError, BusError, OSError, TimeoutError)


class Abandoned(Exception):
    """Stopping before the poll's first request: the lease is given back untouched."""


class Fate(Enum):
    PUBLISHED = "published"  # acknowledged by the broker: mark seen
    DROPPED = "dropped"  # definitely nothing to publish (no article there): mark seen
    RETRY = "retry"  # a transient failure: try again at the next poll


@dataclass(frozen=True, slots=True)
class Outcome:
    record: leases.PollRecord
    new: int  # articles published


def policy(settings: Settings) -> schedule.Policy:
    return schedule.Policy(
        default_interval=settings.poll_interval,
        min_interval=settings.min_poll_interval,
        max_interval=settings.max_poll_interval,
        jitter=settings.poll_jitter,
        park_after=settings.park_after_failures,
        parked_interval=settings.parked_retry_interval,
    )


def fetch_limits(settings: Settings) -> FetchLimits:
    return FetchLimits(
        max_bytes=settings.fetch_max_bytes,
        connect_timeout=settings.fetch_connect_timeout,
        read_timeout=settings.fetch_read_timeout,
        total_timeout=settings.fetch_total_timeout,
        max_redirects=settings.fetch_max_redirects,
    )


def transient(exc: FetchError) -> bool:
    """Worth retrying later: timeouts, connection failures, 5xx and 429."""
    if exc.reason in ("timeout", "connect"):
        return True
    return exc.reason == "http" and (exc.status is None or exc.status >= 500 or exc.status == 429)


def _iso(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _status(exc: FetchError) -> str:
    return str(exc.status) if exc.status is not None else exc.reason


class Polling:
    """Polls sources one at a time per call; shared by every poll task of a process."""

    def __init__(
        self,
        settings: Settings,
        producer: Producer,
        client: httpx.AsyncClient,
        pool: CpuPool,
        ledger: leases.Ledger,
        *,
        rand: schedule.Random,
        clock: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self._producer = producer
        self._client = client
        self._pool = pool
        self._ledger = ledger
        self._policy = policy(settings)
        self._limits = fetch_limits(settings)
        self._gate = HostGate(settings.per_host_concurrency, settings.per_host_delay)
        self._robots = Robots()
        self._rand = rand
        self._clock = clock
        self._claimed: set[str] = set()  # canonical URLs being fetched by this process
        self._started: set[int] = set()  # sources whose poll has sent its first request

    def started(self, source_id: int) -> bool:
        """Whether the poll of ``source_id`` got past the gate (a waiting one can be dropped)."""
        return source_id in self._started

    async def poll(self, lease: leases.Lease, stop: asyncio.Event) -> Outcome:
        """Poll ``lease``'s source; failures are in the outcome. Abandoned if stopping first."""
        try:
            return await self._poll(lease, stop)
        except FetchError as exc:
            return Outcome(self._failed(lease, exc, _status(exc), str(exc)), 0)
        except (FeedError, InputError) as exc:
            return Outcome(self._failed(lease, None, "parse", f"parse: {exc}"), 0)
        except Abandoned:
            raise
        except Exception as exc:  # one policy: a poll's failure is data on its row
            log.exception("poll failed unexpectedly source_id=%d url=%s", lease.id, lease.url)
            return Outcome(self._failed(lease, None, "error", f"internal: {exc!r}"), 0)
        finally:
            self._started.discard(lease.id)

    async def _poll(self, lease: leases.Lease, stop: asyncio.Event) -> Outcome:
        accept: Accept = "feed" if lease.kind == "feed" else "page"
        if accept == "page" and not await self._robots.allowed(
            self._client, lease.url, limits=self._limits
        ):
            raise FetchError(lease.url, "robots", "robots.txt disallows Drawdown")
        async with self._gate.slot(lease.url):
            if stop.is_set():
                raise Abandoned(lease.url)
            self._started.add(lease.id)
            fetched = await fetch(
                self._client,
                lease.url,
                limits=self._limits,
                accept=accept,
                etag=lease.etag,
                last_modified=lease.last_modified,
            )
        if fetched.not_modified:
            return Outcome(self._succeeded(lease, fetched, None, []), 0)
        ttl: float | None = None
        if accept == "feed":
            feed = await self._cpu(
                partial(
                    parse_feed,
                    fetched.body,
                    url=fetched.url,
                    content_type=fetched.content_type or None,
                )
            )
            if feed.problem:
                log.warning(
                    "ill-formed feed, using what could be read source_id=%d url=%s problem=%s",
                    lease.id,
                    lease.url,
                    feed.problem,
                )
            ttl = feed.ttl
            candidates = newest_first(self._from_feed(lease.id, feed))
        else:
            candidates = self._from_links(await self._cpu(article_links, fetched.text, fetched.url))
        seen, new, left = await self._articles(lease, candidates, stop)
        return Outcome(self._succeeded(lease, fetched, ttl, seen, new, bool(candidates), left), new)

    def _failed(
        self, lease: leases.Lease, exc: FetchError | None, status: str, error: str
    ) -> leases.PollRecord:
        now = self._clock()
        health = schedule.after_failure(
            self._policy,
            lease.interval,
            lease.error_count,
            exc.retry_after if exc is not None else None,
            now,
            self._rand,
        )
        return leases.PollRecord(
            source_id=lease.id,
            polled_at=now,
            health=health,
            status=status,
            error=error,
            etag=lease.etag,
            last_modified=lease.last_modified,
        )

    def _succeeded(
        self,
        lease: leases.Lease,
        fetched: Fetched,
        ttl: float | None,
        seen: list[str],
        new: int = 0,
        found: bool = False,
        left: int = 0,
    ) -> leases.PollRecord:
        now = self._clock()
        hints = schedule.hints_from_headers(
            cache_control=fetched.cache_control, expires=fetched.expires, now=now, ttl=ttl
        )
        status = "not_modified" if fetched.not_modified else ("ok" if found else "empty")
        if left:
            log.info(
                "poll capped source_id=%d url=%s taken=%d left_for_later=%d",
                lease.id,
                lease.url,
                self._settings.poll_max_entries,
                left,
            )
        return leases.PollRecord(
            source_id=lease.id,
            polled_at=now,
            health=schedule.after_success(self._policy, lease.interval, hints, now, self._rand),
            status=status,
            error=None,
            etag=fetched.etag or lease.etag,
            last_modified=fetched.last_modified or lease.last_modified,
            articles=new,
            seen=tuple(seen),
        )

    async def _cpu(self, function: Callable[..., R], *args: Any) -> R:
        """Run CPU-bound parsing in the runtime's pool within DRAWDOWN_PARSE_TIMEOUT
        (services.pool): an overrun is an InputError for this document alone."""
        return await self._pool.run(function, *args, timeout=self._settings.parse_timeout)

    # ---- entries ----------------------------------------------------------------------

    @staticmethod
    def _from_feed(source_id: int, feed: ParsedFeed) -> list[Candidate]:
        """The feed's entries: by canonical link, and those without one (RSS 2.0 allows
        an item of title and description alone) by guid or content hash."""
        found: dict[str, Candidate] = {}
        for entry in feed.entries:
            canonical = canonical_url(entry.url) if entry.url else None
            if entry.url and canonical:
                found.setdefault(canonical, Candidate(entry.url, canonical, entry))
            elif key := linkless_key(source_id, entry):
                found.setdefault(key, Candidate(None, key, entry))
        return list(found.values())

    @staticmethod
    def _from_links(links: list[str]) -> list[Candidate]:
        found: dict[str, Candidate] = {}
        for link in links:
            canonical = canonical_url(link)
            if canonical and canonical not in found:
                found[canonical] = Candidate(link, canonical)
        return list(found.values())

    async def _articles(
        self, lease: leases.Lease, candidates: list[Candidate], stop: asyncio.Event
    ) -> tuple[list[str], int, int]:
        """Publish the new candidates, at most DRAWDOWN_POLL_MAX_ENTRIES of them: the keys
        to mark seen, how many were published, and how many were left for later polls."""
        fresh = [c for c in candidates if c.canonical not in self._claimed]
        known = await self._ledger.known([c.canonical for c in fresh])
        fresh = [c for c in fresh if c.canonical not in known]
        cap = self._settings.poll_max_entries
        fresh, left = fresh[:cap], len(fresh[cap:])  # the rest on later polls
        if not fresh:
            return [], 0, left
        self._claimed.update(c.canonical for c in fresh)
        slots = asyncio.Semaphore(self._settings.per_host_concurrency)

        try:
            fates = await asyncio.gather(*(self._article(lease, c, stop, slots) for c in fresh))
        finally:
            self._claimed.difference_update(c.canonical for c in fresh)
        seen = [c.canonical for c, fate in zip(fresh, fates, strict=True) if fate is not Fate.RETRY]
        return seen, sum(1 for fate in fates if fate is Fate.PUBLISHED), left

    async def _article(
        self,
        lease: leases.Lease,
        candidate: Candidate,
        stop: asyncio.Event,
        slots: asyncio.Semaphore,
    ) -> Fate:
        entry = candidate.entry
        try:
            page: Extracted | None = None
            if candidate.url is not None:  # else an entry without a link: its own text
                page = await self._page(candidate.url, slots)
            failure: FetchError | InputError | None = None
        except (FetchError, InputError) as exc:
            page, failure = None, exc
            log.info(
                "article page unusable source_id=%d url=%s error=%s%s",
                lease.id,
                candidate.url,
                exc,
                "; using the feed's text" if entry is not None else "",
            )
        article = self._raw_article(lease, candidate, page)
        if article is None:
            if isinstance(failure, FetchError) and transient(failure):
                return Fate.RETRY
            return Fate.DROPPED
        return Fate.PUBLISHED if await self._publish(lease, article, stop) else Fate.RETRY

    async def _page(self, url: str, slots: asyncio.Semaphore) -> Extracted:
        """Fetch holding one of the poll's ``slots``, extract after giving it back: the next
        page downloads while the pool extracts this one (and the one before publishes)."""
        async with slots:
            if not await self._robots.allowed(self._client, url, limits=self._limits):
                raise FetchError(url, "robots", "robots.txt disallows Drawdown")
            async with self._gate.slot(url):
                fetched = await fetch(self._client, url, limits=self._limits, accept="page")
        return await self._cpu(extract, fetched.text, fetched.url)

    @staticmethod
    def _raw_article(
        lease: leases.Lease, candidate: Candidate, page: Extracted | None
    ) -> RawArticle | None:
        entry = candidate.entry
        title = (page.title if page else "") or (entry.title if entry else "") or ""
        text = page.text if page else ((entry.text or "").strip() if entry else "")
        if not text:
            text = title.strip()  # a headline alone can still say who leaves where
        if not text:
            return None
        published = _iso(entry.published_at) if entry else None
        return RawArticle(
            text=text,
            title=title,
            url=candidate.url,
            published_at=published or (page.published_at if page else None),
            language=lease.language or (page.language if page else None),
            source=lease.name,
        )

    async def _publish(self, lease: leases.Lease, article: RawArticle, stop: asyncio.Event) -> bool:
        """Publish and wait for the ack, retrying a broker outage; False if stopped first."""
        delay = 0.5
        while True:
            try:
                await publish(self._producer, self._settings.topic_raw, article)
                return True
            except BROKER_ERRORS as exc:
                if stop.is_set():
                    log.warning(
                        "not published, stopping source_id=%d url=%s error=%s",
                        lease.id,
                        article.url,
                        exc,
                    )
                    return False
                log.warning(
                    "broker unavailable source_id=%d url=%s retry_in=%.1fs error=%s",
                    lease.id,
                    article.url,
                    delay,
                    exc,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, MAX_PUBLISH_BACKOFF)
