"""`drawdown run` on PostgreSQL and Kafka picks up a new feed entry and stores it with its tags;
`drawdown sources --json` then shows the source's health."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from services.db import create_engine
from services.models import Article, Event, Mention
from services.settings import Settings
from tests.conftest import ROOT, drawdown_cli
from tests.feedkit import Item, article_html, rss, seed, write_sources
from tests.servers import free_port, local_server


async def _tags(settings: Settings, url: str) -> tuple[set[str], set[tuple[str, str]]] | None:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            article_id = await connection.scalar(
                select(Article.id).where(Article.canonical_url == url)
            )
            if article_id is None:
                return None
            places = await connection.execute(
                select(Mention.place).where(Mention.article_id == article_id)
            )
            events = await connection.execute(
                select(Event.place, Event.kind).where(Event.article_id == article_id)
            )
            return set(places.scalars()), {(row.place, row.kind) for row in events}
    finally:
        await engine.dispose()


async def test_the_daemon_ingests_a_new_entry_into_postgres(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    old_title, old_body = seed("004")
    new_title, new_body = seed("000")
    async with local_server() as server:
        items = [Item(old_title, server.url("/a/old"), "short")]

        async def feed(request: Request) -> Response:
            return Response(rss(items), media_type="application/rss+xml")

        async def page(request: Request) -> Response:
            if request.url.path == "/a/old":
                return Response(article_html(old_title, old_body), media_type="text/html")
            return Response(article_html(new_title, new_body), media_type="text/html")

        server.route("/feed", feed)
        server.route("/a/old", page)
        server.route("/a/new", page)
        sources = write_sources(
            tmp_path / "sources.yaml",
            [{"name": "Local news", "url": server.url("/feed"), "language": "ru", "interval": 1.0}],
        )
        env = {
            "DRAWDOWN_DATABASE_URL": kafka_settings.database_url,
            "DRAWDOWN_KAFKA_BOOTSTRAP": kafka_settings.kafka_bootstrap or "",
            "DRAWDOWN_TOPIC_PREFIX": kafka_settings.topic_prefix,
            "DRAWDOWN_CONSUMER_GROUP": kafka_settings.consumer_group,
            "DRAWDOWN_KAFKA_SESSION_TIMEOUT": str(kafka_settings.kafka_session_timeout),
            "DRAWDOWN_SOURCES": str(sources),
            "DRAWDOWN_HTTP_ADDR": f"127.0.0.1:{free_port()}",
            "DRAWDOWN_MIN_POLL_INTERVAL": "0.5",
            "DRAWDOWN_PER_HOST_DELAY": "0",
            "DRAWDOWN_WORKER_PROCESSES": "1",
            "DRAWDOWN_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32",  # the local feed server
        }
        clean = {k: v for k, v in os.environ.items() if not k.startswith("DRAWDOWN_")}
        daemon = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.cli",
            "run",
            env={**clean, "PYTHONPATH": str(ROOT), **env},
            cwd=tmp_path,
            stderr=asyncio.subprocess.PIPE,
        )
        assert daemon.stderr is not None
        log = asyncio.create_task(daemon.stderr.read())
        try:
            deadline = time.monotonic() + 90  # generous: a loaded machine is slow, not wrong
            for _ in range(600):
                if server.hits("/a/old") or daemon.returncode is not None:
                    break
                await asyncio.sleep(0.1)
            assert server.hits("/a/old") == 1
            items.insert(0, Item(new_title, server.url("/a/new"), "short"))  # news breaks

            tags = None
            while tags is None and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                tags = await _tags(kafka_settings, server.url("/a/new"))
        finally:
            if daemon.returncode is None:
                daemon.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(daemon.wait(), 30)
        stderr = (await log).decode()
        feed_polls = server.hits("/feed")

    assert code == 0, stderr[-3000:]
    assert "daemon stopped" in stderr
    assert tags is not None, f"the new entry never reached PostgreSQL:\n{stderr[-3000:]}"
    places, events = tags
    assert {"qasrak", "al-shaddadi", "al-tanf"} <= places
    assert ("qasrak", "withdrawal") in events
    assert feed_polls >= 2
    assert server.hits("/a/old") == 1  # seen once, never fetched again
    assert server.hits("/a/new") == 1

    result = drawdown_cli("sources", "--json", env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    (source,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert source["name"] == "Local news"
    assert (source["last_status"], source["error_count"], source["articles_found"]) == ("ok", 0, 2)
    assert source["alerted_articles"] >= 1  # the Qasrak story alerted
    assert source["fetch_to_alert_p50_s"] is not None
    assert source["fetch_to_alert_p50_s"] >= 0
