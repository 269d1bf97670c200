"""Article links on a listing page (a section front), for page sources.

Pure: HTML in, absolute URLs out. A listing page links to its own articles and to
everything else a site has — sections, tags, authors, logins, feeds, images, other
sites. We keep links to the same registrable domain (``news.example.org`` and
``www.example.org`` are one site, per the Public Suffix List through courlan) and
drop what courlan and a few patterns of our own recognise as navigation rather
than articles; what is left must look like an article URL (a date or id, a page
extension, or a slug of several words). Fragments and tracking parameters are
dropped so one story linked three ways is one link. Page order is kept: the newest
stories come first.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from courlan.filters import is_navigation_page, is_not_crawlable, type_filter
from courlan.urlutils import get_tldinfo

_SCHEMES = ("http", "https")
# Beyond courlan's filters: account, search, sharing and feed pages, and the
# query strings of sorting/pagination/printing views.
_NOT_ARTICLE_PATH = re.compile(
    r"/(?:log-?in|log-?out|sign-?in|sign-?up|register|account|profile|subscribe|newsletter|"
    r"search|tags?|category|categories|author|authors|writers?|topics?|section|feeds?|rss|"
    r"atom|print|share|contact|about|privacy|terms|cookies?|advertise|"
    r"wp-login\.php|cdn-cgi)(?:/|$|\.)",
    re.IGNORECASE,
)
_NOT_ARTICLE_QUERY = re.compile(
    r"(?:^|&)(?:s|q|query|search|page|sort|replytocom|share|print|output|format|feed)=",
    re.IGNORECASE,
)
_NOT_ARTICLE_SUFFIX = re.compile(
    r"\.(?:rss|atom|xml|json|jpe?g|png|gif|webp|svg|avif|ico|bmp|tiff?|pdf|zip|gz|mp3|mp4|"
    r"m4a|ogg|webm|mov|avi|css|js|woff2?|ttf|eot|docx?|xlsx?|pptx?)$",
    re.IGNORECASE,
)
# Campaign and click identifiers: the same article behind another URL.
_TRACKING = re.compile(
    r"(?:utm_[a-z]+|fbclid|gclid|yclid|mc_cid|mc_eid|ocid|cmpid|_ga)(?:=|$)", re.IGNORECASE
)
_POST_ID = re.compile(r"/archives/\d{3,}/?$")
_PAGE_SUFFIX = re.compile(r"\.(?:s?html?|php\d?|aspx?|jsp|cms)$", re.IGNORECASE)
_SLUG_WORDS = re.compile(r"[-_+\s]+")


def article_links(html: str, base_url: str, *, limit: int = 100) -> list[str]:
    """Up to ``limit`` likely article URLs on the page, absolute and in page order."""
    if limit <= 0:
        return []
    parser = _Anchors()
    parser.feed(html)
    parser.close()
    base = (_absolute(parser.base, base_url) if parser.base else None) or base_url
    site = _site(base_url)
    own = {_without_fragment(base_url), _without_fragment(base)}
    found: list[str] = []
    seen: set[str] = set()
    for href in parser.hrefs:
        url = _absolute(href, base)
        if url is None or url in seen or url in own:
            continue
        seen.add(url)
        if _site(url) == site and _looks_like_article(url):
            found.append(url)
            if len(found) >= limit:
                break
    return found


class _Anchors(HTMLParser):
    """Every ``<a href>`` in document order, and the ``<base href>`` if any."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a" or (tag == "base" and self.base is None):
            href = dict(attrs).get("href")
            if href and href.strip():
                if tag == "a":
                    self.hrefs.append(href.strip())
                else:
                    self.base = href.strip()


def _absolute(href: str, base: str) -> str | None:
    """The absolute http(s) URL of a link without fragment or tracking parameters.

    None for mailto:, javascript:, tel: and other schemes, and for unparseable links.
    """
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES or not parts.hostname:
            return None
    except ValueError:
        return None
    query = "&".join(p for p in parts.query.split("&") if p and not _TRACKING.match(p))
    return urlunsplit(parts._replace(query=query, fragment=""))


def _without_fragment(url: str) -> str:
    try:
        return urlunsplit(urlsplit(url)._replace(fragment=""))
    except ValueError:
        return url


def _site(url: str) -> str | None:
    """The registrable domain (eTLD+1), or the bare host for IPs and local names."""
    _, domain = get_tldinfo(url)
    if domain:
        return domain.lower()
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _looks_like_article(url: str) -> bool:
    """Not navigation by any filter, and shaped like an article URL."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if _POST_ID.search(path):
        return True  # WordPress /archives/123456 permalinks, common on Arabic news sites
    if _NOT_ARTICLE_PATH.search(path) or _NOT_ARTICLE_SUFFIX.search(path):
        return False
    if _NOT_ARTICLE_QUERY.search(parts.query):
        return False
    if not type_filter(url, strict=True) or is_navigation_page(url) or is_not_crawlable(url):
        return False
    return _article_shaped(path, parts.query)


def _article_shaped(path: str, query: str) -> bool:
    """Articles carry a date or an id, a page extension, or a slug of three words or more.

    Section fronts ("/ar/", "/world/middle-east/") and site pages ("/privacy-policy") do not.
    """
    if any(c.isdigit() for c in path + query):
        return True
    last = next((s for s in reversed(path.split("/")) if s), "")
    return bool(_PAGE_SUFFIX.search(last)) or len(_SLUG_WORDS.split(last)) >= 3
