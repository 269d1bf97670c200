"""Exact deduplication keys: canonical URL and normalized-content hash."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit, urlunsplit

from courlan import normalize_url

from processor.normalize import normalize_text

_WORD = re.compile(r"\w+")


def content_hash(text: str) -> str:
    """SHA-256 of the text's words after normalization: blind to case, spacing and punctuation."""
    return normalized_content_hash(normalize_text(text))


def normalized_content_hash(normalized: str) -> str:
    """``content_hash`` of text that is already normalized."""
    return hashlib.sha256(" ".join(_WORD.findall(normalized)).encode()).hexdigest()


def canonical_url(url: str | None) -> str | None:
    """Lower-cased scheme and host, no default port, no fragment, no tracking parameters."""
    if not url:
        return None
    try:
        normalized = normalize_url(url.strip())
    except ValueError:
        return None
    parts = urlsplit(normalized)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))
