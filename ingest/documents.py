"""Read replay files into ``RawArticle``s: ``.txt``, ``.html`` and ``.json``.

Decoding and validation are pure; HTML extraction is CPU-bound and runs in
the given executor.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import Executor
from pathlib import Path

from ingest.extract import extract
from ingest.messages import RawArticle
from services.errors import InputError

SUFFIXES = (".txt", ".html", ".htm", ".json")
MAX_BYTES = 20 * 1024 * 1024


def decode_text(data: bytes) -> str:
    """Strict UTF-8 (a BOM is allowed); binary or undecodable content is an InputError."""
    if b"\x00" in data:
        raise InputError("binary content (NUL bytes), not a text document")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 at byte {exc.start}") from exc
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t\f")
    if controls > max(3, len(text) // 100):
        raise InputError("binary content (control characters), not a text document")
    return text


def from_text(data: bytes, source: str) -> RawArticle:
    text = decode_text(data).replace("\r\n", "\n").strip()
    if not text:
        raise InputError("empty document")
    title = next(line.strip() for line in text.splitlines() if line.strip())
    return RawArticle(text=text, title=title, source=source)


def from_json(data: bytes, source: str) -> RawArticle:
    try:
        doc = json.loads(decode_text(data))
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise InputError("expected a JSON object {url, title, text, published_at, language?}")
    for name in ("url", "title", "text", "published_at", "language"):
        if doc.get(name) is not None and not isinstance(doc[name], str):
            raise InputError(f"field {name!r} must be a string")
    if not (doc.get("text") or "").strip():
        raise InputError("field 'text' is missing or empty")
    return RawArticle(
        text=doc["text"],
        title=doc.get("title") or "",
        url=doc.get("url"),
        published_at=doc.get("published_at"),
        language=doc.get("language"),
        source=source,
    )


def read_bytes(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError(f"larger than {MAX_BYTES} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from exc


async def load(path: Path, executor: Executor | None) -> RawArticle:
    """One replay file as a RawArticle; InputError says why a file cannot be used."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"unsupported file type {suffix or '(none)'}; use {', '.join(SUFFIXES)}")
    data = await asyncio.to_thread(read_bytes, path)
    source = f"replay:{path.name}"
    if suffix == ".txt":
        return from_text(data, source)
    if suffix == ".json":
        return from_json(data, source)
    if b"\x00" in data:
        raise InputError("binary content (NUL bytes), not an HTML page")
    page = await asyncio.get_running_loop().run_in_executor(executor, extract, data, None)
    return RawArticle(
        text=page.text,
        title=page.title,
        url=page.url,
        published_at=page.published_at,
        language=page.language,
        source=source,
    )
