"""processor.dedup: content hash and canonical URL, the two exact deduplication keys."""

from __future__ import annotations

import pytest

from processor.analyze import analyze
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


@pytest.mark.parametrize(
    "variant",
    [
        "https://example.com/news/qasrak-base/amp",
        "https://example.com/news/qasrak-base/amp/",
        "https://example.com/amp/news/qasrak-base",
        "https://example.com/news/amp/qasrak-base",
        "https://example.com/news/qasrak-base?amp=1",
        "https://example.com/news/qasrak-base?amp=true",
        "https://example.com/news/qasrak-base?outputType=amp",
        "https://example.com/news/qasrak-base.amp",
        "https://amp.example.com/news/qasrak-base",
    ],
)
def test_canonical_url_folds_amp_editions_into_the_page(variant: str) -> None:
    assert canonical_url(variant) == "https://example.com/news/qasrak-base"


def test_canonical_url_drops_an_amp_extension_before_the_real_one() -> None:
    assert (
        canonical_url("https://example.com/a/index.amp.html") == "https://example.com/a/index.html"
    )


def test_canonical_url_keeps_other_parameters_next_to_amp_ones() -> None:
    # "?amp=1" first: courlan reads "&amp" elsewhere as an HTML-escaped "&", as feeds write it.
    url = "https://example.com/story?amp=1&id=7&outputType=amp"
    assert canonical_url(url) == "https://example.com/story?id=7"


def test_canonical_url_keeps_output_types_other_than_amp() -> None:
    url = "https://example.com/story?outputType=print"
    assert canonical_url(url) == "https://example.com/story?outputType=print"


@pytest.mark.parametrize(
    "variant",
    [
        "https://m.example.com/news/1",
        "https://mobile.example.com/news/1",
        "https://www.example.com/news/1",
        "https://www.m.example.com/news/1",
        "https://WWW.Example.com/news/1",
    ],
)
def test_canonical_url_folds_mobile_and_www_hosts_into_the_bare_domain(variant: str) -> None:
    assert canonical_url(variant) == "https://example.com/news/1"


def test_canonical_url_strips_edition_labels_before_a_multi_label_suffix() -> None:
    assert canonical_url("https://m.bbc.co.uk/news/1") == "https://bbc.co.uk/news/1"
    assert canonical_url("https://www.bbc.co.uk/news/1") == "https://bbc.co.uk/news/1"


@pytest.mark.parametrize(
    "url", ["https://m.com/a", "https://m.co.uk/a", "https://news.example.com/a"]
)
def test_canonical_url_keeps_a_host_whose_first_label_is_its_name(url: str) -> None:
    assert canonical_url(url) == url


def test_canonical_url_keeps_ip_addresses_and_local_names() -> None:
    assert canonical_url("http://127.0.0.1:8080/a/") == "http://127.0.0.1:8080/a"
    assert canonical_url("http://localhost/a") == "http://localhost/a"
    assert canonical_url("http://[::1]:8080/a") == "http://[::1]:8080/a"


def test_canonical_url_removes_the_trailing_slash_but_not_the_root() -> None:
    assert canonical_url("https://example.com/news/1/") == "https://example.com/news/1"
    assert canonical_url("https://example.com/news/1//") == "https://example.com/news/1"
    assert canonical_url("https://example.com/") == "https://example.com/"
    assert canonical_url("https://example.com/?id=3") == "https://example.com/?id=3"


def test_canonical_url_decodes_unreserved_escapes_and_uppercases_the_rest() -> None:
    assert canonical_url("https://example.com/%7Euser/a%2db") == "https://example.com/~user/a-b"
    assert canonical_url("https://example.com/a%2fb") == "https://example.com/a%2Fb"
    assert canonical_url("https://example.com/%d0%bf") == "https://example.com/%D0%BF"
    assert canonical_url("https://example.com/п") == "https://example.com/%D0%BF"


def test_canonical_url_normalizes_escapes_in_the_query() -> None:
    first = canonical_url("https://example.com/a?q=%41%2f")
    assert first == canonical_url("https://example.com/a?q=A%2F") == "https://example.com/a?q=A%2F"


def test_canonical_url_sorts_the_query_by_name() -> None:
    assert canonical_url("https://example.com/a?b=2&a=1") == "https://example.com/a?a=1&b=2"


def test_canonical_url_rejects_an_invalid_port() -> None:
    assert canonical_url("https://example.com:port/a") is None


def test_canonical_url_is_the_same_for_every_edition_of_one_page() -> None:
    editions = [
        "https://www.example.com/world/2026/02/23/qasrak/",
        "https://m.example.com/world/2026/02/23/qasrak/amp?utm_source=tg#top",
        "https://amp.example.com/world/2026/02/23/qasrak.amp",
        "HTTPS://Example.com:443/world/2026/02/23/%71asrak?amp=1",
    ]
    assert {canonical_url(url) for url in editions} == {
        "https://example.com/world/2026/02/23/qasrak"
    }


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://example.com/news/1", "https://example.com/news/2"),
        ("https://example.com/news/1", "https://example.com/news/1/comments"),
        ("https://example.com/a/b", "https://example.com/b/a"),
        ("https://example.com/article?id=1", "https://example.com/article?id=2"),
        ("https://example.com/article?id=1", "https://example.com/article"),
        ("https://example.com/article?id=1&page=2", "https://example.com/article?id=1"),
        ("https://example.com/News/1", "https://example.com/news/1"),
        ("https://example.com/a%2Fb", "https://example.com/a/b"),
        ("https://example.com/ampere", "https://example.com/"),
        ("https://example.com/news/champ", "https://example.com/news/ch"),
        ("https://news.example.com/1", "https://example.com/1"),
        ("https://example.com/1", "https://example.org/1"),
        ("https://example.com/1", "https://example.com:8443/1"),
    ],
)
def test_canonical_url_keeps_different_pages_apart(first: str, second: str) -> None:
    assert canonical_url(first) != canonical_url(second)


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("US forces left Qasrak", "US forces left Qasrak.\nThe base is empty."),
        ("Withdrawal: day two", "The convoy left Ain al-Asad at dawn."),
        ("", "قوات أمريكية تنسحب من قاعدة الشدادي"),
    ],
)
def test_an_analysis_hashes_the_text_without_its_title(title: str, text: str) -> None:
    # The reader hashes the words it already split; the hash is the text's own.
    assert analyze(title, text).content_hash == content_hash(text)
