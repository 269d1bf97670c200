"""A local news site that keeps publishing, and the sources file that points pollers at it.

``FeedSite`` serves ``feeds`` RSS feeds from a LocalServer (tests/servers.py), each
listing its latest entries, and an article page per entry; ``add`` publishes a
document as the next entry of the next feed. ``sources_file`` writes the sources and
the webhook subscriptions roles load at start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import Response

from ingest.messages import RawArticle
from tests.feedkit import Item, article_html, rss
from tests.servers import LocalServer

LATEST = 40  # entries a feed lists


@dataclass
class FeedSite:
    server: LocalServer
    feeds: int = 3
    entries: list[list[Item]] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.entries = [[] for _ in range(self.feeds)]
        for number in range(self.feeds):
            self.server.route(f"/feed/{number}", self._feed(number))

    def _feed(self, number: int) -> Any:
        async def feed(_: Request) -> Response:
            latest = self.entries[number][-LATEST:][::-1]
            return Response(rss(latest, title=f"Feed {number}"), media_type="application/rss+xml")

        return feed

    async def page(self, request: Request) -> Response:
        """The article page of an entry."""
        return Response(self.pages[request.url.path], media_type="text/html")

    @property
    def urls(self) -> list[str]:
        """Every entry's link, in the order published."""
        return [self.server.url(path) for path in self.pages]

    def add(self, doc: RawArticle) -> str:
        """Publish ``doc`` as an entry of the next feed; return its link."""
        total = len(self.pages)
        path = f"/a/{total % self.feeds}/{total}"
        self.pages[path] = article_html(doc.title, doc.text)
        self.server.route(path, self.page)
        link = self.server.url(path)
        self.entries[total % self.feeds].append(Item(doc.title, link, doc.text[:200]))
        return link

    def sources(self, interval: float = 1.0) -> list[dict[str, Any]]:
        return [
            {"name": f"Local feed {n}", "url": self.server.url(f"/feed/{n}"), "interval": interval}
            for n in range(self.feeds)
        ]


def sources_file(
    path: Path,
    sources: list[dict[str, Any]] | None = None,
    subscriptions: list[dict[str, Any]] | None = None,
) -> Path:
    document = {"sources": sources or [], "subscriptions": subscriptions or []}
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path
