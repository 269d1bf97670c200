"""The poller against real local feeds and pages, PostgreSQL and a Kafka-API broker."""

from __future__ import annotations

import asyncio
import gzip
import html
import ipaddress
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from ingest.fetch import make_client
from ingest.messages import RawArticle
from ingest.poll import fetch_limits
from ingest.poller import Poller
from ingest.sources import load_sources
from processor.worker import Worker
from services.bus import Bus, Headers, Producer
from services.db import create_engine
from services.errors import BusError
from services.models import Article, Event, Mention, SeenUrl, Source
from services.pool import CpuPool
from services.runtime import make_bus
from services.settings import Settings
from tests.apikit import api_client
from tests.feedkit import Item, article_html, rss, seed, write_sources
from tests.servers import LocalServer, local_server

RSS = "application/rss+xml"
HTML = "text/html; charset=utf-8"


@pytest.fixture
def settings(kafka_settings: Settings) -> Settings:
    return kafka_settings.model_copy(
        update={
            "min_poll_interval": 1.0,
            "poll_interval": 60.0,
            "max_poll_interval": 3600.0,
            "poll_jitter": 0.0,
            "per_host_delay": 0.0,
            "per_host_concurrency": 4,
            "fetch_connect_timeout": 2.0,
            "fetch_read_timeout": 1.0,
            "fetch_total_timeout": 1.0,
            "fetch_allowed_networks": [ipaddress.ip_network("127.0.0.1/32")],
        }
    )


class Recorder:
    """The real producer, keeping what it was asked to send and could send."""

    def __init__(self, inner: Producer, failures: int = 0) -> None:
        self._inner = inner
        self.failures = failures
        self.attempts = 0
        self.sent: list[RawArticle] = []

    async def send(
        self,
        topic: str,
        value: bytes,
        *,
        key: bytes | None = None,
        headers: Headers = (),
        partition: int | None = None,
    ) -> None:
        self.attempts += 1
        if self.failures > 0:  # the broker is down for the next `failures` sends
            self.failures -= 1
            raise BusError("broker unavailable (injected)")
        await self._inner.send(topic, value, key=key, headers=headers, partition=partition)
        self.sent.append(RawArticle.decode(value))


@dataclass
class Harness:
    settings: Settings
    engine: AsyncEngine
    bus: Bus
    poller: Poller
    producer: Recorder
    server: LocalServer
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def source(self) -> Source:
        async with self.engine.connect() as connection:
            row = (await connection.execute(select(Source))).one()
        return Source(**row._asdict())

    async def make_due(self) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(update(Source).values(next_poll_at=datetime.now(UTC)))

    async def seen(self) -> set[str]:
        async with self.engine.connect() as connection:
            return set((await connection.execute(select(SeenUrl.url))).scalars())


@asynccontextmanager
async def harness(
    settings: Settings,
    tmp_path: Path,
    kind: str = "feed",
    failures: int = 0,
    pool: CpuPool | None = None,
    others: tuple[tuple[str, str, str], ...] = (),  # (name, path, kind) of more sources
) -> AsyncIterator[Harness]:
    engine = create_engine(settings)
    bus = make_bus(settings)
    await bus.ensure_topics([settings.topic_raw, settings.topic_dlq, settings.topic_alerts])
    try:
        async with (
            local_server() as server,
            make_client(fetch_limits(settings), settings.fetch_allowed_networks) as client,
            bus.producer() as real,
        ):
            path = write_sources(
                tmp_path / "sources.yaml",
                [
                    {"name": name, "url": server.url(path), "kind": kind, "interval": 60.0}
                    for name, path, kind in (("Local", "/feed", kind), *others)
                ],
            )
            await load_sources(engine, path)
            producer = Recorder(real, failures)
            poller = Poller(
                settings, engine, producer, client, pool or CpuPool(0), rand=lambda: 0.5
            )
            yield Harness(settings, engine, bus, poller, producer, server)
    finally:
        await engine.dispose()


def serve(server: LocalServer, path: str, body: str, content_type: str = HTML) -> None:
    async def handler(request: Request) -> Response:
        return Response(body, media_type=content_type)

    server.route(path, handler)


async def consume(h: Harness, count: int) -> None:
    """Run a processor worker until it has stored ``count`` messages."""
    worker = Worker(h.settings, h.bus, h.engine, CpuPool(0))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(200):
        if worker.processed >= count or task.done():
            break
        await asyncio.sleep(0.1)
    stop.set()
    await task
    assert worker.processed >= count


