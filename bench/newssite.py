"""Texts and a local news site for bench/pipeline.py.

``texts(n)``: ``n`` distinct news texts in 14 languages, each a run of sentences of
one language drawn from ``../shared/corpus/news`` (read at run time, never copied),
or from the seed articles when that folder is absent. ``serve`` is a publisher on
127.0.0.1: feeds of 50 entries whose pages are 60–100 KB of real-looking markup
(navigation, related links, scripts) around the article, Arabic and Persian pages in
windows-1256, Russian and Ukrainian in cp1251, and a live feed that publishes one
alert-worthy entry a second once started, recording when each page was served.
"""

from __future__ import annotations

import html
import json
import random
import re
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NEWS = ROOT.parent / "shared" / "corpus" / "news"
SEEDS = ROOT / "seeds"
ENTRIES = 50
LIVE = 10
CHARSETS = {"ar": "windows-1256", "fa": "windows-1256", "ru": "cp1251", "uk": "cp1251"}
_SENTENCE = re.compile(r"(?<=[.!?؟。])\s+")


def _pools() -> dict[str, list[str]]:
    files = sorted(NEWS.glob("*_*.txt")) if NEWS.is_dir() else sorted(SEEDS.glob("*.txt"))
    pools: dict[str, list[str]] = {}
    for path in files:
        language = path.stem.rsplit("_", 1)[-1] if NEWS.is_dir() else "xx"
        body = path.read_text("utf-8")
        pools.setdefault(language, []).extend(
            s.strip() for s in _SENTENCE.split(body.replace("\n", " ")) if len(s.strip()) > 30
        )
    return pools


def texts(n: int, seed: int = 14) -> list[tuple[str, str]]:
    """``n`` distinct (language, text) pairs of 0.8–2 k characters (about 1.4 k on average)."""
    rand = random.Random(seed)
    pools = _pools()
    languages = sorted(pools)
    made = []
    for i in range(n):
        language = languages[i % len(languages)]
        target = rand.randint(800, 2000)
        sentences: list[str] = []
        while sum(map(len, sentences)) < target:
            sentences.append(rand.choice(pools[language]))
        made.append((language, f"{' '.join(sentences)} (#{i})"))
    return made


def _boilerplate(rand: random.Random, size: int) -> tuple[str, str]:
    nav = "".join(f'<li><a href="/section/{k}">Section {k}</a></li>' for k in range(80))
    related = "".join(
        f'<div class="teaser"><a href="/related/{rand.randint(0, 10**6)}">Related story '
        f"{k}</a><p>Short teaser text number {k} about other news.</p></div>"
        for k in range(40)
    )
    head = f'<header><nav><ul class="menu">{nav}</ul></nav></header><aside>{related}</aside>'
    padding = "var tracking = {" + ",".join(f'"k{k}": {k}' for k in range(size // 10)) + "};"
    foot = f"<footer><p>© Publisher</p></footer><script>{padding[:size]}</script>"
    return head, foot


def page(language: str, title: str, text: str, index: int) -> bytes:
    rand = random.Random(index)
    charset = CHARSETS.get(language, "utf-8")
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in _SENTENCE.split(text))
    head, foot = _boilerplate(rand, rand.randint(45_000, 80_000))
    document = (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="{charset}">'
        f"<title>{html.escape(title)}</title></head><body>{head}<main><article>"
        f"<h1>{html.escape(title)}</h1>{paragraphs}</article></main>{foot}</body></html>"
    )
    return document.encode(charset, errors="xmlcharrefreplace")


# Items are dated as news feeds date them (RSS 2.0 pubDate), all at the site's start: the
# reader takes the date from the feed and does not search the page for one.
_PUBLISHED = format_datetime(datetime.now(UTC))


def _rss(base: str, items: list[tuple[str, str, str]]) -> bytes:
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{base}{link}</link>"
        f"<guid>{base}{link}</guid><pubDate>{_PUBLISHED}</pubDate>"
        f"<description>{html.escape(d)}</description></item>"
        for t, link, d in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Bench</title><link>{base}/</link>{entries}</channel></rss>"
    ).encode()


# Short (no near-duplicate fingerprint) and distinct: each one a new article that alerts.
LIVE_TEXT = "US forces withdrew from Ain al-Asad air base, convoy {i} left at dawn."


def serve(port: int, feeds: int, ready: Any) -> None:
    """Run the site on ``port`` until killed (the target of bench/local_server.spawn)."""
    documents = texts(feeds * ENTRIES)
    pages = {  # made up front: serving costs the site no CPU that the client needs
        i: page(language, text[:60], text, i) for i, (language, text) in enumerate(documents)
    }
    base = f"http://127.0.0.1:{port}"
    live: dict[str, Any] = {"started": None, "served": {}}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, body: bytes, kind: str, status: int = 200) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = self.path.strip("/").split("/")
            if parts[0] == "feed":
                f = int(parts[1].removesuffix(".xml"))
                items = [
                    (documents[f * ENTRIES + e][1][:60], f"/page/{f}/{e}.html", "")
                    for e in range(ENTRIES)
                ]
                self._send(_rss(base, items), "application/rss+xml")
            elif parts[0] == "page":
                f, e = int(parts[1]), int(parts[2].removesuffix(".html"))
                language, _ = documents[f * ENTRIES + e]
                charset = CHARSETS.get(language, "utf-8")
                kind = "text/html" if f % 2 else f"text/html; charset={charset}"
                self._send(pages[f * ENTRIES + e], kind)
            elif parts[0] == "start-live":
                live["started"] = time.time()
                self._send(b"ok", "text/plain")
            elif parts[0] == "live.xml":
                due = 0 if live["started"] is None else int(time.time() - live["started"]) + 1
                items = [
                    (f"Withdrawal {i}", f"/live/{i}.html", LIVE_TEXT.format(i=i))
                    for i in range(min(due, LIVE))
                ]
                self._send(_rss(base, items), "application/rss+xml")
            elif parts[0] == "live":
                i = int(parts[1].removesuffix(".html"))
                live["served"].setdefault(i, time.time())
                body = f"<html><body><article><h1>Withdrawal {i}</h1><p>{LIVE_TEXT.format(i=i)}"
                self._send(f"{body}</p></article></body></html>".encode(), "text/html")
            elif parts[0] == "served":
                self._send(json.dumps(live["served"]).encode(), "application/json")
            else:
                self._send(b"not found", "text/plain", 404)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    ready.set()
    server.serve_forever()
