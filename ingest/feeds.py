"""Feed documents to entries: RSS 0.9x/1.0/2.0 and Atom with feedparser, JSON Feed 1.x by hand.

Pure: bytes in, ``ParsedFeed`` out. Bytes are decoded by ``ingest.charset`` (which
sees through lying charset headers better than feedparser's RFC 3023 rules) and
handed to feedparser as a UTF-8 stream: a stream, because feedparser treats a
string or bytes argument as a URL or a file name to open if it looks like one.
Ill-formed feeds keep whatever entries the forgiving parser recovers, with the
parser's complaint in ``problem``; only a document that is no feed at all is a
``FeedError``. Entry text is plain text, for when the article page cannot be had.
"""

from __future__ import annotations

import io
import json
import re
import time
import xml.sax
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from ingest.charset import decode
from services.errors import FeedError


@dataclass(frozen=True, slots=True)
class FeedEntry:
    url: str | None  # the entry's link, absolute http(s)
    title: str
    text: str  # the entry's own content or summary as plain text
    published_at: str | None  # ISO 8601, UTC
    author: str | None
    guid: str | None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    entries: tuple[FeedEntry, ...]
    ttl: float | None  # seconds the publisher says the feed stays fresh
    problem: str | None  # why the feed is ill-formed, when it is


_XML_DECLARATION = re.compile(r"<\?xml[^>]*?>")
_XML_DECLARED_ENCODING = re.compile(r"""^(<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")
_JSON_FEED_VERSION = "https://jsonfeed.org/version/"
_UPDATE_PERIODS = {
    "hourly": 3600.0,
    "daily": 86400.0,
    "weekly": 7 * 86400.0,
    "monthly": 30 * 86400.0,
    "yearly": 365 * 86400.0,
}


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """The feed in ``body`` (fetched from ``url``); FeedError when it is not a feed."""
    text, encoding = decode(body, content_type)
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise FeedError("empty document")
    replaced = None
    if encoding.endswith("(replaced)"):
        replaced = f"bytes invalid as {encoding.split()[0]} were replaced"
    if text.lstrip().startswith("{"):
        return _json_feed(text, url, replaced)
    return _xml_feed(text, url, replaced)


# ---------------------------------------------------------------- RSS and Atom


def _xml_feed(text: str, url: str, replaced: str | None) -> ParsedFeed:
    # Blank lines before the declaration (PHP templates) would cost us the strict parser.
    document = text.lstrip()
    skipped = text[: len(text) - len(document)].count("\n")
    # Now UTF-8 whatever it was: say so in the declaration and the header feedparser reads.
    declared = _XML_DECLARED_ENCODING.sub(r"\1\2utf-8\2", document, count=1)
    utf8 = declared.encode("utf-8", "replace")
    parsed = feedparser.parse(
        io.BytesIO(utf8),
        response_headers={"content-type": "application/xml; charset=utf-8"},
        resolve_relative_uris=False,  # entry HTML becomes plain text; links we resolve below
        sanitize_html=False,  # likewise: the text never reaches a browser
    )
    feed = parsed.get("feed", {})
    # feedparser puts a declaration line before a document without one; count lines as ours.
    shifted = (0 if _XML_DECLARATION.match(document) else 1) - skipped
    problems = [p for p in (replaced, _bozo(parsed, shifted)) if p]
    problem = "; ".join(problems) or None
    entries = parsed.get("entries", [])
    if not entries and not parsed.get("version") and not feed.get("title"):
        why = f" ({problem})" if problem else ""
        raise FeedError(f"not a feed: no entries, no title and no feed version{why}")
    return ParsedFeed(
        title=_plain(feed.get("title", ""), feed.get("title_detail")),
        entries=tuple(_entry(entry, url) for entry in entries),
        ttl=_ttl(feed),
        problem=problem,
    )


def _entry(entry: Mapping[str, Any], base: str) -> FeedEntry:
    return FeedEntry(
        url=_absolute(entry.get("link"), base),
        title=_plain(entry.get("title", ""), entry.get("title_detail")),
        text=_entry_text(entry),
        published_at=_from_struct(entry.get("published_parsed") or entry.get("updated_parsed")),
        author=_text_or_none(entry.get("author")),
        guid=_text_or_none(entry.get("id")),
    )


def _entry_text(entry: Mapping[str, Any]) -> str:
    """The fullest of the entry's content blocks, else its summary, as plain text."""
    contents = [c for c in entry.get("content", []) if isinstance(c.get("value"), str)]
    if contents:
        best = max(contents, key=lambda c: len(c["value"]))
        text = _plain(best["value"], best)
        if text:
            return text
    return _plain(entry.get("summary", ""), entry.get("summary_detail"))


def _plain(value: object, detail: Mapping[str, Any] | None) -> str:
    if not isinstance(value, str):
        return ""
    kind = str((detail or {}).get("type", "text/html"))
    return html_to_text(value) if "html" in kind else value.strip()


def _bozo(parsed: Mapping[str, Any], shifted: int) -> str | None:
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    if isinstance(exc, xml.sax.SAXParseException):
        line, column = max(1, (exc.getLineNumber() or 1) - shifted), exc.getColumnNumber()
        return f"not well-formed XML at line {line}, column {column}: {exc.getMessage()}"
    if exc is None:
        return "ill-formed feed"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _ttl(feed: Mapping[str, Any]) -> float | None:
    """RSS <ttl> (minutes), else sy:updatePeriod / sy:updateFrequency, in seconds."""
    minutes = _positive(feed.get("ttl"))
    if minutes is not None:
        return minutes * 60
    period = _UPDATE_PERIODS.get(str(feed.get("sy_updateperiod", "")).strip().lower())
    if period is None:
        return None
    return period / (_positive(feed.get("sy_updatefrequency")) or 1.0)


def _positive(value: object) -> float | None:
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if 0 < number < float("inf") else None


def _from_struct(value: object) -> str | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC).isoformat()
    except ValueError:
        return None


