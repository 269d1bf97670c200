"""Read replay files into ``RawArticle``s: ``.txt``, ``.html`` and ``.json``.

Decoding and validation are pure; HTML extraction is CPU-bound and runs in
the given pool (services.pool), within a time limit.
"""

from __future__ import annotations

import asyncio
import codecs
import json
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from ingest.extract import extract
from ingest.messages import RawArticle
from ingest.sniff import binary_format
from services.errors import InputError
from services.pool import CpuPool

SUFFIXES = (".txt", ".html", ".htm", ".json")
MAX_BYTES = 20 * 1024 * 1024


_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)


def decode_text(data: bytes) -> str:
    """UTF-8, or UTF-8/16/32 after its byte order mark, strictly; binary or undecodable
    content is an InputError."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise InputError(f"not valid {name} at byte {exc.start + len(bom)}") from exc
            break
    else:
        kind = binary_format(data)
        if kind is not None:
            raise InputError(f"binary content ({kind}), not a text document")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"not valid UTF-8 at byte {exc.start}") from exc
    if "\x00" in text:
        raise InputError("binary content (NUL characters), not a text document")
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


FIELDS = ("url", "title", "text", "published_at", "language", "outlet")


def from_json(data: bytes, source: str) -> RawArticle:
    """``{url, title, text, published_at, language?, outlet?}``. The outlet (who published
    it, for corroboration) is ``outlet``, else the URL's host, else ``source``."""
    try:
        doc = json.loads(decode_text(data))
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc}") from exc
    except RecursionError as exc:
        raise InputError("invalid JSON: nested too deeply") from exc
    if not isinstance(doc, dict):
        raise InputError(f"expected a JSON object {{{', '.join(FIELDS)}}}")
    for name in FIELDS:
        value = doc.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InputError(f"field {name!r} must be a string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InputError(f"field {name!r} holds a lone surrogate at {exc.start}") from exc
    if not (doc.get("text") or "").strip():
        raise InputError("field 'text' is missing or empty")
    return RawArticle(
        text=doc["text"],
        title=doc.get("title") or "",
        url=doc.get("url"),
        published_at=_published_at(doc.get("published_at")),
        language=doc.get("language"),
        source=(doc.get("outlet") or "").strip() or _host(doc.get("url")) or source,
    )


def _published_at(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InputError(f"field 'published_at' is not an ISO 8601 time: {value[:40]!r}") from exc
    return value.strip()


def _host(url: str | None) -> str | None:
    try:
        host = urlsplit(url).hostname if url else None
    except ValueError:
        return None
    return host.removeprefix("www.") if host else None


def read_bytes(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError(f"larger than {MAX_BYTES} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from exc


async def load(path: Path, pool: CpuPool, *, time_limit: float = 10.0) -> RawArticle:
    """One replay file as a RawArticle; InputError says why a file cannot be used. An
    HTML page's extraction may take ``time_limit`` seconds (services.pool)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"unsupported file type {suffix or '(none)'}; use {', '.join(SUFFIXES)}")
    data = await asyncio.to_thread(read_bytes, path)
    source = f"replay:{path.name}"
    if suffix == ".txt":
        return from_text(data, source)
    if suffix == ".json":
        return from_json(data, source)
    kind = binary_format(data)
    if kind is not None:
        raise InputError(f"binary content ({kind}), not an HTML page")
    page = await pool.run(extract, data, None, timeout=time_limit)
    return RawArticle(
        text=page.text,
        title=page.title,
        url=page.url,
        published_at=page.published_at,
        language=page.language,
        source=source,
    )
