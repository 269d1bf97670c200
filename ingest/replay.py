"""Replay a directory of documents through the bus and the processor workers.

Every file becomes a ``RawArticle`` on the raw topic (the same path live
ingestion takes); a processor worker runs alongside until each document has
been stored or dead-lettered, then one report per document is returned.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.documents import load
from ingest.messages import RawArticle
from ingest.publish import publish
from processor import outcomes
from processor.worker import Worker
from services.db import sessionmaker
from services.errors import InputError
from services.runtime import Runtime

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.2
REPLAY_PARTITION = 0
# Told (documents processed, documents in all) as processing goes, e.g. to draw a bar.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Document:
    file: str
    article: RawArticle | None
    error: str | None = None  # why the file could not be read (a failed document)
    skipped: str | None = None  # why the entry is no document at all


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of the replayed directory: a file to read, or why it is skipped."""

    name: str
    path: Path | None
    skipped: str | None = None


def entries(target: Path) -> list[Entry]:
    """The files to replay: ``target`` itself when it is a file, else every entry of the
    directory in name order. Symlinks are followed only to files inside the directory;
    a link elsewhere, a dangling link, a link loop, a subdirectory or a hidden file is
    an entry skipped with its reason, never silently."""
    if target.is_file():
        return [Entry(target.name, target)]
    if not target.is_dir():
        raise InputError(f"{target} is neither a file nor a directory")
    root = target.resolve()
    return [_entry(root, path) for path in sorted(target.iterdir(), key=lambda p: p.name)]


def _entry(root: Path, path: Path) -> Entry:
    name = path.name
    if name.startswith("."):
        return Entry(name, None, "hidden file")
    if path.is_symlink():
        try:
            resolved = path.resolve(strict=True)
        except RuntimeError:
            return Entry(name, None, "symlink loop")
        except OSError:
            return Entry(name, None, "dangling symlink")
        if not resolved.is_relative_to(root):
            return Entry(name, None, "symlink to a file outside the directory, not followed")
        path = resolved
    if path.is_dir():
        return Entry(name, None, "a directory (replay reads files, not subdirectories)")
    if not path.is_file():
        return Entry(name, None, "not a regular file")
    return Entry(name, path)


async def read_all(runtime: Runtime, target: Path) -> list[Document]:
    documents = []
    for entry in entries(target):
        if entry.path is None:
            log.warning("skipped file=%s reason=%s", entry.name, entry.skipped)
            documents.append(Document(entry.name, None, skipped=entry.skipped))
            continue
        try:
            article = await load(
                entry.path, runtime.pool, time_limit=runtime.settings.parse_timeout
            )
            documents.append(Document(entry.name, article))
        except InputError as exc:
            log.warning("cannot replay file=%s error=%s", entry.name, exc)
            documents.append(Document(entry.name, None, str(exc)))
        except Exception as exc:  # one policy: whatever a file holds, it is its own report
            log.exception("cannot replay file=%s, unexpectedly", entry.name)
            documents.append(Document(entry.name, None, f"unreadable: {exc!r}"[:500]))
    if not documents:
        log.warning("nothing to replay in %s: it holds no files", target)
    return documents


async def _wait_until_done(
    runtime: Runtime, message_ids: list[str], timeout: float, progress: Progress | None
) -> None:
    sessions = sessionmaker(runtime.engine)
    deadline = time.monotonic() + timeout
    done: set[str] = set()
    told = -1
    while len(done) < len(message_ids) and time.monotonic() < deadline:
        await asyncio.sleep(POLL_INTERVAL)
        async with sessions() as session:
            done = await outcomes.finished(session, message_ids)
        if len(done) == told:
            continue
        told = len(done)
        log.info("replay progress processed=%d/%d", len(done), len(message_ids))
        if progress is not None:
            progress(len(done), len(message_ids))


async def replay(
    runtime: Runtime, directory: Path, progress: Progress | None = None
) -> list[dict[str, Any]]:
    """Replay ``directory``; one report per file in name order, then a summary object.
    ``progress``, if given, hears how many documents have been processed so far."""
    documents = await read_all(runtime, directory)
    pending = [d.article for d in documents if d.article is not None]
    if progress is not None:
        progress(0, len(pending))
    async with runtime.bus.producer() as producer:
        for article in pending:  # one partition, so documents are read in file-name order
            await publish(producer, runtime.settings.topic_raw, article, partition=REPLAY_PARTITION)
    log.info("replay published documents=%d errors=%d", len(pending), len(documents) - len(pending))

    stop = asyncio.Event()
    worker = Worker(runtime.settings, runtime.bus, runtime.engine, runtime.pool)
    consuming = asyncio.create_task(worker.run(stop))
    try:
        waiting = asyncio.create_task(
            _wait_until_done(
                runtime, [a.message_id for a in pending], runtime.settings.replay_timeout, progress
            )
        )
        await asyncio.wait([waiting, consuming], return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
    finally:
        stop.set()
        await consuming

    reports: list[dict[str, Any]] = []
    async with sessionmaker(runtime.engine)() as session:
        for document in documents:
            if document.skipped is not None:
                reports.append({"file": document.file, "skipped": document.skipped})
            elif document.article is None:
                reports.append({"file": document.file, "error": document.error})
            else:
                described = await outcomes.describe(session, document.article.message_id)
                reports.append({"file": document.file, **described})
    return [*reports, {"summary": summarize(reports)}]


def summarize(reports: list[dict[str, Any]]) -> dict[str, int]:
    fresh = [r for r in reports if "article_id" in r and not r["duplicate_of"]]
    alerts = [a for r in fresh for a in r["alerts"]]
    return {
        "documents": sum(1 for r in reports if "skipped" not in r),
        "articles": len(fresh),
        "duplicates": sum(1 for r in reports if r.get("duplicate_of")),
        "events": sum(len(r["events"]) for r in fresh),
        "alerts_new": sum(1 for a in alerts if a["new"]),
        "alerts_updated": sum(1 for a in alerts if not a["new"]),
        "errors": sum(1 for r in reports if "error" in r),
        "skipped": sum(1 for r in reports if "skipped" in r),
    }