async def stored(engine: AsyncEngine) -> dict[str, tuple[set[str], set[tuple[str, str]]]]:
    """url → (places, {(place, kind)}) of stored articles."""
    async with engine.connect() as connection:
        articles = (await connection.execute(select(Article.id, Article.canonical_url))).all()
        found = {}
        for article_id, url in articles:
            places = set(
                (
                    await connection.execute(
                        select(Mention.place).where(Mention.article_id == article_id)
                    )
                ).scalars()
            )
            events = {
                (row.place, row.kind)
                for row in await connection.execute(
                    select(Event.place, Event.kind).where(Event.article_id == article_id)
                )
            }
            found[url] = (places, events)
    return found


async def test_feed_entries_are_published_and_stored_with_their_tags(
    settings: Settings, tmp_path: Path
) -> None:
    async with harness(settings, tmp_path) as h:
        seeds = {"/a/ru": seed("000"), "/a/ar": seed("003"), "/a/uk": seed("004")}
        items = [Item(title, h.server.url(path), "short") for path, (title, _) in seeds.items()]
        serve(h.server, "/feed", rss(items), RSS)
        for path, (title, body) in seeds.items():
            serve(h.server, path, article_html(title, body))

        (result,) = await h.poller.run_once()
        assert (result.status, result.new, result.error) == ("ok", 3, None)
        assert sorted(a.url or "" for a in h.producer.sent) == sorted(i.link for i in items)
        assert {a.source for a in h.producer.sent} == {"Local"}
        assert all(len(a.text) > 1000 for a in h.producer.sent)  # the pages, not the feed's text
        await consume(h, 3)
        articles = await stored(h.engine)
        source = await h.source()
        assert await h.seen() == set(articles)

    assert len(articles) == 3
    ru_places, ru_events = articles[h.server.url("/a/ru")]
    assert {"qasrak", "al-shaddadi", "al-tanf"} <= ru_places
    assert ("qasrak", "withdrawal") in ru_events
    ar_places, ar_events = articles[h.server.url("/a/ar")]
    assert {"hemo", "sarrin"} <= ar_places
    assert ("sarrin", "withdrawal") in ar_events
    assert articles[h.server.url("/a/uk")][1]
    assert (source.articles_found, source.error_count, source.last_status) == (3, 0, "ok")
    assert source.leased_by is None
    assert 59 <= (source.next_poll_at - source.last_polled_at).total_seconds() <= 61


async def test_a_second_poll_with_an_etag_is_not_modified_and_republishes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    async with harness(settings, tmp_path) as h:
        title, body = seed("000")
        feed = rss([Item(title, h.server.url("/a/1"), "short")])

        async def conditional(request: Request) -> Response:
            if request.headers.get("if-none-match") == '"v1"':
                return Response(status_code=304, headers={"ETag": '"v1"'})
            return Response(feed, media_type=RSS, headers={"ETag": '"v1"'})

        h.server.route("/feed", conditional)
        serve(h.server, "/a/1", article_html(title, body))
        (first,) = await h.poller.run_once()
        assert (first.status, first.new) == ("ok", 1)
        assert (await h.source()).etag == '"v1"'

        await h.make_due()
        (second,) = await h.poller.run_once()
        source = await h.source()
    assert (second.status, second.new, second.error) == ("not_modified", 0, None)
    assert len(h.producer.sent) == 1
    assert h.server.hits("/a/1") == 1
    assert [r.headers.get("if-none-match") for r in h.server.requests if r.url.path == "/feed"] == [
        None,
        '"v1"',
    ]
    assert (source.last_status, source.etag, source.articles_found) == ("not_modified", '"v1"', 1)


async def test_seen_entries_are_not_fetched_again_even_without_an_etag(
    settings: Settings, tmp_path: Path
) -> None:
    async with harness(settings, tmp_path) as h:
        title, body = seed("003")
        serve(h.server, "/feed", rss([Item(title, h.server.url("/a/1"), "short")]), RSS)
        serve(h.server, "/a/1", article_html(title, body))
        await h.poller.run_once()
        await h.make_due()
        (again,) = await h.poller.run_once()
    assert (again.status, again.new) == ("ok", 0)
    assert h.server.hits("/feed") == 2
    assert h.server.hits("/a/1") == 1
    assert len(h.producer.sent) == 1


