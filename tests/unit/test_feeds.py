"""ingest.feeds: RSS, Atom and JSON Feed to entries; ill-formed feeds yield, non-feeds fail."""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
from pathlib import Path

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.feeds import FeedEntry, html_to_text, parse_feed
from services.errors import FeedError

FEEDS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "feeds"
URL = "https://news.example.org/syria/feed.xml"

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>أخبار سوريا</title>
  <link>https://news.example.org/syria/</link>
  <ttl>15</ttl>
  <item>
    <title>انسحاب القوات الأمريكية من قاعدة قسرك</title>
    <link>/syria/2025/05/qasrak-withdrawal</link>
    <guid isPermaLink="false">urn:example:1234</guid>
    <pubDate>Tue, 06 May 2025 14:30:00 +0300</pubDate>
    <dc:creator>مراسلنا في الحسكة</dc:creator>
    <description>&lt;p&gt;ملخص &lt;b&gt;قصير&lt;/b&gt;&lt;/p&gt;</description>
    <content:encoded><![CDATA[<p>بدأت القوات الأمريكية <b>الانسحاب</b> من قاعدة قسرك.</p>
      <script>track()</script><p>وقال مسؤولون إن العملية ستستمر أسابيع.</p>]]></content:encoded>
  </item>
  <item>
    <title>Second item</title>
    <link>https://news.example.org/syria/2025/05/second</link>
    <description>Plain summary &amp; more</description>
  </item>
</channel>
</rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://agency.example.com/ru/">
  <title>Новости</title>
  <updated>2025-05-06T12:00:00Z</updated>
  <id>urn:uuid:feed</id>
  <entry>
    <title type="html">Вывод войск с базы &lt;em&gt;Касрак&lt;/em&gt;</title>
    <link rel="alternate" href="news/2025/05/06/kasrak.html"/>
    <id>tag:agency.example.com,2025:kasrak</id>
    <published>2025-05-06T10:15:00+03:00</published>
    <updated>2025-05-06T11:00:00Z</updated>
    <author><name>Иван Петров</name></author>
    <summary>Короткая сводка.</summary>
    <content type="html">&lt;p&gt;Американские военные начали вывод войск.&lt;/p&gt;
      &lt;p&gt;Колонна ушла к границе.&lt;/p&gt;</content>
  </entry>
</feed>"""

JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Drawdown test feed",
    "home_page_url": "https://blog.example.net/",
    "authors": [{"name": "Desk"}],
    "items": [
        {
            "id": "1",
            "url": "https://blog.example.net/posts/tanf",
            "title": "Al-Tanf garrison reduced",
            "content_html": "<p>Troops <em>left</em> al-Tanf.</p><p>More to follow.</p>",
            "date_published": "2025-05-06T09:00:00+02:00",
            "authors": [{"name": "Jane Roe"}],
        },
        {"id": 2, "url": "/posts/rmelan", "content_text": "Rmelan: no change.", "title": "Rmelan"},
        "not an object",
    ],
}


# ---------------------------------------------------------------- RSS


def test_rss_entries_fields_and_ttl() -> None:
    feed = parse_feed(RSS.encode(), url=URL, content_type="application/rss+xml")
    assert feed.title == "أخبار سوريا"
    assert feed.ttl == 15 * 60
    assert feed.problem is None
    first, second = feed.entries
    assert first == FeedEntry(
        url="https://news.example.org/syria/2025/05/qasrak-withdrawal",
        title="انسحاب القوات الأمريكية من قاعدة قسرك",
        text=(
            "بدأت القوات الأمريكية الانسحاب من قاعدة قسرك.\nوقال مسؤولون إن العملية ستستمر أسابيع."
        ),
        published_at="2025-05-06T11:30:00+00:00",
        author="مراسلنا في الحسكة",
        guid="urn:example:1234",
    )
    assert second.text == "Plain summary & more"
    assert second.published_at is None


def test_rss_in_windows_1256_behind_a_lying_header() -> None:
    body = RSS.replace('encoding="utf-8"', 'encoding="windows-1256"').encode("cp1256")
    feed = parse_feed(body, url=URL, content_type="text/xml; charset=iso-8859-1")
    assert feed.title == "أخبار سوريا"
    assert feed.entries[0].title == "انسحاب القوات الأمريكية من قاعدة قسرك"


def test_syndication_update_period_gives_the_ttl() -> None:
    rdf = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
  <channel rdf:about="https://e.org/"><title>RSS 1.0</title><link>https://e.org/</link>
    <sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency>
  </channel>
  <item rdf:about="https://e.org/a"><title>A</title><link>https://e.org/a</link></item>
</rdf:RDF>"""
    feed = parse_feed(rdf.encode(), url="https://e.org/rss")
    assert feed.ttl == 900
    assert [e.url for e in feed.entries] == ["https://e.org/a"]


def test_rss_091_without_dates() -> None:
    rss = """<rss version="0.91"><channel><title>Old</title>
<item><title>One</title><link>http://old.example.com/1</link></item></channel></rss>"""
    feed = parse_feed(rss.encode(), url="http://old.example.com/rss")
    assert (feed.title, len(feed.entries), feed.ttl) == ("Old", 1, None)


# ---------------------------------------------------------------- Atom


def test_atom_entry_with_xml_base_and_html() -> None:
    feed = parse_feed(ATOM.encode(), url="https://agency.example.com/ru/atom")
    assert feed.title == "Новости"
    (entry,) = feed.entries
    assert entry == FeedEntry(
        url="https://agency.example.com/ru/news/2025/05/06/kasrak.html",
        title="Вывод войск с базы Касрак",
        text="Американские военные начали вывод войск.\nКолонна ушла к границе.",
        published_at="2025-05-06T07:15:00+00:00",
        author="Иван Петров",
        guid="tag:agency.example.com,2025:kasrak",
    )


