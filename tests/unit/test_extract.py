"""ingest.extract: article text and metadata of a page, with trafilatura."""

from __future__ import annotations

import pytest

from ingest.extract import extract
from services.errors import InputError

_BODY = "US forces left the base at dawn and the convoy drove north to the border. " * 8
PAGE = (
    "<html><head><title>Convoy leaves</title></head><body><article><h1>Convoy leaves</h1>"
    f"<p>Updated on March 5, 2024, 10:00</p><p>{_BODY}</p></article></body></html>"
)


def test_a_page_gives_its_text_and_title() -> None:
    page = extract(PAGE, "https://news.example/a")
    assert page.title == "Convoy leaves"
    assert "the convoy drove north" in page.text


def test_the_date_is_searched_for_in_the_text_when_the_feed_gives_none() -> None:
    assert extract(PAGE).published_at == "2024-03-05"


def test_the_date_is_taken_only_from_markup_when_the_feed_gives_one() -> None:
    # The feed entry's date stands; searching the text for another costs CPU for nothing.
    assert extract(PAGE, dated=True).published_at is None
    marked = PAGE.replace(
        "<head>", '<head><meta property="article:published_time" content="2024-03-04">'
    )
    assert extract(marked, dated=True).published_at == "2024-03-04"


def test_a_page_without_an_article_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no article text"):
        extract("<html><head><title>Empty</title></head><body></body></html>")