async def test_an_entry_whose_page_fails_falls_back_to_the_feed_text(
    settings: Settings, tmp_path: Path
) -> None:
    async with harness(settings, tmp_path) as h:
        title, body = seed("000")
        good_title, good_body = seed("004")
        items = [
            Item(title, h.server.url("/a/broken"), body),
            Item(good_title, h.server.url("/a/good"), "short summary"),
        ]
        serve(h.server, "/feed", rss(items), RSS)
        serve(h.server, "/a/good", article_html(good_title, good_body))

        async def broken(request: Request) -> Response:
            return PlainTextResponse("boom", status_code=500)

        h.server.route("/a/broken", broken)
        (result,) = await h.poller.run_once()
        await consume(h, 2)
        articles = await stored(h.engine)
    assert (result.new, result.error) == (2, None)
    by_url = {a.url: a for a in h.producer.sent}
    fallback = by_url[h.server.url("/a/broken")]
    assert fallback.title == title
    assert "Касрак" in fallback.text
    assert fallback.published_at == "2026-02-23T09:00:00+00:00"
    assert ("qasrak", "withdrawal") in articles[h.server.url("/a/broken")][1]


async def test_429_with_retry_after_is_honoured_and_recorded(
    settings: Settings, tmp_path: Path
) -> None:
    async with harness(settings, tmp_path) as h:

        async def busy(request: Request) -> Response:
            return PlainTextResponse("slow down", status_code=429, headers={"Retry-After": "7200"})

        h.server.route("/feed", busy)
        (result,) = await h.poller.run_once()
        source = await h.source()
    assert result.status == "429"
    assert source.last_status == "429"
    assert source.error_count == 1
    assert source.last_error is not None
    assert source.last_error.startswith("http: HTTP 429")
    assert source.last_polled_at is not None
    # Beyond the maximum interval (3600 s): the server asked for two hours.
    assert 7199 <= (source.next_poll_at - source.last_polled_at).total_seconds() <= 7201


async def test_server_errors_and_timeouts_back_off_and_success_resets(
    settings: Settings, tmp_path: Path
) -> None:
    async with harness(settings, tmp_path) as h:
        mode = {"now": "error"}
        title, body = seed("000")

        async def flaky(request: Request) -> Response:
            if mode["now"] == "error":
                return PlainTextResponse("down", status_code=500)
            if mode["now"] == "slow":
                await asyncio.sleep(3)
            return Response(rss([Item(title, h.server.url("/a/1"), body)]), media_type=RSS)

        h.server.route("/feed", flaky)
        serve(h.server, "/a/1", article_html(title, body))
        delays = []
        for now in ("error", "error", "slow"):
            mode["now"] = now
            await h.make_due()
            await h.poller.run_once()
            source = await h.source()
            assert source.last_polled_at is not None
            delays.append(round((source.next_poll_at - source.last_polled_at).total_seconds()))
            errors = (source.error_count, source.last_status, source.last_error)
        assert delays == [60, 120, 240]
        assert errors[:2] == (3, "timeout")
        assert errors[2] is not None
        assert errors[2].startswith("timeout:")

        mode["now"] = "ok"
        await h.make_due()
        (result,) = await h.poller.run_once()
        source = await h.source()
    assert (result.status, result.new) == ("ok", 1)
    assert (source.error_count, source.last_error, source.parked_until) == (0, None, None)


async def test_an_ill_formed_feed_still_yields_its_entries(
    settings: Settings, tmp_path: Path
) -> None:
    async with harness(settings, tmp_path) as h:
        title, body = seed("000")
        broken = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Broken & co</title>'
            f"<item><title>{title}</title><link>{h.server.url('/a/1')}</link>"
            "<description>Qasrak & Rmelan <b>unclosed</description></item>"
            f"<item><title>Second</title><link>{h.server.url('/a/2')}</link>"
            "<description>text</description></item>"
        )  # unescaped ampersands, an unclosed tag, no closing channel and rss
        serve(h.server, "/feed", broken, RSS)
        serve(h.server, "/a/1", article_html(title, body))
        serve(h.server, "/a/2", article_html(*seed("004")))
        (result,) = await h.poller.run_once()
    assert (result.status, result.error) == ("ok", None)
    assert result.new == 2
    assert {a.url for a in h.producer.sent} == {h.server.url("/a/1"), h.server.url("/a/2")}


