"""Feeds, article pages and sources files for tests and benchmarks that poll local servers."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from tests.conftest import SEEDS


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    text: str = ""
    published: datetime | None = None


def rss(items: list[Item], *, title: str = "Local feed", ttl: int | None = None) -> str:
    entries = []
    for item in items:
        published = format_datetime(item.published or datetime(2026, 2, 23, 9, 0, tzinfo=UTC))
        entries.append(
            "<item>"
            f"<title>{html.escape(item.title)}</title>"
            f"<link>{html.escape(item.link)}</link>"
            f"<guid>{html.escape(item.link)}</guid>"
            f"<description>{html.escape(item.text)}</description>"
            f"<pubDate>{published}</pubDate>"
            "</item>"
        )
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl is not None else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{html.escape(title)}</title><link>http://example.invalid/</link>{ttl_tag}"
        + "".join(entries)
        + "</channel></rss>"
    )


def article_html(title: str, text: str) -> str:
    paragraphs = "".join(
        f"<p>{html.escape(line.strip())}</p>" for line in text.splitlines() if line.strip()
    )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"</head><body><nav><a href='/'>Home</a></nav><article><h1>{html.escape(title)}</h1>"
        f"{paragraphs}</article><footer>© Local news</footer></body></html>"
    )


def seed(prefix: str) -> tuple[str, str]:
    """(title, body) of the seed file whose name starts with ``prefix``: first line is the title."""
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    text = path.read_text("utf-8").strip()
    title, _, body = text.partition("\n")
    return title.strip(), body.strip()


def write_sources(path: Path, sources: list[dict[str, object]]) -> Path:
    lines = ["sources:"]
    for source in sources:
        lines.append(f"  - name: {source['name']!r}")
        lines.extend(f"    {key}: {value!r}" for key, value in source.items() if key != "name")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
