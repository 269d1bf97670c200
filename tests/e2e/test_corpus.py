"""The real-world corpus (../shared/corpus): publishers' saved pages replayed, and every
feed and page of it polled by the real daemon from one local server. Nothing stops the
pipeline, every source ends with a recorded status, and no binary becomes an article.
Skipped when ../shared/corpus is not beside this checkout; its files are read in place."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import Response

from ingest.sniff import MAX_BAD_SHARE, bad_share
from tests.conftest import SHARED, drawdown_cli, spawn_drawdown
from tests.feedkit import write_sources
from tests.servers import LocalServer, free_port, local_server

CORPUS = SHARED / "corpus"
PAGES = CORPUS / "pages"
FEEDS = CORPUS / "feeds"
SAMPLE_EVERY = 3  # a third of the pages keeps the replay fast; all kinds of encodings occur
DEADLINE = 300.0  # seconds for every source's first poll; about a minute normally

needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason="../shared/corpus is not beside this checkout"
)


@needs_corpus
def test_saved_pages_replay_without_stopping(tmp_path: Path) -> None:
    pages = sorted(PAGES.glob("*.html"))[::SAMPLE_EVERY]
    directory = tmp_path / "pages"
    directory.mkdir()
    for page in pages:
        shutil.copy(page, directory)  # a temporary copy: replay follows no link out of it
    (directory / "zz_binary.html").write_bytes(bytes(range(256)) * 64)

    result = drawdown_cli("replay", str(directory), "--json", env={}, cwd=tmp_path)
    assert result.returncode == 1, result.stderr[-3000:]  # 1: the binary file failed
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    *documents, summary = reports
    assert len(documents) == len(pages) + 1
    for report in documents:
        assert report.get("article_id") or report.get("error"), report
    assert "binary" in documents[-1]["error"]
    assert summary["summary"]["articles"] >= len(pages) * 0.9


def _serve_corpus(server: LocalServer) -> list[dict[str, object]]:
    """Every corpus feed and page at its own path of ``server``; the sources listing them."""
    sources: list[dict[str, object]] = []
    for kind, root, media_type in (
        ("feed", FEEDS, "application/xml"),
        ("page", PAGES, "text/html"),
    ):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            route = f"/{kind}/{path.relative_to(root).as_posix()}"

            async def handler(
                request: Request, path: Path = path, media: str = media_type
            ) -> Response:
                return Response(await asyncio.to_thread(path.read_bytes), media_type=media)

            server.route(route, handler)
            sources.append({"name": route, "url": server.url(route), "kind": kind})
    return sources


def _polled(database: Path) -> int:
    """Sources polled at least once (0 while the daemon has not made its tables yet)."""
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(database) as db:
            query = "SELECT count(*) FROM sources WHERE last_polled_at IS NOT NULL"
            return int(db.execute(query).fetchone()[0])
    except sqlite3.OperationalError:  # not migrated yet
        return 0


@needs_corpus
async def test_every_corpus_feed_and_page_through_the_daemon(tmp_path: Path) -> None:
    if not (FEEDS.is_dir() and PAGES.is_dir()):
        pytest.skip("../shared/corpus lacks feeds/ or pages/")
    database = tmp_path / "drawdown.db"
    log = tmp_path / "daemon.log"
    async with local_server() as server:
        sources = _serve_corpus(server)
        env = {
            "DRAWDOWN_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "DRAWDOWN_SOURCES": str(write_sources(tmp_path / "sources.yaml", sources)),
            "DRAWDOWN_HTTP_ADDR": f"127.0.0.1:{free_port()}",
            # Only the local server, by address: entries linking anywhere else are refused
            # by the guard before any lookup.
            "DRAWDOWN_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32",
            "DRAWDOWN_FETCH_SANDBOX": "true",
            # Relaxed politeness for one local server.
            "DRAWDOWN_PER_HOST_DELAY": "0",
            "DRAWDOWN_PER_HOST_CONCURRENCY": "32",
            "DRAWDOWN_POLL_CONCURRENCY": "32",
            "DRAWDOWN_POLL_INTERVAL": "3600",
            "DRAWDOWN_POLL_MAX_ENTRIES": "10",
            "DRAWDOWN_WORKER_PROCESSES": "1",
            "DRAWDOWN_SHUTDOWN_TIMEOUT": "120",
            "DRAWDOWN_LOG_FORMAT": "json",
        }
        with log.open("w") as stderr:
            daemon = spawn_drawdown("run", env=env, cwd=tmp_path, stderr=stderr)
            try:
                deadline = time.monotonic() + DEADLINE
                while (polled := await asyncio.to_thread(_polled, database)) < len(sources):
                    assert daemon.poll() is None, log.read_text()[-3000:]
                    assert time.monotonic() < deadline, f"{len(sources) - polled} never polled"
                    await asyncio.sleep(1)
            finally:
                daemon.send_signal(signal.SIGTERM)
                code = await asyncio.to_thread(_wait, daemon)
    logged = log.read_text()
    assert code == 0, logged[-3000:]
    assert "Traceback" not in logged
    assert "unexpectedly" not in logged
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT url, last_status, last_error FROM sources").fetchall()
        found = db.execute("SELECT sum(articles_found) FROM sources").fetchone()[0]
        texts = [row[0] for row in db.execute("SELECT text FROM articles")]
        dead = db.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
    assert len(rows) == len(sources)
    assert all(status for _, status, _ in rows), "every source ends with a recorded status"
    assert not [url for url, _, error in rows if (error or "").startswith("internal")]
    statuses = {status for _, status, _ in rows}
    assert {"ok", "empty", "parse"} <= statuses
    fine = sum(1 for _, status, _ in rows if status in ("ok", "empty"))
    assert fine >= len(rows) * 0.8, sorted(statuses)
    assert found > 300  # entries published, most from the feeds' own text (links refused)
    assert texts  # stored: the corpus repeats its few sample texts, so most are duplicates
    binary = [t[:80] for t in texts if "\x00" in t or bad_share(t) > MAX_BAD_SHARE]
    assert binary == []
    assert dead == 0


def _wait(process: subprocess.Popen[bytes]) -> int:
    try:
        return process.wait(timeout=180)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