async def test_a_page_source_follows_article_links_and_honours_robots_txt(
    settings: Settings, tmp_path: Path
) -> None:
    async with harness(settings, tmp_path, kind="page") as h:
        listing = (
            "<html><body><nav><a href='/about'>About</a></nav>"
            "<a href='/news/2026/02/23/us-forces-leave-qasrak'>Qasrak</a>"
            "<a href='/news/2026/02/24/convoy-reaches-sarrin'>Sarrin</a>"
            "<a href='/private/2026/02/24/hidden-story'>Hidden</a>"
            "</body></html>"
        )
        serve(h.server, "/feed", listing)
        serve(h.server, "/robots.txt", "User-agent: *\nDisallow: /private/\n", "text/plain")
        serve(h.server, "/news/2026/02/23/us-forces-leave-qasrak", article_html(*seed("000")))
        serve(h.server, "/news/2026/02/24/convoy-reaches-sarrin", article_html(*seed("003")))
        serve(h.server, "/private/2026/02/24/hidden-story", article_html(*seed("004")))
        (result,) = await h.poller.run_once()
    assert (result.status, result.new) == ("ok", 2)
    assert result.error == (  # the page robots.txt keeps out is noted, not fetched
        "1 of 3 article pages unusable; first: robots: robots.txt disallows Drawdown "
        f"({h.server.url('/private/2026/02/24/hidden-story')})"
    )
    assert h.server.hits("/private/2026/02/24/hidden-story") == 0
    assert {a.url for a in h.producer.sent} == {
        h.server.url("/news/2026/02/23/us-forces-leave-qasrak"),
        h.server.url("/news/2026/02/24/convoy-reaches-sarrin"),
    }


async def test_a_page_source_disallowed_by_robots_txt_is_an_error(
    settings: Settings, tmp_path: Path
) -> None:
    async with harness(settings, tmp_path, kind="page") as h:
        serve(h.server, "/robots.txt", "User-agent: Drawdown\nDisallow: /\n", "text/plain")
        serve(h.server, "/feed", "<html></html>")
        (result,) = await h.poller.run_once()
        source = await h.source()
    assert result.error is not None
    assert result.error.startswith("robots:")
    assert h.server.hits("/feed") == 0
    assert (source.last_status, source.error_count) == ("robots", 1)


async def test_a_broker_outage_is_retried_and_only_acknowledged_urls_are_seen(
    settings: Settings, tmp_path: Path
) -> None:
    async with harness(settings, tmp_path, failures=2) as h:
        title, body = seed("000")
        serve(h.server, "/feed", rss([Item(title, h.server.url("/a/1"), "short")]), RSS)
        serve(h.server, "/a/1", article_html(title, body))
        (result,) = await h.poller.run_once()
        seen = await h.seen()
    assert result.new == 1
    assert h.producer.attempts == 3  # two refusals, then the ack
    assert seen == {h.server.url("/a/1")}


async def test_stopping_during_a_broker_outage_leaves_the_article_unseen(
    settings: Settings, tmp_path: Path
) -> None:
    async with harness(settings, tmp_path, failures=1000) as h:
        title, body = seed("000")
        serve(h.server, "/feed", rss([Item(title, h.server.url("/a/1"), "short")]), RSS)
        serve(h.server, "/a/1", article_html(title, body))
        stop = asyncio.Event()
        running = asyncio.create_task(h.poller.run(stop))
        for _ in range(200):
            if h.producer.attempts >= 2:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(running, 10)
        seen = await h.seen()
        source = await h.source()
    assert h.producer.sent == []
    assert seen == set()
    assert source.leased_by is None
    assert source.articles_found == 0


async def test_a_document_that_is_no_feed_is_a_parse_error(
    settings: Settings, tmp_path: Path
) -> None:
    async with harness(settings, tmp_path) as h:
        serve(h.server, "/feed", "<html><body><p>We moved our feed.</p></body></html>")
        (result,) = await h.poller.run_once()
        source = await h.source()
    assert result.error is not None
    assert result.error.startswith("parse: ")
    assert (source.last_status, source.error_count) == ("parse", 1)


