"""Article text from an HTML page, with trafilatura. CPU-bound: call it in a worker process.

``bare_extraction`` with its fallbacks on: the text of ``extract(output_format="json")``
(word F1 0.986 against the recall-oriented reference on the saved publisher pages of
../shared/corpus/pages) for about 12 % less CPU, as it skips serialising and parsing
JSON. ``fast`` (no fallbacks) saves 20 % but loses 4 % of the article words, and
``favor_precision`` loses text as well: bench/extraction.py has the figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import trafilatura
from trafilatura.settings import Document, set_date_params

from services.errors import InputError


@dataclass(frozen=True, slots=True)
class Extracted:
    title: str
    text: str
    published_at: str | None
    author: str | None
    language: str | None
    url: str | None


def extract(html: bytes | str, url: str | None = None, *, dated: bool = False) -> Extracted:
    """The main text and metadata of a page; InputError when there is no article in it.

    ``dated``: the caller knows when the article was published (its feed entry says), so
    the page's own date is looked for only in its markup, not searched for through its
    text and scripts (htmldate's extensive search, half of the extraction's CPU on pages
    with long scripts)."""
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        date_extraction_params=set_date_params(extensive=not dated),
    )
    text = (document.text or "").strip() if isinstance(document, Document) else ""
    if not isinstance(document, Document) or not text:
        raise InputError("no article text found in the page")
    return Extracted(
        title=(document.title or "").strip(),
        text=text,
        published_at=document.date or None,
        author=document.author or None,
        language=document.language or None,
        url=document.url or url,
    )
