"""processor.dedup: content hash and canonical URL, the two exact deduplication keys."""

from __future__ import annotations

import pytest

from processor.dedup import canonical_url, content_hash


def test_content_hash_is_a_sha256_hex_digest() -> None:
    digest = content_hash("US forces left Qasrak.")
    assert len(digest) == 64
    assert set(digest) <= set("0123456789abcdef")


def test_content_hash_ignores_case() -> None:
    assert content_hash("US Forces Left QASRAK") == content_hash("us forces left qasrak")


def test_content_hash_ignores_whitespace() -> None:
    assert content_hash("US forces\n\n left   Qasrak") == content_hash("US forces left Qasrak")


def test_content_hash_ignores_punctuation() -> None:
    assert content_hash("US forces left Qasrak.") == content_hash("US forces, left Qasrak!")
    assert content_hash("«قسرك»") == content_hash("قسرك")


def test_content_hash_ignores_zwnj_and_diacritics() -> None:
    assert content_hash("پایگاه عین\u200cالاسد") == content_hash("پایگاه عینالاسد")
    assert content_hash("أَخْلَتْ القـوات") == content_hash("اخلت القوات")
    assert content_hash("Aïn al-Asad") == content_hash("Ain al-Asad")


def test_content_hash_ignores_letter_variants() -> None:
    assert content_hash("قسرک سوریه") == content_hash("قسرك سوريه")
    assert content_hash("Зелёная деревня") == content_hash("Зеленая деревня")


def test_content_hash_differs_for_different_text() -> None:
    assert content_hash("US forces left Qasrak.") != content_hash("US forces left Rmelan.")
    assert content_hash("withdrawal") != content_hash("withdrawals")


def test_content_hash_keeps_word_boundaries() -> None:
    assert content_hash("Ain al Asad") != content_hash("Ainal Asad")


def test_canonical_url_drops_the_fragment() -> None:
    assert canonical_url("https://example.com/news/1#comments") == "https://example.com/news/1"


@pytest.mark.parametrize(
    "tracker", ["utm_source=x", "utm_medium=social", "utm_campaign=spring", "fbclid=IwAR0abc"]
)
def test_canonical_url_drops_tracking_parameters(tracker: str) -> None:
    url = f"https://example.com/news/1?id=3&{tracker}"
    assert canonical_url(url) == "https://example.com/news/1?id=3"


def test_canonical_url_with_only_trackers_has_no_query() -> None:
    assert canonical_url("https://example.com/?utm_source=a&fbclid=b") == "https://example.com/"


def test_canonical_url_drops_the_default_port() -> None:
    assert canonical_url("https://example.com:443/a") == "https://example.com/a"
    assert canonical_url("http://example.com:80/a") == "http://example.com/a"


def test_canonical_url_keeps_a_non_default_port() -> None:
    assert canonical_url("https://example.com:8443/a") == "https://example.com:8443/a"


def test_canonical_url_lowercases_scheme_and_host_but_not_the_path() -> None:
    assert canonical_url("HTTPS://Example.COM/News/Item") == "https://example.com/News/Item"


def test_canonical_url_gives_an_empty_path_a_slash() -> None:
    assert canonical_url("http://example.com") == "http://example.com/"


def test_canonical_url_is_the_same_for_equivalent_urls() -> None:
    first = canonical_url("https://Example.com:443/a/b?id=3&utm_source=x#top")
    second = canonical_url(" https://example.com/a/b?id=3 ")
    assert first == second == "https://example.com/a/b?id=3"


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "   ",
        "ftp://example.com/file",
        "mailto:desk@example.com",
        "javascript:alert(1)",
        "example.com/no-scheme",
        "https://",
    ],
)
def test_canonical_url_is_none_for_empty_or_non_http_urls(url: str | None) -> None:
    assert canonical_url(url) is None