# ---------------------------------------------------------------- JSON Feed


def _json_feed(text: str, url: str, replaced: str | None) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1), which feedparser does not read."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise FeedError(f"invalid JSON at {where}: {exc.msg}") from exc
    except RecursionError as exc:
        raise FeedError("JSON nested too deeply") from exc
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(_JSON_FEED_VERSION):
        raise FeedError(f"JSON but not a JSON Feed: no 'version' starting {_JSON_FEED_VERSION}")
    problems = [replaced] if replaced else []
    items = doc.get("items")
    if not isinstance(items, list):
        problems.append("'items' is missing or not a list")
        items = []
    feed_author = _json_author(doc)
    entries = []
    for item in items:
        if isinstance(item, dict):
            entries.append(_json_entry(item, url, feed_author))
        else:
            problems.append(f"an item is a {type(item).__name__}, not an object")
    return ParsedFeed(
        title=_text_or_none(doc.get("title")) or "",
        entries=tuple(entries),
        ttl=None,
        problem="; ".join(problems) or None,
    )


def _json_entry(item: Mapping[str, Any], base: str, feed_author: str | None) -> FeedEntry:
    html = _text_or_none(item.get("content_html"))
    text = (
        _text_or_none(item.get("content_text"))
        or (html_to_text(html) if html else None)
        or _text_or_none(item.get("summary"))
        or ""
    )
    guid = item.get("id")
    return FeedEntry(
        url=_absolute(item.get("url") or item.get("external_url"), base),
        title=_text_or_none(item.get("title")) or "",
        text=text,
        published_at=_from_rfc3339(item.get("date_published") or item.get("date_modified")),
        author=_json_author(item) or feed_author,
        # Spec: a string; feeds in the wild also use numbers.
        guid=str(guid) if isinstance(guid, str | int) and str(guid) else None,
    )


def _json_author(obj: Mapping[str, Any]) -> str | None:
    """``authors`` (1.1) or ``author`` (1.0): the names, comma-separated."""
    authors = obj.get("authors")
    if not isinstance(authors, list):
        authors = [obj.get("author")]
    names = [a.get("name") for a in authors if isinstance(a, dict)]
    return ", ".join(n.strip() for n in names if isinstance(n, str) and n.strip()) or None


def _from_rfc3339(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat()


# ---------------------------------------------------------------- shared


def _absolute(link: object, base: str) -> str | None:
    if not isinstance(link, str) or not link.strip():
        return None
    try:
        url = urljoin(base, link.strip())
        scheme = urlsplit(url).scheme
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def _text_or_none(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt"),
        *("figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header"),
        *("hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul"),
    }
)
_SKIPPED = frozenset({"script", "style", "template", "noscript"})


class _TextParser(HTMLParser):
    """Text of an HTML fragment: blocks become line breaks, scripts and styles vanish."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data.replace("\r", " ").replace("\n", " "))


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment, one paragraph per line."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