async def test_a_source_failing_again_and_again_is_parked_until_it_recovers(
    settings: Settings, tmp_path: Path
) -> None:
    parking = settings.model_copy(
        update={"park_after_failures": 2, "parked_retry_interval": 86400.0}
    )
    async with harness(parking, tmp_path) as h:
        healthy = {"now": False}

        async def gone(request: Request) -> Response:
            if healthy["now"]:
                return Response(rss([]), media_type=RSS)
            return PlainTextResponse("no such feed", status_code=404)

        h.server.route("/feed", gone)
        await h.poller.run_once()
        assert (await h.source()).parked_until is None
        await h.make_due()
        await h.poller.run_once()
        parked = await h.source()
        healthy["now"] = True
        await h.make_due()
        await h.poller.run_once()
        recovered = await h.source()
    assert parked.last_polled_at is not None
    assert parked.error_count == 2
    assert parked.parked_until == parked.next_poll_at
    assert round((parked.next_poll_at - parked.last_polled_at).total_seconds()) == 86400
    assert (recovered.error_count, recovered.parked_until, recovered.last_error) == (0, None, None)


# ---------------------------------------------------------------- hostile and broken sources


async def test_entries_without_links_become_articles_from_the_feeds_own_text(
    settings: Settings, tmp_path: Path
) -> None:
    title, body = seed("000")
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        f"<item><title>{title}</title><description>{html.escape(body)}</description>"
        '<guid isPermaLink="false">wire-1</guid></item>'
        "<item><title>Second</title><description>Колонна ушла с базы Касрак.</description>"
        "</item></channel></rss>"
    )
    async with harness(settings, tmp_path) as h:
        serve(h.server, "/feed", feed, RSS)
        (first,) = await h.poller.run_once()
        await h.make_due()
        (again,) = await h.poller.run_once()
        seen = await h.seen()
    assert (first.status, first.new, first.error) == ("ok", 2, None)
    assert (again.status, again.new) == ("ok", 0)  # keyed by guid and content hash
    assert {a.url for a in h.producer.sent} == {None}
    assert {a.title for a in h.producer.sent} == {title, "Second"}
    assert any(key.endswith(":guid:wire-1") for key in seen)
    assert any(":sha256:" in key for key in seen)


async def test_a_poll_takes_at_most_the_cap_newest_first_and_the_rest_later(
    settings: Settings, tmp_path: Path
) -> None:
    capped = settings.model_copy(update={"poll_max_entries": 2})
    days = [datetime(2026, 2, day, tzinfo=UTC) for day in (3, 1, 5, 2, 4)]
    async with harness(capped, tmp_path) as h:
        items = [
            Item(f"Day {d.day}", h.server.url(f"/a/{d.day}"), f"Qasrak news of day {d.day}", d)
            for d in days
        ]
        serve(h.server, "/feed", rss(items), RSS)
        polls = []
        for _ in range(4):
            (result,) = await h.poller.run_once()
            polls.append((sorted(a.title for a in h.producer.sent), result.new))
            h.producer.sent.clear()
            await h.make_due()
    assert polls == [
        (["Day 4", "Day 5"], 2),
        (["Day 2", "Day 3"], 2),
        (["Day 1"], 1),
        ([], 0),
    ]


