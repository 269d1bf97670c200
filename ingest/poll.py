"""One poll of one source, from the conditional GET to the record of what happened.

    conditional GET ──304──► reschedule
        │ 200
        ▼
    feed: parse entries │ page: robots.txt, then the listing's article links
        ▼                 (ingest.entries: the candidates)
    drop entries whose canonical URL was published before (one lookup per poll)
        ▼
    per entry (ingest.articles): fetch the page → extract in the process pool (a feed
    entry falls back to its own text) → publish keyed by canonical URL and wait for
    the broker's ack → the URL is marked seen with the source's release

Every request goes through the per-host gate. Entries in flight per poll are
bounded, and a publish waits for its ack, so a slow broker slows polling instead
of growing memory; a broker that is down is retried with capped backoff, and an
article that was not acknowledged is not marked seen. Whatever goes wrong
becomes the source's health (ingest.schedule decides when to try again): a
poll whose new articles all had unusable pages, and published none, fails as
``pages``; one that published some records the unusable ones as a note in
``last_error`` and stays ``ok``, a success for the schedule (the source works).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import httpx

from ingest import leases, schedule
from ingest.articles import Articles, Fate, none_usable, pages_note
from ingest.entries import Candidate, from_feed, from_links, newest_first
from ingest.feeds import parse_feed
from ingest.fetch import Accept, Fetched, FetchLimits, Robots, fetch
from ingest.gate import HostGate
from ingest.links import article_links
from services.bus import Producer
from services.errors import FeedError, FetchError, InputError
from services.pool import CpuPool
from services.settings import Settings

log = logging.getLogger(__name__)

R = TypeVar("R")


class Abandoned(Exception):
    """Stopping before the poll's first request: the lease is given back untouched."""


@dataclass(frozen=True, slots=True)
class Outcome:
    record: leases.PollRecord
    new: int  # articles published


@dataclass(frozen=True, slots=True)
class Tally:
    """What a poll's new candidates came to."""

    seen: tuple[str, ...] = ()  # keys to mark seen
    published: int = 0
    left: int = 0  # over DRAWDOWN_POLL_MAX_ENTRIES: for later polls
    note: str | None = None  # "N of M article pages unusable; first: …"
    failed: bool = False  # none published, some lost to their pages


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
        self._client = client
        self._pool = pool
        self._ledger = ledger
        self._policy = policy(settings)
        self._limits = fetch_limits(settings)
        self._gate = HostGate(settings.per_host_concurrency, settings.per_host_delay)
        self._robots = Robots()
        self._articles_of = Articles(
            settings,
            producer,
            client,
            pool,
            gate=self._gate,
            robots=self._robots,
            limits=self._limits,
        )
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
            return Outcome(self._succeeded(lease, fetched, None, None), 0)
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
            candidates = newest_first(from_feed(lease.id, feed))
        else:
            candidates = from_links(await self._cpu(article_links, fetched.text, fetched.url))
        tally = await self._articles(lease, candidates, stop)
        if tally.failed:
            record = self._failed(
                lease, None, "pages", f"pages: {tally.note}", fetched=fetched, seen=tally.seen
            )
        else:
            record = self._succeeded(lease, fetched, ttl, tally, bool(candidates))
        return Outcome(record, tally.published)

    def _failed(
        self,
        lease: leases.Lease,
        exc: FetchError | None,
        status: str,
        error: str,
        *,
        fetched: Fetched | None = None,
        seen: tuple[str, ...] = (),
    ) -> leases.PollRecord:
        """A failed poll; ``fetched`` when the source itself was read (its validators are
        kept) and ``seen`` the keys that are done with all the same."""
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
            etag=(fetched.etag if fetched else None) or lease.etag,
            last_modified=(fetched.last_modified if fetched else None) or lease.last_modified,
            seen=seen,
        )

    def _succeeded(
        self,
        lease: leases.Lease,
        fetched: Fetched,
        ttl: float | None,
        tally: Tally | None,
        found: bool = False,
    ) -> leases.PollRecord:
        """A successful poll; its error is the note on unusable pages, if any."""
        now = self._clock()
        hints = schedule.hints_from_headers(
            cache_control=fetched.cache_control, expires=fetched.expires, now=now, ttl=ttl
        )
        status = "not_modified" if fetched.not_modified else ("ok" if found else "empty")
        tally = tally or Tally()
        return leases.PollRecord(
            source_id=lease.id,
            polled_at=now,
            health=schedule.after_success(self._policy, lease.interval, hints, now, self._rand),
            status=status,
            error=tally.note,
            etag=fetched.etag or lease.etag,
            last_modified=fetched.last_modified or lease.last_modified,
            articles=tally.published,
            seen=tally.seen,
        )

    async def _cpu(self, function: Callable[..., R], *args: Any) -> R:
        """Run CPU-bound parsing in the runtime's pool within DRAWDOWN_PARSE_TIMEOUT
        (services.pool): an overrun is an InputError for this document alone."""
        return await self._pool.run(function, *args, timeout=self._settings.parse_timeout)

    async def _articles(
        self, lease: leases.Lease, candidates: Sequence[Candidate], stop: asyncio.Event
    ) -> Tally:
        """Publish the new candidates, at most DRAWDOWN_POLL_MAX_ENTRIES of them (the rest
        are left for later polls)."""
        fresh = [c for c in candidates if c.canonical not in self._claimed]
        known = await self._ledger.known([c.canonical for c in fresh])
        fresh = [c for c in fresh if c.canonical not in known]
        cap = self._settings.poll_max_entries
        fresh, left = fresh[:cap], len(fresh[cap:])  # the rest on later polls
        if left:
            log.info(
                "poll capped source_id=%d url=%s taken=%d left_for_later=%d",
                lease.id,
                lease.url,
                cap,
                left,
            )
        if not fresh:
            return Tally(left=left)
        self._claimed.update(c.canonical for c in fresh)
        slots = asyncio.Semaphore(self._settings.per_host_concurrency)
        try:
            taken = await asyncio.gather(
                *(self._articles_of.article(lease, c, stop, slots) for c in fresh)
            )
        finally:
            self._claimed.difference_update(c.canonical for c in fresh)
        return Tally(
            seen=tuple(
                c.canonical for c, t in zip(fresh, taken, strict=True) if t.fate is not Fate.RETRY
            ),
            published=sum(1 for t in taken if t.fate is Fate.PUBLISHED),
            left=left,
            note=pages_note(fresh, taken),
            failed=none_usable(taken),
        )