# ---------------------------------------------------------------- JSON Feed


def test_json_feed() -> None:
    body = json.dumps(JSON_FEED).encode()
    feed = parse_feed(
        body, url="https://blog.example.net/feed.json", content_type="application/feed+json"
    )
    assert feed.title == "Drawdown test feed"
    assert feed.ttl is None
    assert feed.problem == "an item is a str, not an object"
    first, second = feed.entries
    assert first == FeedEntry(
        url="https://blog.example.net/posts/tanf",
        title="Al-Tanf garrison reduced",
        text="Troops left al-Tanf.\nMore to follow.",
        published_at="2025-05-06T07:00:00+00:00",
        author="Jane Roe",
        guid="1",
    )
    assert (second.url, second.text, second.author, second.guid) == (
        "https://blog.example.net/posts/rmelan",
        "Rmelan: no change.",
        "Desk",
        "2",
    )


def test_json_feed_1_0_author_and_no_items() -> None:
    doc = {"version": "https://jsonfeed.org/version/1", "title": "Empty", "author": {"name": "A"}}
    feed = parse_feed(json.dumps(doc).encode(), url="https://e.org/feed.json")
    assert (feed.title, feed.entries) == ("Empty", ())
    assert feed.problem == "'items' is missing or not a list"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"title": "not a feed"}', "not a JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1", ', "invalid JSON"),
        (b"[" * 100_000, "not a feed"),
        (b"{" + b'"a":[' * 100_000, "invalid JSON|nested too deeply"),
    ],
)
def test_json_that_is_not_a_json_feed(body: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse_feed(body, url="https://e.org/feed.json", content_type="application/json")


# ---------------------------------------------------------------- ill-formed and not feeds


def test_ill_formed_feed_keeps_its_entries_and_says_what_is_wrong() -> None:
    broken = """<rss version="2.0"><channel><title>Broken & co</title>
<item><title>First</title><link>https://e.org/1</link>
<description>a <b>bold claim</description></item>
<item><title>Second</title><link>https://e.org/2?a=1&b=2</link></item>
</channel>"""
    feed = parse_feed(broken.encode(), url="https://e.org/rss")
    assert [e.title for e in feed.entries] == ["First", "Second"]
    assert feed.entries[1].url == "https://e.org/2?a=1&b=2"
    assert feed.problem is not None
    assert feed.problem.startswith("not well-formed XML at line 1, column ")


@pytest.mark.parametrize(
    "body",
    [
        b"<!doctype html><html><head><title>Front page</title></head><body><h1>News</h1>"
        b"<p>Nothing to see</p><a href='/a'>a</a></body></html>",
        b"just some text, not markup at all",
        b"   \n\t ",
        b"",
    ],
)
def test_not_a_feed(body: bytes) -> None:
    with pytest.raises(FeedError):
        parse_feed(body, url="https://e.org/", content_type="text/html")


def test_entry_links_are_absolute_http_or_none() -> None:
    rss = """<rss version="2.0"><channel><title>t</title>
<item><title>a</title><link>javascript:alert(1)</link></item>
<item><title>b</title><link>../up/b.html</link></item>
<item><title>c</title></item></channel></rss>"""
    feed = parse_feed(rss.encode(), url="https://e.org/news/feed/")
    assert [e.url for e in feed.entries] == [None, "https://e.org/news/up/b.html", None]


def test_a_body_that_names_a_file_is_not_opened() -> None:
    with pytest.raises(FeedError):
        parse_feed(b"/etc/hostname", url="https://e.org/feed")


def test_html_to_text_keeps_paragraphs_and_drops_scripts() -> None:
    html = "<div>One&nbsp;<b>two</b></div><style>p{}</style><p>three\n  four</p><br>five"
    assert html_to_text(html) == "One two\nthree four\nfive"


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_parse_feed_raises_only_feed_error(body: bytes) -> None:
    with contextlib.suppress(FeedError):
        parse_feed(body, url="https://e.org/feed")


# ---------------------------------------------------------------- the feedparser corpus


def _served_as(raw: bytes) -> str | None:
    """The Content-Type the corpus file says it was served with, in its leading comment."""
    found = re.search(rb"Content-type:\s*([^\r\n]*)", raw[:1000].replace(b"\x00", b""), re.I)
    return found.group(1).decode("latin-1").strip() if found else None


def test_corpus_feeds_parse_or_fail_cleanly() -> None:
    """Every file (about 2,100, read in place): FeedError or a result; entry counts as feedparser's.

    All files, no sampling: the whole pass takes about two seconds.
    """
    if not FEEDS.is_dir():
        pytest.skip(f"corpus not present at {FEEDS}")
    started = time.monotonic()
    parsed = 0
    for folder in ("wellformed", "illformed", "encoding", "entities"):
        for path in sorted(p for p in (FEEDS / folder).rglob("*") if p.is_file()):
            raw = path.read_bytes()
            served_as = _served_as(raw)
            try:
                feed = parse_feed(raw, url="http://example.com/feed", content_type=served_as)
            except FeedError:
                continue
            parsed += 1
            if folder == "wellformed":
                headers = {"content-type": served_as} if served_as else None
                theirs = feedparser.parse(io.BytesIO(raw), response_headers=headers).entries
                if theirs:
                    assert len(feed.entries) == len(theirs), path
    assert parsed > 1500
    assert time.monotonic() - started < 20


def test_blank_lines_before_the_declaration_do_not_break_the_feed() -> None:
    feed = parse_feed(b"\n\n  " + RSS.encode(), url=URL)
    assert (feed.problem, len(feed.entries)) == (None, 2)
