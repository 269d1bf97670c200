"""Exact deduplication keys: canonical URL and normalized-content hash.

Near-duplicates (the same report edited) are processor/fingerprint.py's.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Sequence
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from courlan import normalize_url
from courlan.urlutils import get_tldinfo

from processor.normalize import normalize_text

_WORD = re.compile(r"\w+")


def content_hash(text: str) -> str:
    """SHA-256 of the text's words after normalization: blind to case, spacing and punctuation."""
    return normalized_content_hash(normalize_text(text))


def normalized_content_hash(normalized: str) -> str:
    """``content_hash`` of text that is already normalized."""
    return words_hash(_WORD.findall(normalized))


def words_hash(words: Sequence[str]) -> str:
    """``content_hash`` of a normalized text's words, already split."""
    return hashlib.sha256(" ".join(words).encode()).hexdigest()


def canonical_url(url: str | None) -> str | None:
    """One spelling per article page, so an outlet's variants of a link dedupe by URL.

    courlan's normalization (lower-cased scheme and host, no default port, no
    fragment, no tracking parameters, query sorted by key), then: the AMP and
    mobile editions folded into the page itself (``/amp`` segments, ``.amp``
    extensions, ``amp=…`` and ``outputType=amp`` parameters; ``m.``,
    ``mobile.``, ``amp.`` and ``www.`` in front of the registrable domain), no
    trailing slash but the root's, and percent-escapes in one form (unreserved
    characters decoded, hex digits upper case). None for anything but http(s).
    """
    if not url:
        return None
    try:
        normalized = normalize_url(url.strip())
        parts = urlsplit(normalized)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = _host(parts.hostname)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    return urlunsplit((parts.scheme, netloc, _path(parts.path), _query(parts.query), ""))


# Subdomains that name an edition of the same site, not another site.
_EDITION_LABELS = frozenset({"www", "m", "mobile", "amp"})
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_AMP_EXTENSION = re.compile(r"\.amp(?=\.[^./]+$|$)", re.IGNORECASE)


def _host(host: str) -> str:
    """The host without edition labels in front of its registrable domain (``m.bbc.co.uk``
    is ``bbc.co.uk``, but ``m.co.uk`` stays: there the ``m`` is the site's own name)."""
    host = host.rstrip(".")
    _, site = get_tldinfo(f"http://{host}/")
    if not site or not host.endswith(site):
        return host  # an IP address or a local name
    labels = host[: len(host) - len(site)].split(".")[:-1]
    while labels and labels[0] in _EDITION_LABELS:
        labels.pop(0)
    return ".".join([*labels, site])


def _unescape(match: re.Match[str]) -> str:
    char = chr(int(match[1], 16))
    return char if char in _UNRESERVED else f"%{match[1].upper()}"


def _path(path: str) -> str:
    segments = [part for part in _ESCAPE.sub(_unescape, path).split("/") if part.lower() != "amp"]
    segments[-1] = _AMP_EXTENSION.sub("", segments[-1])
    path = "/".join(segments).rstrip("/")
    return path if path.startswith("/") else f"/{path}"


def _is_amp_parameter(pair: str) -> bool:
    name, _, value = (unquote_plus(part).lower() for part in pair.partition("="))
    return name == "amp" or (name == "outputtype" and value == "amp")


def _query(query: str) -> str:
    return "&".join(pair for pair in query.split("&") if pair and not _is_amp_parameter(pair))
