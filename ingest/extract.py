"""Article text from an HTML page, with trafilatura. CPU-bound: call it in a worker process."""

from __future__ import annotations

import json
from dataclasses import dataclass

import trafilatura

from services.errors import InputError


@dataclass(frozen=True, slots=True)
class Extracted:
    title: str
    text: str
    published_at: str | None
    author: str | None
    language: str | None
    url: str | None


def extract(html: bytes | str, url: str | None = None) -> Extracted:
    """The main text and metadata of a page; InputError when there is no article in it."""
    result = trafilatura.extract(
        html, url=url, output_format="json", with_metadata=True, include_comments=False
    )
    if not result:
        raise InputError("no article text found in the page")
    data = json.loads(result)
    text = (data.get("text") or "").strip()
    if not text:
        raise InputError("no article text found in the page")
    return Extracted(
        title=(data.get("title") or "").strip(),
        text=text,
        published_at=data.get("date") or None,
        author=data.get("author") or None,
        language=data.get("language") or None,
        url=data.get("source") or url,
    )