async def test_an_entry_linking_to_an_internal_address_is_never_fetched(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The guard decides before connecting: only 127.0.0.1 is ever contacted."""
    caplog.set_level(logging.INFO, logger="ingest.articles")
    links = [
        "http://169.254.169.254/latest/meta-data/iam/credentials",
        "http://10.0.0.1/admin",
        "http://[::ffff:127.0.0.1]/x",
    ]
    async with harness(settings, tmp_path) as h:
        items = [Item(f"Entry {i}", link, "") for i, link in enumerate(links)]
        serve(h.server, "/feed", rss(items), RSS)
        (result,) = await h.poller.run_once()
    # the feed's own headlines were published: ok, with the refused pages noted
    assert (result.status, result.new) == ("ok", 3)
    assert (result.error or "").startswith("3 of 3 article pages unusable; first: blocked:")
    blocked = [
        r.getMessage()
        for r in caplog.records
        if r.name == "ingest.articles" and "blocked address" in r.getMessage()
    ]
    assert len(blocked) == 3
    assert all("Entry" in a.title for a in h.producer.sent)  # the feed's own headline only
    assert not any("AccessKeyId" in a.text for a in h.producer.sent)


async def test_a_feed_redirecting_to_the_metadata_service_is_a_recorded_refusal(
    settings: Settings, tmp_path: Path
) -> None:
    async with harness(settings, tmp_path) as h:

        async def moved(request: Request) -> Response:
            return RedirectResponse("http://169.254.169.254/latest/meta-data/", 302)

        h.server.route("/feed", moved)
        await h.poller.run_once()
        source = await h.source()
    assert source.last_status == "blocked"
    assert source.last_error is not None
    assert "redirected to http://169.254.169.254/latest/meta-data/" in source.last_error
    assert "cloud metadata" in source.last_error
    assert h.producer.sent == []


async def test_binary_served_as_html_is_a_recorded_error_not_an_article(
    settings: Settings, tmp_path: Path
) -> None:
    async with harness(settings, tmp_path, kind="page") as h:
        payload = gzip.compress(b"<html><body>" + b"Qasrak " * 5000 + b"</body></html>")
        h.server.route("/feed", lambda request: _bytes(payload, "text/html"))
        await h.poller.run_once()
        source = await h.source()
    assert (source.last_status, source.error_count) == ("binary", 1)
    assert "binary content (gzip), served as text/html" in (source.last_error or "")
    assert h.producer.sent == []


async def test_an_empty_feed_ends_with_status_empty(settings: Settings, tmp_path: Path) -> None:
    async with harness(settings, tmp_path) as h:
        serve(h.server, "/feed", rss([]), RSS)
        (result,) = await h.poller.run_once()
        source = await h.source()
    assert (result.status, source.last_status, source.error_count) == ("empty", "empty", 0)


async def test_a_feed_that_takes_too_long_to_parse_delays_only_itself(
    settings: Settings, tmp_path: Path
) -> None:
    limited = settings.model_copy(update={"parse_timeout": 0.5})
    nested = 120_000  # 3.5 MB, some six seconds of parsing: a dozen times the limit
    hostile = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        + "<item><title>x</title>" * nested
        + "</item>" * nested
        + "</channel></rss>"
    )
    with CpuPool(1) as pool:
        async with harness(limited, tmp_path, pool=pool) as h:
            serve(h.server, "/feed", hostile, RSS)
            await h.poller.run_once()
            source = await h.source()
            title, body = seed("000")
            serve(h.server, "/feed", rss([Item(title, h.server.url("/a/1"), "x")]), RSS)
            serve(h.server, "/a/1", article_html(title, body))
            await h.make_due()
            (healthy,) = await h.poller.run_once()  # the one worker is free again
    assert source.last_status == "parse"
    assert "took over 0.5 s" in (source.last_error or "")
    assert (healthy.status, healthy.new) == ("ok", 1)


def stuck_in_lxml(attributes: int) -> str:
    """A page whose parse stays in libxml2 (C) for minutes: it checks each attribute of an
    element against all those before it, so the signal-based soft limit never runs."""
    tag = " ".join(f'a{i}="v"' for i in range(attributes))
    return f"<html><head><title>t</title></head><body><p {tag}>x</p></body></html>"


async def test_a_page_stuck_in_c_code_costs_one_worker_once_and_its_source_alone(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    limited = settings.model_copy(update={"parse_timeout": 0.5})
    caplog.set_level(logging.INFO, logger="ingest.articles")
    with CpuPool(1) as pool:
        others = (("Healthy", "/healthy", "feed"),)
        async with harness(limited, tmp_path, "page", pool=pool, others=others) as h:
            serve(
                h.server,
                "/feed",
                '<html><body><a href="/news/2026/02/23/stuck-story">Stuck</a></body></html>',
            )
            serve(h.server, "/news/2026/02/23/stuck-story", stuck_in_lxml(300_000))  # 2.9 MB
            title, body = seed("000")
            serve(h.server, "/healthy", rss([Item(title, h.server.url("/a/1"), "x")]), RSS)
            serve(h.server, "/a/1", article_html(title, body))
            results = {r.source: r for r in await h.poller.run_once()}
            async with h.engine.connect() as connection:
                local = select(Source.error_count).where(Source.name == "Local")
                error_count = (await connection.execute(local)).scalar_one()
            # the one worker was killed and replaced: the next poll finds it ready
            await h.make_due()
            again = {r.source: r for r in await h.poller.run_once()}
    assert (results["Healthy"].status, results["Healthy"].new) == ("ok", 1)
    # the listing was read; its one article was not, and the source says so
    assert (results["Local"].status, results["Local"].new, error_count) == ("pages", 0, 1)
    assert results["Local"].error == (
        "pages: 1 of 1 article pages unusable; first: extract took over 0.5 s "
        f"({h.server.url('/news/2026/02/23/stuck-story')})"
    )
    assert any(
        "stuck-story" in r.getMessage() and "extract took over 0.5 s" in r.getMessage()
        for r in caplog.records
    )
    assert again["Healthy"].status == "not_modified" or again["Healthy"].error is None


async def _bytes(body: bytes, media_type: str) -> Response:
    return Response(body, media_type=media_type)


async def test_a_huge_feed_finishes_its_poll_and_makes_progress(
    settings: Settings, tmp_path: Path
) -> None:
    capped = settings.model_copy(update={"poll_max_entries": 50, "fetch_total_timeout": 30.0})
    async with harness(capped, tmp_path) as h:
        items = [Item(f"Entry {i}", h.server.url(f"/a/{i}"), f"Text {i}") for i in range(10_000)]
        serve(h.server, "/feed", rss(items), RSS)
        (first,) = await h.poller.run_once()
        await h.make_due()
        (second,) = await h.poller.run_once()
        source = await h.source()
    assert (first.status, first.new, second.new) == ("ok", 50, 50)
    assert source.articles_found == 100
    assert len(h.producer.sent) == 100


async def test_a_feed_past_the_size_cap_is_a_recorded_error(
    settings: Settings, tmp_path: Path
) -> None:
    small = settings.model_copy(update={"fetch_max_bytes": 100_000})
    async with harness(small, tmp_path) as h:
        items = [Item(f"Entry {i}", h.server.url(f"/a/{i}"), "") for i in range(5_000)]
        serve(h.server, "/feed", rss(items), RSS)
        await h.poller.run_once()
        source = await h.source()
    assert source.last_status == "too_large"
    assert "100000 bytes" in (source.last_error or "")


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)


async def test_a_listing_whose_every_article_page_is_binary_fails_as_pages(
    settings: Settings, tmp_path: Path
) -> None:
    paths = [f"/news/2026/02/2{i}/story-{i}" for i in range(3)]
    async with harness(settings, tmp_path, kind="page") as h:
        links = "".join(f"<a href='{path}'>Story</a>" for path in paths)
        serve(h.server, "/feed", f"<html><body>{links}</body></html>")
        for path in paths:
            h.server.route(path, lambda request: _bytes(PNG, "text/html"))
        (result,) = await h.poller.run_once()
        source = await h.source()
        seen = await h.seen()
        # nothing new on the next poll: a success again, and the note is gone
        await h.make_due()
        (again,) = await h.poller.run_once()
        recovered = await h.source()
    expected = (
        "pages: 3 of 3 article pages unusable; first: binary: binary content (PNG), "
        f"served as text/html ({h.server.url(paths[0])})"
    )
    assert (result.status, result.new, result.error) == ("pages", 0, expected)
    assert (source.last_status, source.error_count, source.last_error) == ("pages", 1, expected)
    assert seen == {h.server.url(path) for path in paths}  # not fetched again
    assert h.producer.sent == []
    assert (again.status, again.error) == ("ok", None)
    assert (recovered.error_count, recovered.last_error) == (0, None)
    assert all(h.server.hits(path) == 1 for path in paths)


async def test_a_feed_with_one_binary_page_publishes_the_other_and_notes_it(
    settings: Settings, tmp_path: Path
) -> None:
    async with harness(settings, tmp_path) as h:
        title, body = seed("000")
        items = [
            Item(title, h.server.url("/a/good"), "short"),
            Item("", h.server.url("/a/binary"), ""),  # no text of its own to fall back on
        ]
        serve(h.server, "/feed", rss(items), RSS)
        serve(h.server, "/a/good", article_html(title, body))
        h.server.route("/a/binary", lambda request: _bytes(PNG, "text/html"))
        (result,) = await h.poller.run_once()
        source = await h.source()
        async with api_client(settings.database_url) as (api, _):
            (listed,) = (await api.get("/sources")).json()
    note = (
        "1 of 2 article pages unusable; first: binary: binary content (PNG), "
        f"served as text/html ({h.server.url('/a/binary')})"
    )
    assert (result.status, result.new, result.error) == ("ok", 1, note)
    assert (source.last_status, source.error_count, source.last_error) == ("ok", 0, note)
    assert (listed["health"], listed["last_status"], listed["last_error"]) == ("ok", "ok", note)
    assert source.articles_found == 1
    assert [a.url for a in h.producer.sent] == [h.server.url("/a/good")]
    assert 59 <= (source.next_poll_at - source.last_polled_at).total_seconds() <= 61  # no backoff
