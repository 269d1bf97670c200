"""One article of a poll: its page fetched and extracted, else the feed entry's own text,
published and acknowledged by the broker.

    robots.txt → per-host gate → fetch the page → extract in the process pool
        │ unusable (refused, binary, 404, no article text, over DRAWDOWN_PARSE_TIMEOUT …)
        ▼
    the feed entry's own title and text, when there is one
        ▼
    publish keyed by canonical URL, wait for the ack (a broker outage is retried)

Each candidate ends with a ``Fate`` (publish it, drop it, or try again at the next
poll) and, when its page could not be used for good, why: ``pages_note`` sums those
up for the source's row, so a poll whose pages are all unusable is not a silent
"ok" (ingest.poll decides what the poll's status is).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import partial

import httpx
from aiokafka.errors import KafkaError

from ingest import leases
from ingest.entries import Candidate
from ingest.extract import Extracted, extract
from ingest.fetch import FetchLimits, Robots, fetch
from ingest.gate import HostGate
from ingest.messages import RawArticle
from ingest.publish import publish
from services.bus import Producer
from services.errors import BusError, FetchError, InputError
from services.pool import CpuPool
from services.redact import redact
from services.settings import Settings

log = logging.getLogger(__name__)

MAX_PUBLISH_BACKOFF = 30.0
# The broker did not acknowledge: retry with backoff; the article is not marked seen.
BROKER_ERRORS = (KafkaError, BusError, OSError, TimeoutError)


class Fate(Enum):
    PUBLISHED = "published"  # acknowledged by the broker: mark seen
    DROPPED = "dropped"  # definitely nothing to publish (no article there): mark seen
    RETRY = "retry"  # a transient failure: try again at the next poll


@dataclass(frozen=True, slots=True)
class Taken:
    """What became of one candidate. ``unusable`` says why its page could not be used
    ("binary: … (url)", "extract took over 10 s (url)"); None when the page was read,
    when there was none, or when its failure was transient (retried at the next poll)."""

    fate: Fate
    unusable: str | None = None


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


def unusable_reason(url: str, exc: FetchError | InputError) -> str:
    """One line naming the failure and its page (a FetchError names its URL already)."""
    return str(exc) if isinstance(exc, FetchError) else redact(f"{exc} ({url})")


def pages_note(candidates: Sequence[Candidate], taken: Sequence[Taken]) -> str | None:
    """ "N of M article pages unusable; first: …" for the source's row; None when every
    article page of the poll was usable (or retried later)."""
    reasons = [t.unusable for t in taken if t.unusable is not None]
    if not reasons:
        return None
    pages = sum(1 for c in candidates if c.url is not None)
    return f"{len(reasons)} of {pages} article pages unusable; first: {reasons[0]}"


def none_usable(taken: Sequence[Taken]) -> bool:
    """Nothing published, and at least one candidate lost to its unusable page: the
    source offered news and none of it could be read."""
    published = any(t.fate is Fate.PUBLISHED for t in taken)
    return not published and any(t.fate is Fate.DROPPED and t.unusable for t in taken)


def raw_article(
    lease: leases.Lease, candidate: Candidate, page: Extracted | None
) -> RawArticle | None:
    """The article to publish: the page's text, else the feed entry's, else its headline;
    None when there is no text at all."""
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


class Articles:
    """Fetches, extracts and publishes candidates; shared by every poll of a process,
    with the poller's per-host gate and robots.txt cache."""

    def __init__(
        self,
        settings: Settings,
        producer: Producer,
        client: httpx.AsyncClient,
        pool: CpuPool,
        *,
        gate: HostGate,
        robots: Robots,
        limits: FetchLimits,
    ) -> None:
        self._settings = settings
        self._producer = producer
        self._client = client
        self._pool = pool
        self._gate = gate
        self._robots = robots
        self._limits = limits

    async def article(
        self,
        lease: leases.Lease,
        candidate: Candidate,
        stop: asyncio.Event,
        slots: asyncio.Semaphore,
    ) -> Taken:
        """Publish ``candidate`` from its page, or from its feed entry when the page is
        unusable; what became of it."""
        entry = candidate.entry
        unusable: str | None = None
        try:
            page: Extracted | None = None
            if candidate.url is not None:  # else an entry without a link: its own text
                dated = entry is not None and entry.published_at is not None
                page = await self.page(candidate.url, slots, dated=dated)
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
            if not (isinstance(exc, FetchError) and transient(exc)):
                unusable = unusable_reason(candidate.url or "", exc)
        article = raw_article(lease, candidate, page)
        if article is None:
            if isinstance(failure, FetchError) and transient(failure):
                return Taken(Fate.RETRY)
            return Taken(Fate.DROPPED, unusable)
        published = await self.publish(lease, article, stop)
        return Taken(Fate.PUBLISHED if published else Fate.RETRY, unusable)

    async def page(self, url: str, slots: asyncio.Semaphore, *, dated: bool = False) -> Extracted:
        """Fetch holding one of the poll's ``slots``, extract after giving it back: the next
        page downloads while the pool extracts this one (and the one before publishes).
        An extraction over DRAWDOWN_PARSE_TIMEOUT is an InputError for this page alone.
        ``dated``: the feed entry gives the date, so the page's is not searched for."""
        async with slots:
            if not await self._robots.allowed(self._client, url, limits=self._limits):
                raise FetchError(url, "robots", "robots.txt disallows Drawdown")
            async with self._gate.slot(url):
                fetched = await fetch(self._client, url, limits=self._limits, accept="page")
        return await self._pool.run(
            partial(extract, dated=dated),
            fetched.text,
            fetched.url,
            timeout=self._settings.parse_timeout,
        )

    async def publish(self, lease: leases.Lease, article: RawArticle, stop: asyncio.Event) -> bool:
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
