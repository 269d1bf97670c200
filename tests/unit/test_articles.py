"""What a poll's article pages came to: the note on unusable ones, and when it is a failure."""

from __future__ import annotations

from ingest.articles import Fate, Taken, none_usable, pages_note, unusable_reason
from ingest.entries import Candidate
from services.errors import FetchError, InputError


def _page(n: int) -> Candidate:
    return Candidate(f"https://news.example/{n}", f"https://news.example/{n}")


LINKLESS = Candidate(None, "urn:drawdown:entry:1:guid:g")


def test_the_note_counts_unusable_pages_among_article_pages_and_names_the_first() -> None:
    candidates = [_page(1), _page(2), LINKLESS, _page(3)]
    taken = [
        Taken(Fate.PUBLISHED),
        Taken(Fate.DROPPED, "binary: binary content (PNG), served as text/html (u2)"),
        Taken(Fate.PUBLISHED),  # the entry's own text: no page to count
        Taken(Fate.DROPPED, "extract took over 10 s (u3)"),
    ]
    assert pages_note(candidates, taken) == (
        "2 of 3 article pages unusable; first: binary: binary content (PNG), served as "
        "text/html (u2)"
    )
    assert not none_usable(taken)  # some published: the source works


def test_every_page_usable_or_retried_later_leaves_no_note() -> None:
    assert pages_note([_page(1), _page(2)], [Taken(Fate.PUBLISHED), Taken(Fate.RETRY)]) is None
    assert not none_usable([Taken(Fate.RETRY), Taken(Fate.RETRY)])


def test_nothing_published_because_of_the_pages_is_a_failure() -> None:
    assert none_usable([Taken(Fate.DROPPED, "404"), Taken(Fate.RETRY)])
    assert none_usable([Taken(Fate.DROPPED, "404"), Taken(Fate.DROPPED)])
    # a page unusable, the feed's own text published instead: no failure, only the note
    assert not none_usable([Taken(Fate.PUBLISHED, "404"), Taken(Fate.DROPPED, "404")])
    assert not none_usable([Taken(Fate.DROPPED)])  # no text anywhere, not the page's fault


def test_the_reason_names_the_page_with_its_password_masked() -> None:
    url = "https://reader:hunter2@news.example/a"
    extracted = unusable_reason(url, InputError("extract took over 10 s"))
    assert extracted == "extract took over 10 s (https://reader:***@news.example/a)"
    fetched = unusable_reason(
        url, FetchError(url, "binary", "binary content (PNG), served as text/html")
    )
    assert "hunter2" not in fetched
    assert fetched.count("news.example/a") == 1
